use crate::cli::BuildArgs;
use crate::engine::{self, Needs, Session};
use crate::events::Event;
use crate::exit_status::ExitStatus;
use crate::image;
use crate::project::ProjectLocator;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, args: &BuildArgs, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    let config = project.load_config()?;
    let names = engine::build::validate(&config, &args.images)?;
    let session = Session::open(config, None, Needs::new().docker().lock(), reporter).await?;
    let results = engine::build::build(&session, &names, args.force).await?;
    let tags = results.iter().filter(|result| result.image_id().is_some()).map(|result| result.tag.clone()).collect();
    session.reporter.emit(Event::Built { tags });
    image::fail_if_any_failed(&results)?;
    Ok(ExitStatus::Success)
}
