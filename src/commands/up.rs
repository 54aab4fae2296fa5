use std::time::Duration;

use super::build::{build_images, fail_if_any_failed};
use super::Project;
use crate::build::{images, load};
use crate::cli::UpArgs;
use crate::cluster;
use crate::error::Error;
use crate::events::Event;
use crate::state::StateLock;
use crate::tools::docker;
use crate::tools::kind::Kind;
use crate::tools::kubectl::Kubectl;
use crate::tools::Tool;
use crate::ui::Reporter;

pub async fn run(project: &Project, args: &UpArgs, reporter: &Reporter) -> anyhow::Result<()> {
    let config = &project.config;
    // Everything is validated and every prerequisite found before anything changes.
    let image_names = images::select(config, &[])?;
    images::validate(config, &image_names)?;
    let kind = Kind::locate()?;
    let kubectl = Kubectl::locate(&config.cluster.context())?;
    Tool::Docker.locate()?;
    let docker = docker::connect().await?;
    let engine = docker::engine_info(&docker).await?;
    let lock = StateLock::acquire(&config.root, Duration::from_secs(3))?;

    let busy = cluster::busy_ports(&project.kind_cluster);
    if !busy.is_empty() {
        let held_by_cluster = !docker::kind_node_containers(&docker, &config.cluster.name).await?.is_empty();
        if !held_by_cluster || args.recreate {
            let mapping = &busy[0];
            return Err(Error::PortInUse {
                port: mapping.host_port,
                address: mapping.listen_address.clone(),
                file: project.kind_cluster.path.clone(),
            }
            .into());
        }
    }

    // The cluster and the images do not depend on each other: create one while building the other.
    let (cluster_outcome, build_outcome) = tokio::join!(
        cluster::ensure(config, &project.kind_cluster, &kind, &lock, reporter, args.recreate),
        build_images(config, &image_names, &docker, docker::supports_buildkit(&engine), args.force, &lock, reporter),
    );
    cluster_outcome?;
    let results = build_outcome?;
    load::load_all(&kind, &kubectl, &config.cluster.name, &results, args.force, &lock, reporter).await?;
    fail_if_any_failed(&results)?;

    let nodes = kubectl.nodes().await?;
    let not_ready: Vec<&str> = nodes.iter().filter(|node| !node.ready).map(|node| node.name.as_str()).collect();
    if !not_ready.is_empty() {
        reporter.emit(Event::warn(
            format!("node(s) not Ready yet: {}", not_ready.join(", ")),
            Some("`ohdev status` shows them again; kind nodes usually become Ready within a minute".into()),
        ));
    }
    reporter.emit(Event::Ready {
        urls: config.urls.clone(),
        next: vec![
            format!("kubectl --context {} get pods -A", config.cluster.context()),
            "ohdev status".to_string(),
        ],
    });
    Ok(())
}
