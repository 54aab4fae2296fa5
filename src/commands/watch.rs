use crate::cli::NamesArgs;
use crate::config::Mode;
use crate::engine::{Needs, Session};
use crate::events::Event;
use crate::exit_status::ExitStatus;
use crate::project::ProjectLocator;
use crate::state::StateReader;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, args: &NamesArgs, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    let mut project = project.load(&reporter)?;
    // The mode `ohdev up` deployed: rendering another one would switch modes as a side effect.
    let mode = crate::deploy::mode::recorded(&StateReader::new(&project.config.root, &reporter), &project.config);
    project.config = project.config.with_mode(mode);
    let subset = crate::watch::validate(&project.config, &args.names).await?;
    crate::forward::check_local_ports(&project.config)?;
    if let Some(mode) = project.config.describe_mode() {
        let other = match project.config.mode {
            Mode::Dev => "as `ohdev up --watch` deployed it; `ohdev up` deploys production",
            Mode::Production => {
                "as `ohdev up` deployed it, so edits are rebuilt; `ohdev up --watch` switches to dev mode"
            }
        };
        reporter.emit(Event::info(format!("{mode}, {other}")));
    }
    let needs = Needs::new().existing_cluster().docker().lock();
    let session = Session::open(project.config, project.kind_cluster, needs, reporter).await?.with_subset(subset);
    let forwards = crate::forward::Forwards::start(&session.config, session.kubectl(), &session.reporter);
    let watched = crate::watch::run(session).await;
    drop(forwards);
    watched?;
    Ok(ExitStatus::Success)
}
