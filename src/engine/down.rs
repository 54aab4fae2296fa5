//! `ohdev down`: delete the kind cluster, or (`--keep-cluster`) only what ohdev applied to it, in
//! reverse dependency order. Never anything ohdev did not create.

use std::time::Duration;

use super::Session;
use crate::cluster;
use crate::deploy::ledger::Ledger;
use crate::deploy::record;
use crate::error::Error;
use crate::events::{Event, StepState};

/// `confirm` asks the person at the terminal (or says yes for `--yes` and non-interactive runs).
pub async fn down(
    session: &Session,
    keep_cluster: bool,
    confirm: impl FnOnce(&str) -> Result<bool, Error>,
) -> Result<(), Error> {
    let name = &session.config.cluster.name;
    let reporter = &session.reporter;
    let key = session.config.state_key();
    if let Some(target) = session.remote() {
        // A remote target's cluster is never deleted: only what ohdev applied there, recorded
        // under this target's key (never a namespace it did not create: those are not recorded).
        let question = format!(
            "Delete everything ohdev applied to target `{}` (context {}, namespace {})?",
            target.name, target.context, session.config.namespace
        );
        if !confirm(&question)? {
            return Err(Error::Input { message: "not deleted".into(), fix: "answer y, or pass --yes".into() });
        }
        return teardown(session, &key, "the cluster is not ohdev's: it keeps running").await;
    }
    if !session.kind().clusters().await?.contains(name) {
        reporter.emit(Event::info(format!("kind cluster \"{name}\" does not exist; nothing to delete")));
        return forget(session, true);
    }
    let question = if keep_cluster {
        format!("Delete everything ohdev applied to kind cluster \"{name}\"?")
    } else {
        format!("Delete kind cluster \"{name}\" and everything running in it?")
    };
    if !confirm(&question)? {
        return Err(Error::Input { message: "not deleted".into(), fix: "answer y, or pass --yes".into() });
    }
    if keep_cluster {
        teardown(session, &key, "the cluster keeps running").await?;
        registry_stays(session);
        return forget(session, false);
    }
    cluster::delete(session.kind(), name, reporter).await?;
    registry_stays(session);
    forget(session, true)
}

/// Delete what the ledger under `key` records, in reverse dependency order.
async fn teardown(session: &Session, key: &str, after: &str) -> Result<(), Error> {
    let lock = session.lock();
    let reporter = &session.reporter;
    let order = record::teardown_order(&Ledger::recorded(lock, key));
    reporter.emit(Event::step(
        "teardown",
        StepState::Started,
        format!("deleting {} object(s) ohdev applied", order.len()),
        None,
    ));
    for object in &order {
        session.kubectl().invocation(object.delete_args()).timeout(Duration::from_secs(120)).run().await?;
        // Forget each as it goes: an interrupted teardown resumes where it stopped.
        Ledger::forget(lock, key, std::slice::from_ref(object))?;
    }
    reporter.emit(Event::step(
        "teardown",
        StepState::Done,
        format!("deleted {} object(s); {after}", order.len()),
        None,
    ));
    Ok(())
}

/// ohdev's registry outlives the cluster (it may serve other clusters, and keeps the layers that
/// make the next `up` fast): say so, and how to remove it.
fn registry_stays(session: &Session) {
    if let Some(registry) = session.config.registry.as_ref().filter(|registry| registry.create) {
        let container = registry.container_name();
        session.reporter.emit(Event::Message {
            level: crate::events::Level::Info,
            message: format!(
                "the registry at {} (container {container}) keeps running: it may serve other clusters, and its layers make the next `ohdev up` fast",
                registry.host
            ),
            hint: Some(format!("`docker rm -f {container}` removes it (and every image pushed to it)")),
        });
    }
}

fn forget(session: &Session, cluster_too: bool) -> Result<(), Error> {
    let name = &session.config.cluster.name;
    let lock = session.lock();
    if cluster_too {
        lock.update(|state| {
            if state.cluster.as_ref().is_some_and(|record| &record.name == name) {
                state.cluster = None;
            }
        })?;
    }
    Ledger::clear(lock, &session.config.state_key())
}
