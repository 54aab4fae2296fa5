use std::time::Duration;

use super::Project;
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
    let kind = Kind::locate()?;
    let kubectl = Kubectl::locate(&config.cluster.context())?;
    Tool::Docker.locate()?;
    let docker = docker::connect().await?;
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

    cluster::ensure(config, &project.kind_cluster, &kind, &lock, reporter, args.recreate).await?;
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
