//! `ohdev build`: build images without a cluster, and record what was built.

use super::Session;
use crate::error::Error;
use crate::image::load;
use crate::image::{self, BuildResult};
use crate::registry;

/// Everything checked before the Session opens: the named images exist, their contexts and
/// Dockerfiles are there. Returns the images to build (with their dependencies), in order.
pub fn validate(config: &crate::config::Config, names: &[String]) -> Result<Vec<String>, Error> {
    let selected = image::select(config, names)?;
    image::validate(config, &selected)?;
    Ok(selected)
}

/// Build, and with `registry:` push too (starting the registry if needed): a build is then
/// complete without a cluster. With `--target`, push to the target's registry instead (and run
/// no registry container).
pub async fn build(session: &Session, names: &[String], force: bool) -> Result<Vec<BuildResult>, Error> {
    let lock = session.lock();
    // What is on the registry's port, and its image: input, checked before anything is built.
    let registry = match session.remote() {
        Some(_) => None,
        None => registry::check(&session.config, session.docker(), None).await?,
    };
    let prepared = image::prepare(&session.config, names, lock.dir(), &session.reporter).await?;
    let builder = image::choose_builder(session.buildkit(), &session.reporter);
    let results = image::build_all(session.docker(), &prepared, builder, force, &session.reporter).await;
    load::record_built(&results, lock)?;
    if let Some(checked) = registry {
        let started = registry::start(session.docker(), &checked, &session.reporter).await?;
        let target = registry::Target::configured(&started.config).authenticated(false).await?;
        registry::push_all(session.docker(), &target, &results, lock, &session.reporter).await?;
    } else if let Some(remote) = session.remote() {
        let target = registry::Target::remote(&remote.registry).logged_in(true).await?;
        registry::push_all(session.docker(), &target, &results, lock, &session.reporter).await?;
    }
    Ok(results)
}
