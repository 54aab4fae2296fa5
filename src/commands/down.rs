use std::io::{BufRead, IsTerminal, Write};

use crate::cli::DownArgs;
use crate::engine::{self, Needs, Session};
use crate::error::Error;
use crate::exit_status::ExitStatus;
use crate::project::ProjectLocator;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, args: &DownArgs, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    let project = project.load(&reporter)?;
    let session =
        Session::open(project.config, project.kind_cluster, Needs::new().cluster_tools().lock(), reporter).await?;
    // Ask only a person at a terminal; `--yes` and scripts go ahead.
    let interactive = !args.yes && std::io::stdin().is_terminal();
    engine::down::down(&session, args.keep_cluster, |question| if interactive { confirm(question) } else { Ok(true) })
        .await?;
    Ok(ExitStatus::Success)
}

fn confirm(question: &str) -> Result<bool, Error> {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(|error| Error::Input {
        message: format!("cannot read the answer: {error}"),
        fix: "pass --yes".into(),
    })?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
