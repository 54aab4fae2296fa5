//! `ohdev logs`: resolve the flags (validated before anything runs), then stream.
//! Needs ohdev.yaml for the cluster name (→ kubectl context) and image names; not Docker.

use std::io::IsTerminal;

use crate::cli::LogsArgs;
use crate::config::Config;
use crate::logs::LogsRequest;
use crate::tools::kubectl::Kubectl;
use crate::ui::Reporter;

pub async fn run(config: &Config, args: &LogsArgs, reporter: &Reporter) -> anyhow::Result<()> {
    // Following is what a person at a terminal wants; a pipe wants what is there, then EOF.
    let follow = args.follow || (!args.no_follow && std::io::stdout().is_terminal());
    let request = LogsRequest::new(args.targets.clone(), follow, args.since.clone(), args.tail, args.container.clone(), args.grep.clone())?;
    let kubectl = Kubectl::locate(&config.cluster.context())?;
    let images: Vec<String> = config.images.keys().cloned().collect();
    crate::logs::run(&kubectl, &request, &images, reporter).await
}
