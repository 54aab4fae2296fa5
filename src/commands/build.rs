use std::time::Duration;

use crate::image::{images, load};
use crate::cli::BuildArgs;
use crate::config::Config;
use crate::error::Error;
use crate::state::StateLock;
use crate::tools::docker;
use crate::ui::Reporter;

pub async fn run(config: &Config, args: &BuildArgs, reporter: &Reporter) -> anyhow::Result<()> {
    let names = images::select(config, &args.images)?;
    images::validate(config, &names)?;
    let lock = StateLock::acquire(&config.root, Duration::from_secs(3))?;
    // Talking to Docker and walking the contexts do not depend on each other: do both at once.
    let connect = async {
        let docker = docker::connect().await?;
        let info = docker::engine_info(&docker).await?;
        Ok::<_, Error>((docker, info))
    };
    // Prebuild commands change files: they run only once Docker is known to answer.
    let has_prebuild = names.iter().any(|name| !config.images[name].prebuild.is_empty());
    let (docker, info, prepared) = if has_prebuild {
        let (docker, info) = connect.await?;
        (docker, info, images::prepare(config, &names, lock.dir(), reporter).await?)
    } else {
        let (connected, prepared) = tokio::join!(connect, images::prepare(config, &names, lock.dir(), reporter));
        let (docker, info) = connected?;
        (docker, info, prepared?)
    };
    let builder = images::choose_builder(docker::supports_buildkit(&info), reporter);
    let results = images::build_all(&docker, &prepared, builder, args.force, reporter).await;
    load::record_built(&results, &lock)?;
    if !reporter.is_json() {
        for result in &results {
            if result.image_id().is_some() {
                println!("{}", result.tag);
            }
        }
    }
    fail_if_any_failed(&results)
}

pub fn fail_if_any_failed(results: &[images::BuildResult]) -> anyhow::Result<()> {
    let failed: Vec<&str> = results
        .iter()
        .filter(|result| result.outcome == images::Outcome::Failed)
        .map(|result| result.name.as_str())
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Error::work(
        format!("image(s) failed to build: {}; nothing that depends on them was loaded", failed.join(", ")),
        Some(format!("fix the failing step shown above, then `ohdev build {}`", failed.join(" "))),
    )
    .into())
}
