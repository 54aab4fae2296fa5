//! Shipping built images to the cluster: pushed to a registry when one is in use (`registry:` in
//! ohdev.yaml, or advertised by the cluster), else `kind load`ed. Which one is decided once per
//! session: the watch loop ships on every change and must not probe and re-wire each time.

use super::Session;
use crate::error::Error;
use crate::image::load;
use crate::image::BuildResult;
use crate::registry::{self, push::content_tag, Started, Target};

/// The registry images go through in this session, if any. With `registry:`, ohdev's registry is
/// checked, started if needed and wired into the cluster (`started` when the caller already
/// started it); without, the cluster's advertisement (KEP-1755) is read.
pub async fn target(session: &Session, started: Option<&Started>) -> Result<Option<Target>, Error> {
    session
        .registry_target
        .get_or_try_init(|| async {
            let docker = session.docker();
            let config = &session.config;
            if let Some(remote) = session.remote() {
                // The target's registry, as written: no container, no wiring, no KEP-1755 ConfigMap.
                return Ok(Some(Target::remote(&remote.registry).logged_in(false).await?));
            }
            if config.registry.is_none() {
                return match registry::discover(session.kubectl()).await? {
                    Some(target) => Ok(Some(target.authenticated(false).await?)),
                    None => Ok(None),
                };
            }
            let started = match started {
                Some(started) => started.clone(),
                None => {
                    let kind = session.kind_cluster_if_loaded().map(|cluster| (session.kind(), cluster));
                    let Some(checked) = registry::check(config, docker, kind).await? else { return Ok(None) };
                    registry::start(docker, &checked, &session.reporter).await?
                }
            };
            registry::wire(
                docker,
                session.kind(),
                session.kubectl(),
                &config.cluster.name,
                &started,
                &session.reporter,
            )
            .await?;
            Ok(Some(Target::configured(&started.config).authenticated(false).await?))
        })
        .await
        .cloned()
}

/// Push to the registry in use, or `kind load`: either way every built image ends up where the
/// nodes can get it, and the state says where.
pub async fn ship(
    session: &Session,
    started: Option<&Started>,
    results: &[BuildResult],
    force: bool,
) -> Result<Option<Target>, Error> {
    let target = target(session, started).await?;
    match &target {
        Some(target) => {
            registry::push_all(session.docker(), target, results, session.lock(), &session.reporter).await?;
        }
        None => {
            load::load_all(
                session.kind(),
                session.kubectl(),
                &session.config.cluster.name,
                results,
                force,
                session.lock(),
                &session.reporter,
            )
            .await?;
        }
    }
    Ok(target)
}

/// The reference manifests name for a built image: the registry's when one is in use.
pub fn reference(name: &str, tag: &str, target: Option<&Target>) -> String {
    match target {
        Some(target) => target.runtime_reference(name, content_tag(tag)),
        None => tag.to_string(),
    }
}
