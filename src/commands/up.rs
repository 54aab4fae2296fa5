use crate::cli::UpArgs;
use crate::engine::up::UpOptions;
use crate::engine::{self, Needs, Session};
use crate::exit_status::ExitStatus;
use crate::project::ProjectLocator;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, args: &UpArgs, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    let project = project.load(&reporter)?;
    let images = engine::up::validate(&project.config).await?;
    let needs = Needs::new().cluster_tools().docker().lock();
    let session = Session::open(project.config, Some(project.kind_cluster), needs, reporter).await?;
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
        let watched = crate::watch::run(session).await;
        drop(forwards);
        watched?;
    }
    Ok(ExitStatus::Success)
}
