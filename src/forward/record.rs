//! `.ohdev/forwards.json`: the forwards a running ohdev keeps up (which kubectl process, which pod,
//! since when), so that `ohdev status`, another process, can show them.
//!
//! Its own file, not a section of state.json: the forwards run for hours beside `ohdev rebuild`,
//! which takes the state lock, and only one process can hold a forward's local port, so only one
//! writes this file (atomically, on every change). It is kept honest twice: the supervisor records
//! each change as it sees it (a kubectl that exits is `reconnecting` at once), and a reader checks
//! that the processes named are still alive ([`honest`]): an ohdev killed with SIGKILL records
//! nothing on its way out.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::config::PortForward;
use crate::events::{Event, ForwardState};
use crate::ui::Reporter;

pub const FILE_NAME: &str = "forwards.json";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    /// The ohdev process that runs the forwards.
    pub owner_pid: u32,
    pub forwards: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub local: u16,
    pub target: String,
    pub namespace: String,
    pub remote: u16,
    pub state: ForwardState,
    pub pod: Option<String>,
    /// The `kubectl port-forward` process, while one runs.
    pub kubectl_pid: Option<u32>,
    /// When the forward entered this state (RFC 3339).
    pub since: String,
    pub detail: Option<String>,
}

impl Entry {
    pub fn status_event(&self) -> Event {
        Event::ForwardStatus {
            local: self.local,
            target: self.target.clone(),
            namespace: self.namespace.clone(),
            remote: self.remote,
            state: self.state,
            pod: self.pod.clone(),
            since: Some(self.since.clone()),
            detail: self.detail.clone(),
        }
    }
}

/// What the record says, corrected by what is alive now: a forward whose ohdev is gone is
/// stopped; one whose kubectl is gone is no longer forwarding. Pure (`alive` asks about a pid).
pub fn honest(record: &Record, alive: &dyn Fn(u32) -> bool) -> Vec<Entry> {
    let owner_alive = alive(record.owner_pid);
    record
        .forwards
        .iter()
        .cloned()
        .map(|mut entry| {
            if entry.state == ForwardState::Stopped {
                return entry;
            }
            if !owner_alive {
                entry.state = ForwardState::Stopped;
                entry.detail = Some(format!(
                    "the ohdev that ran it (pid {}) is gone; `ohdev forward` starts it again",
                    record.owner_pid
                ));
                entry.kubectl_pid = None;
            } else if let Some(pid) = entry.kubectl_pid.filter(|pid| !alive(*pid)) {
                entry.state = ForwardState::Reconnecting;
                entry.detail = Some(format!("its kubectl port-forward (pid {pid}) exited"));
                entry.kubectl_pid = None;
            }
            entry
        })
        .collect()
}

/// Whether a process with this pid exists (signal 0 checks without sending anything).
pub fn process_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else { return false };
    // SAFETY: kill(2) with signal 0 only checks that the process exists and may be signalled.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

/// The record, if a forwarding ohdev ever wrote one here.
pub fn read(state_dir: &Path) -> Option<Record> {
    let text = std::fs::read_to_string(path(state_dir)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The running forwards' record, rewritten on every change.
pub struct Recorder {
    path: PathBuf,
    /// The record, and whether the forwards were stopped (then nothing changes it any more: a
    /// supervisor that sees its kubectl die of the shutdown signal must not undo `stopped`).
    record: Mutex<(Record, bool)>,
    reporter: Reporter,
    warned: Mutex<bool>,
}

impl Recorder {
    pub fn new(state_dir: &Path, forwards: &[PortForward], reporter: &Reporter) -> Recorder {
        let now = crate::ui::timestamp();
        let record = Record {
            owner_pid: std::process::id(),
            forwards: forwards
                .iter()
                .map(|forward| Entry {
                    local: forward.local,
                    target: forward.target(),
                    namespace: forward.namespace.clone(),
                    remote: forward.remote,
                    state: ForwardState::Starting,
                    pod: None,
                    kubectl_pid: None,
                    since: now.clone(),
                    detail: None,
                })
                .collect(),
        };
        let recorder = Recorder {
            path: path(state_dir),
            record: Mutex::new((record, false)),
            reporter: reporter.clone(),
            warned: Mutex::new(false),
        };
        recorder.write();
        recorder
    }

    /// Record forward `local`'s new state; false (and nothing recorded) once the forwards stopped.
    pub fn set(
        &self,
        local: u16,
        state: ForwardState,
        pod: Option<String>,
        kubectl_pid: Option<u32>,
        detail: Option<String>,
    ) -> bool {
        {
            let mut guard = self.record.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let (record, stopped) = &mut *guard;
            if *stopped {
                return false;
            }
            if let Some(entry) = record.forwards.iter_mut().find(|entry| entry.local == local) {
                *entry = Entry { state, pod, kubectl_pid, since: crate::ui::timestamp(), detail, ..entry.clone() };
            }
        }
        self.write();
        true
    }

    /// Every forward is stopped, for good.
    pub fn stop_all(&self) {
        {
            let mut guard = self.record.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let (record, stopped) = &mut *guard;
            *stopped = true;
            let now = crate::ui::timestamp();
            for entry in &mut record.forwards {
                entry.state = ForwardState::Stopped;
                entry.pod = None;
                entry.kubectl_pid = None;
                entry.since = now.clone();
                entry.detail = None;
            }
        }
        self.write();
    }

    fn write(&self) {
        // Written while the record is locked: the supervisors' tasks change it from several threads,
        // and the file must end as the last change left the record, not as an earlier one.
        let guard = self.record.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let bytes = serde_json::to_vec_pretty(&guard.0).unwrap_or_default();
        let written = self
            .path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| crate::state::write_atomic(&self.path, &bytes));
        drop(guard);
        if let Err(error) = written {
            let mut warned = self.warned.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if !*warned {
                *warned = true;
                self.reporter.emit(Event::warn(
                    format!("cannot record the forwards in {}: {error}", self.path.display()),
                    Some(
                        "the forwards keep running; `ohdev status` will not show them until the file can be written"
                            .into(),
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(state: ForwardState, kubectl_pid: Option<u32>) -> Entry {
        Entry {
            local: 3000,
            target: "Deployment/web".into(),
            namespace: "app".into(),
            remote: 80,
            state,
            pod: Some("web-1".into()),
            kubectl_pid,
            since: "2026-12-03T10:00:00Z".into(),
            detail: None,
        }
    }

    #[test]
    fn a_record_is_corrected_by_which_processes_are_alive() {
        let record = Record {
            owner_pid: 100,
            forwards: vec![entry(ForwardState::Forwarding, Some(200)), entry(ForwardState::Stopped, None)],
        };
        let all_alive = honest(&record, &|_| true);
        assert_eq!(all_alive, record.forwards, "nothing to correct");

        let kubectl_gone = honest(&record, &|pid| pid == 100);
        assert_eq!(kubectl_gone[0].state, ForwardState::Reconnecting);
        assert_eq!(kubectl_gone[0].detail.as_deref(), Some("its kubectl port-forward (pid 200) exited"));

        let owner_gone = honest(&record, &|pid| pid == 200);
        assert_eq!(owner_gone[0].state, ForwardState::Stopped);
        assert!(owner_gone[0].detail.as_deref().unwrap().contains("the ohdev that ran it (pid 100) is gone"));
        assert_eq!(owner_gone[1], record.forwards[1], "a stopped forward stays as recorded");
    }

    #[test]
    fn once_stopped_the_record_takes_no_change() {
        let dir = tempfile::tempdir().unwrap();
        let forward = crate::config::PortForward {
            kind: crate::config::ForwardKind::Deployment,
            name: "web".into(),
            namespace: "app".into(),
            local: 3000,
            remote: 80,
            line: None,
        };
        let reporter = Reporter::new(std::sync::Arc::new(crate::ui::PlainRenderer::new()));
        let recorder = Recorder::new(dir.path(), &[forward], &reporter);
        assert_eq!(read(dir.path()).unwrap().forwards[0].state, ForwardState::Starting);
        assert!(recorder.set(3000, ForwardState::Forwarding, Some("web-1".into()), Some(42), None));
        let forwarding = read(dir.path()).unwrap();
        assert_eq!(forwarding.owner_pid, std::process::id());
        assert_eq!(
            (forwarding.forwards[0].state, forwarding.forwards[0].pod.as_deref(), forwarding.forwards[0].kubectl_pid),
            (ForwardState::Forwarding, Some("web-1"), Some(42))
        );
        recorder.stop_all();
        assert!(!recorder.set(3000, ForwardState::Reconnecting, None, None, Some("late".into())));
        let stopped = read(dir.path()).unwrap();
        assert_eq!((stopped.forwards[0].state, stopped.forwards[0].kubectl_pid), (ForwardState::Stopped, None));
    }

    #[test]
    fn this_process_is_alive_and_an_unused_pid_is_not() {
        assert!(process_alive(std::process::id()));
        assert!(!process_alive(u32::MAX));
    }
}
