use crate::cli::RebuildArgs;
use crate::engine::{self, Needs, Session};
use crate::exit_status::ExitStatus;
use crate::project::ProjectLocator;
use crate::state::StateReader;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, args: &RebuildArgs, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    let mut project = project.load(&reporter)?;
    // The mode `ohdev up` deployed: rendering another one would switch modes as a side effect.
    let mode = crate::deploy::mode::recorded(&StateReader::new(&project.config.root, &reporter), &project.config);
    project.config = project.config.with_mode(mode);
    // An unknown image name, a missing context or Dockerfile, a broken manifest: bad input, found
    // before any tool is looked for and before anything is built or loaded.
    let subset = engine::rebuild::validate(&project.config, &args.names).await?;
    let needs = Needs::new().existing_cluster().docker().lock();
    let session = Session::open(project.config, project.kind_cluster, needs, reporter).await?.with_subset(subset);
    let timeout = args.timeout.unwrap_or(session.config.deploy_timeout);
    engine::rebuild::rebuild(&session, args.force, timeout).await?;
    Ok(ExitStatus::Success)
}
