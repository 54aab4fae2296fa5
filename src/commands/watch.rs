use crate::engine::{Needs, Session};
use crate::exit_status::ExitStatus;
use crate::project::ProjectLocator;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    let project = project.load(&reporter)?;
    crate::watch::validate(&project.config).await?;
    crate::forward::check_local_ports(&project.config)?;
    let needs = Needs::new().existing_cluster().docker().lock();
    let session = Session::open(project.config, Some(project.kind_cluster), needs, reporter).await?;
    let forwards = crate::forward::Forwards::start(&session.config, session.kubectl(), &session.reporter);
    let watched = crate::watch::run(session).await;
    drop(forwards);
    watched?;
    Ok(ExitStatus::Success)
}
