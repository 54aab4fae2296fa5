use crate::engine::{self, Needs, Session};
use crate::exit_status::ExitStatus;
use crate::project::ProjectLocator;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    let project = project.load(&reporter)?;
    let needs = Needs::new().cluster_tools().docker_if_running();
    let session = Session::open(project.config, project.kind_cluster, needs, reporter).await?;
    engine::status::status(&session).await?;
    Ok(ExitStatus::Success)
}
