use crate::cli::WatchArgs;
use crate::config::Mode;
use crate::engine::{Needs, Session};
use crate::events::Event;
use crate::exit_status::ExitStatus;
use crate::project::ProjectLocator;
use crate::state::StateReader;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, args: &WatchArgs, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    let mut project = project.load(&reporter)?;
    // The mode `ohdev up` deployed: rendering another one would switch modes as a side effect.
    let mode = crate::deploy::mode::recorded(&StateReader::new(&project.config.root, &reporter), &project.config);
    project.config = project.config.with_mode(mode);
    let subset = crate::watch::validate(&project.config, &args.names.names).await?;
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
    let images = crate::engine::subset::images(&project.config, subset.as_ref())?;
    let (mut dashboard, reporter) =
        crate::dashboard::start(args.ui.options(), &project.config, images.clone(), reporter).await;
    let needs = Needs::new().existing_cluster().docker().lock();
    let session = Session::open(project.config, project.kind_cluster, needs, reporter).await?.with_subset(subset);
    let forwards = crate::forward::Forwards::start(&session.config, session.kubectl(), &session.reporter);
    let rebuilds = dashboard.as_mut().and_then(|dashboard| {
        dashboard.follow(session.kubectl(), images);
        dashboard.take_rebuilds()
    });
    let watched = crate::watch::run(session, rebuilds).await;
    drop(forwards);
    drop(dashboard);
    watched?;
    Ok(ExitStatus::Success)
}
