use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use super::Project;
use crate::cli::DownArgs;
use crate::cluster;
use crate::error::Error;
use crate::events::Event;
use crate::state::StateLock;
use crate::tools::kind::Kind;
use crate::ui::Reporter;

pub async fn run(project: &Project, args: &DownArgs, reporter: &Reporter) -> anyhow::Result<()> {
    let config = &project.config;
    let kind = Kind::locate()?;
    let lock = StateLock::acquire(&config.root, Duration::from_secs(3))?;
    let name = &config.cluster.name;
    if !kind.clusters().await?.contains(name) {
        reporter.emit(Event::info(format!("kind cluster \"{name}\" does not exist; nothing to delete")));
        forget_cluster(&lock, name)?;
        return Ok(());
    }
    if !args.yes && std::io::stdin().is_terminal() && !confirm(name)? {
        return Err(Error::Input {
            message: "not deleted".into(),
            fix: "answer y, or pass --yes".into(),
        }
        .into());
    }
    cluster::delete(&kind, name, reporter).await?;
    forget_cluster(&lock, name)?;
    Ok(())
}

fn forget_cluster(lock: &StateLock, name: &str) -> Result<(), Error> {
    let mut state = lock.load();
    if state.cluster.as_ref().is_some_and(|record| record.name == name) {
        state.cluster = None;
        lock.save(&state)?;
    }
    Ok(())
}

fn confirm(name: &str) -> Result<bool, Error> {
    eprint!("Delete kind cluster \"{name}\" and everything running in it? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(|error| Error::Input {
        message: format!("cannot read the answer: {error}"),
        fix: "pass --yes".into(),
    })?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
