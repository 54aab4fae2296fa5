use crate::cli::NamesArgs;
use crate::engine;
use crate::events::Event;
use crate::exit_status::ExitStatus;
use crate::project::ProjectLocator;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, args: &NamesArgs, reporter: &Reporter) -> anyhow::Result<ExitStatus> {
    let config = project.load_config()?;
    let rendered = engine::plan::plan_of(&config, &args.names).await?;
    for warning in &rendered.warnings {
        reporter.emit(Event::warn(warning.clone(), None));
    }
    reporter.emit(Event::Plan { objects: rendered.plan.entries() });
    Ok(ExitStatus::Success)
}
