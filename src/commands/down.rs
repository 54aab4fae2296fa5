use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use super::Project;
use crate::cli::DownArgs;
use crate::cluster;
use crate::deploy::record;
use crate::error::Error;
use crate::events::{Event, StepState};
use crate::state::StateLock;
use crate::tools::kind::Kind;
use crate::tools::kubectl::Kubectl;
use crate::ui::Reporter;

pub async fn run(project: &Project, args: &DownArgs, reporter: &Reporter) -> anyhow::Result<()> {
    let config = &project.config;
    let kind = Kind::locate()?;
    let kubectl = Kubectl::locate(&config.cluster.context())?;
    let lock = StateLock::acquire(&config.root, Duration::from_secs(3))?;
    let name = &config.cluster.name;
    if !kind.clusters().await?.contains(name) {
        reporter.emit(Event::info(format!("kind cluster \"{name}\" does not exist; nothing to delete")));
        forget(&lock, name, true)?;
        return Ok(());
    }
    let question = if args.keep_cluster {
        format!("Delete everything ohdev applied to kind cluster \"{name}\"?")
    } else {
        format!("Delete kind cluster \"{name}\" and everything running in it?")
    };
    if !args.yes && std::io::stdin().is_terminal() && !confirm(&question)? {
        return Err(Error::Input {
            message: "not deleted".into(),
            fix: "answer y, or pass --yes".into(),
        }
        .into());
    }
    if args.keep_cluster {
        let applied: record::Applied = lock.load().section(record::STATE_KEY);
        let order = record::teardown_order(&applied);
        reporter.emit(Event::step("teardown", StepState::Started, format!("deleting {} object(s) ohdev applied", order.len()), None));
        for object in &order {
            kubectl.invocation(object.delete_args()).timeout(Duration::from_secs(120)).run().await?;
        }
        reporter.emit(Event::step("teardown", StepState::Done, format!("deleted {} object(s); the cluster keeps running", order.len()), None));
        forget(&lock, name, false)?;
        return Ok(());
    }
    cluster::delete(&kind, name, reporter).await?;
    forget(&lock, name, true)?;
    Ok(())
}

fn forget(lock: &StateLock, name: &str, cluster_too: bool) -> Result<(), Error> {
    let mut state = lock.load();
    if cluster_too && state.cluster.as_ref().is_some_and(|record| record.name == name) {
        state.cluster = None;
    }
    state.set_section(record::STATE_KEY, &record::Applied::default());
    lock.save(&state)
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
