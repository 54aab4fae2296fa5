//! `ohdev logs`: resolve the flags (validated before anything runs), then stream.
//! Needs ohdev.yaml for the cluster name (→ kubectl context) and image names; not Docker.

use std::io::IsTerminal;

use crate::cli::LogsArgs;
use crate::engine::{self, Needs, Session};
use crate::exit_status::ExitStatus;
use crate::logs::LogsRequest;
use crate::project::ProjectLocator;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, args: &LogsArgs, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    let config = project.load_config()?;
    // Following is what a person at a terminal wants; a pipe wants what is there, then EOF.
    let follow = args.follow || (!args.no_follow && std::io::stdout().is_terminal());
    let request = LogsRequest::new(
        args.targets.clone(),
        follow,
        args.since.clone(),
        args.tail,
        args.container.clone(),
        args.grep.clone(),
    )?;
    let session = Session::open(config, None, Needs::new().kubectl(), reporter).await?;
    engine::logs::logs(&session, &request).await?;
    Ok(ExitStatus::Success)
}
