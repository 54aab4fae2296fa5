use super::Project;
use crate::cluster;
use crate::events::Event;
use crate::tools::kind::Kind;
use crate::tools::kubectl::Kubectl;
use crate::ui::Reporter;

pub async fn run(project: &Project, reporter: &Reporter) -> anyhow::Result<()> {
    let config = &project.config;
    let kind = Kind::locate()?;
    let kubectl = Kubectl::locate(&config.cluster.context())?;
    let name = config.cluster.name.clone();
    let exists = kind.clusters().await?.contains(&name);
    let nodes = if exists { kubectl.nodes().await? } else { Vec::new() };
    let drift = crate::state::read(&config.root)
        .cluster
        .filter(|record| record.name == name && exists)
        .map(|record| cluster::diff(&record.config_text, &project.kind_cluster.text));
    reporter.emit(Event::ClusterStatus {
        name,
        exists,
        context: config.cluster.context(),
        nodes,
        drift,
    });
    Ok(())
}
