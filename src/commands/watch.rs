use crate::cli::NamesArgs;
use crate::engine::{Needs, Session};
use crate::exit_status::ExitStatus;
use crate::project::ProjectLocator;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, args: &NamesArgs, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    let project = project.load(&reporter)?;
    let subset = crate::watch::validate(&project.config, &args.names).await?;
    let needs = Needs::new().existing_cluster().docker().lock();
    let session = Session::open(project.config, Some(project.kind_cluster), needs, reporter).await?.with_subset(subset);
    crate::watch::run(session).await?;
    Ok(ExitStatus::Success)
}
