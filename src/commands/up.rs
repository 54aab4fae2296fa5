use crate::cli::UpArgs;
use crate::config::Mode;
use crate::engine::up::UpOptions;
use crate::engine::{self, Needs, Session};
use crate::error::Error;
use crate::exit_status::ExitStatus;
use crate::project::ProjectLocator;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, args: &UpArgs, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    let mut project = project.load(&reporter)?;
    project.config = project.config.with_mode(mode_of(args));
    if args.prune && !args.names.is_empty() {
        return Err(Error::Input {
            message: format!(
                "`--prune` deletes what ohdev applied that is no longer in the manifests, but `ohdev up {}` works on part of the environment only",
                args.names.join(" ")
            ),
            fix: "run `ohdev up --prune` without names, or leave out `--prune`".to_string(),
        }
        .into());
    }
    let (images, subset) = engine::up::validate(&project.config, &args.names).await?;
    // The dashboard starts before the work, so the page shows `up`'s builds and rollout too.
    let (mut dashboard, reporter) = match args.watch {
        true => crate::dashboard::start(args.ui.options(), &project.config, images.clone(), reporter).await,
        false => (None, reporter),
    };
    let needs = Needs::new().cluster_tools().docker().lock();
    let session = Session::open(project.config, project.kind_cluster, needs, reporter).await?.with_subset(subset);
    let options = UpOptions {
        recreate: args.recreate,
        force: args.force,
        prune: args.prune,
        replace_immutable: args.replace_immutable,
        timeout: args.timeout,
        forward: args.watch,
    };
    engine::up::up(&session, &images, &options).await?;
    if args.watch {
        // The cluster now exists: the same session (and lock) carries on watching, and the
        // environment is up: the forwards start (they stop when watching does).
        let forwards = crate::forward::Forwards::start(&session.config, session.kubectl(), &session.reporter);
        let rebuilds = dashboard.as_mut().and_then(|dashboard| {
            dashboard.follow(session.kubectl(), images.clone());
            dashboard.take_rebuilds()
        });
        let watched = crate::watch::run(session, rebuilds).await;
        drop(forwards);
        drop(dashboard);
        watched?;
    }
    Ok(ExitStatus::Success)
}

/// `--dev` / `--no-dev` when given (the last one wins), else dev mode exactly when watching: a
/// contributor who watches wants edits live, and a plain `up` deploys what would ship.
fn mode_of(args: &UpArgs) -> Mode {
    if args.dev || (args.watch && !args.no_dev) {
        Mode::Dev
    } else {
        Mode::Production
    }
}
