//! Port-forwards that survive restarts (`ports:` in ohdev.yaml).
//!
//! Each forward is a [`supervisor`] task: a ready pod of the target ([`pods`]), `kubectl
//! port-forward --address 127.0.0.1` to it through the exec seam, and when the pod is replaced or
//! kubectl exits, the same again after a [`backoff`]. Every change is an `Event::Forward` and is
//! written to `.ohdev/forwards.json` ([`record`]) for `ohdev status`. The forwards run while
//! [`Forwards`] lives: `up --watch`, `watch` and `forward` hold it; dropping it (the command ends,
//! Ctrl-C drops the command) aborts the tasks, whose kubectl children the seam then stops, and
//! records every forward as stopped.
//!
//! Local ports are checked before anything starts ([`check_local_ports`]): a port another program
//! holds is bad input (exit 2), not a forward that retries forever.

pub mod backoff;
pub mod pods;
pub mod record;
mod supervisor;

use std::net::TcpListener;
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::config::{Config, PortForward};
use crate::error::Error;
use crate::events::{Event, ForwardState};
use crate::tools::kubectl::Kubectl;
use crate::ui::Reporter;
use record::Recorder;
use supervisor::Supervisor;

/// Every forward's local port must be free on 127.0.0.1 before anything changes.
pub fn check_local_ports(config: &Config) -> Result<(), Error> {
    for (index, forward) in config.ports.iter().enumerate() {
        let Err(error) = TcpListener::bind(("127.0.0.1", forward.local)) else { continue };
        let local = forward.local;
        let what = format!("`ports[{index}]` ({} → 127.0.0.1:{local})", forward.target());
        return Err(match error.kind() {
            std::io::ErrorKind::AddrInUse => Error::config(
                &config.file,
                forward.line,
                format!("{what} cannot listen: 127.0.0.1:{local} is already in use by another program"),
                format!(
                    "stop what listens there (`ss -ltnp 'sport = :{local}'` shows it; an `ohdev forward` or `ohdev watch` of this project holds it too), or choose another `local:` port"
                ),
            ),
            _ => Error::config(
                &config.file,
                forward.line,
                format!("{what} cannot listen on 127.0.0.1:{local}: {error}"),
                "choose a `local:` port above 1023 (lower ones need root)",
            ),
        });
    }
    Ok(())
}

/// Warnings for forwards whose target is not among the objects ohdev applies (`(kind, namespace,
/// name)`): such a forward waits, retrying, until something else creates it. Pods are not checked
/// (a workload's pods are named by the cluster).
pub fn unknown_targets<'a>(
    forwards: &[PortForward],
    objects: impl Iterator<Item = (&'a str, Option<&'a str>, &'a str)> + Clone,
) -> Vec<String> {
    forwards
        .iter()
        .enumerate()
        .filter(|(_, forward)| forward.kind != crate::config::ForwardKind::Pod)
        .filter(|(_, forward)| {
            !objects.clone().any(|(kind, namespace, name)| {
                kind == forward.kind.as_str() && name == forward.name && namespace == Some(forward.namespace.as_str())
            })
        })
        .map(|(index, forward)| {
            format!(
                "`ports[{index}]` forwards to {} in namespace {}, which is not in the manifests: it waits until something creates it",
                forward.target(),
                forward.namespace
            )
        })
        .collect()
}

/// The URLs the forwards answer on, for the list printed when the environment is ready.
pub fn urls(config: &Config) -> Vec<String> {
    config.ports.iter().map(PortForward::url).collect()
}

/// Set once forwards ran in this process: Ctrl-C is then how a person stops them, not an error.
static FORWARDING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn was_forwarding() -> bool {
    FORWARDING.load(std::sync::atomic::Ordering::Relaxed)
}

/// The running forwards. Dropping it stops them.
pub struct Forwards {
    tasks: JoinSet<()>,
    forwards: Vec<PortForward>,
    recorder: Arc<Recorder>,
    reporter: Reporter,
}

impl Forwards {
    /// Start one supervisor per `ports:` entry (none when there are none).
    pub fn start(config: &Config, kubectl: &Kubectl, reporter: &Reporter) -> Forwards {
        if !config.ports.is_empty() {
            FORWARDING.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let recorder = Arc::new(Recorder::new(&crate::state::state_dir(&config.root), &config.ports, reporter));
        let mut tasks = JoinSet::new();
        for forward in &config.ports {
            let supervisor = Supervisor {
                forward: forward.clone(),
                kubectl: kubectl.clone(),
                reporter: reporter.clone(),
                recorder: recorder.clone(),
            };
            tasks.spawn(supervisor.run());
        }
        Forwards { tasks, forwards: config.ports.clone(), recorder, reporter: reporter.clone() }
    }
}

impl Drop for Forwards {
    fn drop(&mut self) {
        // Each task owns its kubectl child: aborting drops it, and the seam stops its group.
        self.tasks.abort_all();
        self.recorder.stop_all();
        for forward in &self.forwards {
            self.reporter.emit(Event::Forward {
                local: forward.local,
                target: forward.target(),
                namespace: forward.namespace.clone(),
                remote: forward.remote,
                pod: None,
                state: ForwardState::Stopped,
                attempt: 1,
                backoff_ms: None,
                detail: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ForwardKind;

    fn forward(kind: ForwardKind, name: &str, namespace: &str) -> PortForward {
        PortForward { kind, name: name.into(), namespace: namespace.into(), local: 3000, remote: 80, line: None }
    }

    #[test]
    fn a_target_missing_from_the_manifests_is_named() {
        let objects = [("Deployment", Some("app"), "web"), ("Service", Some("app"), "db")];
        let forwards = [
            forward(ForwardKind::Deployment, "web", "app"),
            forward(ForwardKind::Deployment, "web", "other"),
            forward(ForwardKind::StatefulSet, "db", "app"),
            forward(ForwardKind::Service, "db", "app"),
            forward(ForwardKind::Pod, "debug", "app"),
        ];
        let warnings = unknown_targets(&forwards, objects.iter().copied());
        assert_eq!(
            warnings,
            [
                "`ports[1]` forwards to Deployment/web in namespace other, which is not in the manifests: it waits until something creates it",
                "`ports[2]` forwards to StatefulSet/db in namespace app, which is not in the manifests: it waits until something creates it",
            ]
        );
    }
}
