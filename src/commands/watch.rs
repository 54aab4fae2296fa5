use crate::engine::{Needs, Session};
use crate::exit_status::ExitStatus;
use crate::project::ProjectLocator;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    let project = project.load(&reporter)?;
    crate::watch::validate(&project.config).await?;
    let needs = Needs::new().existing_cluster().docker().lock();
    let session = Session::open(project.config, Some(project.kind_cluster), needs, reporter).await?;
    crate::watch::run(session).await?;
    Ok(ExitStatus::Success)
}
