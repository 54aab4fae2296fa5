//! One function per subcommand: resolve the input (flags, ohdev.yaml, cluster.yaml: validated before
//! anything changes), open a `Session` declaring what the operation needs, run one engine operation,
//! and return the `ExitStatus`. Commands do not call each other; what they share lives in `engine/`.

mod build;
mod doctor;
mod down;
mod forward;
mod gc;
mod logs;
mod plan;
mod rebuild;
mod status;
mod up;
mod watch;

use clap::CommandFactory;

use crate::cli::{Cli, Command};
use crate::exit_status::ExitStatus;
use crate::project::ProjectLocator;
use crate::ui::Reporter;

pub async fn run(cli: Cli, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    let project = ProjectLocator::new(cli.project_dir.clone(), cli.config.clone(), cli.target.clone());
    match cli.command {
        Command::Up(args) => up::run(&project, &args, reporter).await,
        Command::Build(args) => build::run(&project, &args, reporter).await,
        Command::Rebuild(args) => rebuild::run(&project, &args, reporter).await,
        Command::Watch(args) => watch::run(&project, &args, reporter).await,
        Command::Plan(args) => plan::run(&project, &args, &reporter).await,
        Command::Down(args) => down::run(&project, &args, reporter).await,
        Command::Gc(args) => gc::run(&project, &args, reporter).await,
        Command::Status => status::run(&project, reporter).await,
        Command::Forward => forward::run(&project, reporter).await,
        Command::Doctor => Ok(doctor::run(&project, &reporter).await),
        Command::Logs(args) => logs::run(&project, &args, reporter).await,
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "ohdev", &mut std::io::stdout());
            Ok(ExitStatus::Success)
        }
    }
}
