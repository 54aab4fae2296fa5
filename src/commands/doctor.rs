use crate::config::kind_cluster;
use crate::exit_status::ExitStatus;
use crate::project::ProjectLocator;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, reporter: &Reporter) -> ExitStatus {
    let config = project.load_config();
    let kind_cluster = config.as_ref().ok().and_then(|config| kind_cluster::load(&config.cluster.config_path).ok());
    if crate::doctor::run(config.as_ref(), kind_cluster.as_ref(), reporter).await {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}
