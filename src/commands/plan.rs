use crate::cli::PlanArgs;
use crate::config::Mode;
use crate::engine;
use crate::events::Event;
use crate::exit_status::ExitStatus;
use crate::project::ProjectLocator;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, args: &PlanArgs, reporter: &Reporter) -> anyhow::Result<ExitStatus> {
    let config = project.load_config()?.with_mode(if args.dev { Mode::Dev } else { Mode::Production });
    if let Some(mode) = config.describe_mode() {
        let other = match config.mode {
            Mode::Dev => "`ohdev plan` shows production",
            Mode::Production => "`ohdev plan --dev` shows dev mode",
        };
        reporter.emit(Event::info(format!("{mode}; {other}")));
    }
    let rendered = engine::plan::plan_of(&config, &args.names).await?;
    for warning in &rendered.warnings {
        reporter.emit(Event::warn(warning.clone(), None));
    }
    reporter.emit(Event::Plan { objects: rendered.plan.entries() });
    Ok(ExitStatus::Success)
}
