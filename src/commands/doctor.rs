use super::ProjectLocator;
use crate::config::kind_cluster;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, reporter: &Reporter) -> u8 {
    let config = project.load_config();
    let kind_cluster = config.as_ref().ok().and_then(|config| kind_cluster::load(&config.cluster.config_path).ok());
    let healthy = crate::doctor::run(config.as_ref(), kind_cluster.as_ref(), reporter).await;
    if healthy {
        0
    } else {
        1
    }
}
