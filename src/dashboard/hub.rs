//! The dashboard's renderer: events in, bounded memory out.
//!
//! The Reporter tees every event here (see `ui::TeeRenderer`). Events become the `--json` objects
//! (the same function renders both), kept in a ring for replay and broadcast to `/api/events`
//! clients; log lines go to a ring per container and to `/api/logs` clients. A slow client only
//! lags its own broadcast receiver (it is told, and skips ahead); nothing here grows without bound.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::broadcast;

use super::snapshot::{Snapshot, WorkloadRow};
use crate::events::{Event, NodeStatus};
use crate::ui::Renderer;

/// Events replayed to a client that connects (the newest ones).
pub const EVENTS_KEPT: usize = 500;
/// Log lines kept per container.
pub const LINES_PER_CONTAINER: usize = 1000;
/// Containers whose lines are kept; the oldest-written is dropped first (pods come and go).
pub const CONTAINERS_KEPT: usize = 200;
/// Messages a client may fall behind before it skips ahead.
const CHANNEL: usize = 4096;

#[derive(Debug, Clone, Serialize)]
pub struct LogLine {
    pub pod: String,
    pub container: String,
    pub namespace: String,
    pub line: String,
    pub ts: String,
    /// Arrival order across containers.
    #[serde(skip)]
    pub seq: u64,
}

struct Inner {
    snapshot: Snapshot,
    events: VecDeque<Arc<str>>,
    /// (namespace, pod, container) → its newest lines.
    logs: BTreeMap<(String, String, String), VecDeque<Arc<LogLine>>>,
    /// Pod → resource (`Deployment/web`), from the last poll.
    owners: BTreeMap<(String, String), String>,
    seq: u64,
}

pub struct Hub {
    inner: Mutex<Inner>,
    events: broadcast::Sender<Arc<str>>,
    logs: broadcast::Sender<Arc<LogLine>>,
}

impl Hub {
    pub fn new() -> Arc<Hub> {
        Arc::new(Hub {
            inner: Mutex::new(Inner {
                snapshot: Snapshot::default(),
                events: VecDeque::with_capacity(EVENTS_KEPT),
                logs: BTreeMap::new(),
                owners: BTreeMap::new(),
                seq: 0,
            }),
            events: broadcast::channel(CHANNEL).0,
            logs: broadcast::channel(CHANNEL).0,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn state_json(&self) -> String {
        serde_json::to_string(&self.lock().snapshot).unwrap_or_else(|_| "{}".to_string())
    }

    /// The recent events and a receiver for what follows (taken under one lock: nothing is lost
    /// or sent twice between them).
    pub fn subscribe_events(&self) -> (Vec<Arc<str>>, broadcast::Receiver<Arc<str>>) {
        let inner = self.lock();
        (inner.events.iter().cloned().collect(), self.events.subscribe())
    }

    /// The kept lines of `resource`'s containers (a workload `Kind/name`, a pod `Pod/name`, or an
    /// image name: the workloads running it), oldest first, and a receiver for new lines.
    pub fn subscribe_logs(&self, resource: &str) -> (Vec<Arc<LogLine>>, broadcast::Receiver<Arc<LogLine>>) {
        let inner = self.lock();
        let mut lines: Vec<Arc<LogLine>> = inner
            .logs
            .iter()
            .filter(|((namespace, pod, _), _)| inner.belongs(namespace, pod, resource))
            .flat_map(|(_, lines)| lines.iter().cloned())
            .collect();
        lines.sort_by_key(|line| line.seq);
        (lines, self.logs.subscribe())
    }

    pub fn belongs(&self, line: &LogLine, resource: &str) -> bool {
        self.lock().belongs(&line.namespace, &line.pod, resource)
    }

    /// The cluster this run works on (its nodes come with the first poll).
    pub fn set_cluster(&self, name: String, context: String) {
        self.lock().snapshot.cluster = Some(super::snapshot::Cluster { name, context, nodes: Vec::new() });
    }

    /// What a poll of the cluster found.
    pub fn observe(
        &self,
        nodes: Vec<NodeStatus>,
        workloads: Vec<WorkloadRow>,
        owners: BTreeMap<(String, String), String>,
    ) {
        let mut inner = self.lock();
        inner.snapshot.observe(nodes, workloads);
        inner.owners = owners;
    }

    /// Log lines held (bounded: at most containers × lines per container).
    pub fn log_lines_kept(&self) -> usize {
        self.lock().logs.values().map(VecDeque::len).sum()
    }

    fn log(&self, inner: &mut Inner, pod: &str, container: &str, namespace: &str, line: &str, ts: &str) {
        inner.seq += 1;
        let line = Arc::new(LogLine {
            pod: pod.to_string(),
            container: container.to_string(),
            namespace: namespace.to_string(),
            line: line.to_string(),
            ts: ts.to_string(),
            seq: inner.seq,
        });
        let key = (namespace.to_string(), pod.to_string(), container.to_string());
        if !inner.logs.contains_key(&key) && inner.logs.len() >= CONTAINERS_KEPT {
            // Drop the container whose newest line is oldest.
            let stalest = inner
                .logs
                .iter()
                .min_by_key(|(_, lines)| lines.back().map(|line| line.seq).unwrap_or(0))
                .map(|(key, _)| key.clone());
            if let Some(stalest) = stalest {
                inner.logs.remove(&stalest);
            }
        }
        let ring = inner.logs.entry(key).or_insert_with(|| VecDeque::with_capacity(64));
        if ring.len() == LINES_PER_CONTAINER {
            ring.pop_front();
        }
        ring.push_back(line.clone());
        let _ = self.logs.send(line);
    }

    fn event(&self, inner: &mut Inner, event: &Event, ts: &str) {
        inner.snapshot.apply(event, ts);
        if let Some(line) = crate::ui::json_line(event, ts) {
            let line: Arc<str> = Arc::from(line.trim_end());
            if inner.events.len() == EVENTS_KEPT {
                inner.events.pop_front();
            }
            inner.events.push_back(line.clone());
            let _ = self.events.send(line);
        }
    }
}

impl Inner {
    fn belongs(&self, namespace: &str, pod: &str, resource: &str) -> bool {
        if resource == format!("Pod/{pod}") {
            return true;
        }
        let owner = self.owners.get(&(namespace.to_string(), pod.to_string()));
        if owner.is_some_and(|owner| owner == resource) {
            return true;
        }
        // An image: the workloads that run it.
        owner.is_some_and(|owner| {
            self.snapshot.workloads.iter().any(|row| {
                &row.resource == owner && row.namespace == namespace && row.images.iter().any(|image| image == resource)
            })
        })
    }
}

impl Renderer for Hub {
    fn emit(&self, event: &Event) {
        let ts = crate::ui::timestamp();
        let mut inner = self.lock();
        match event {
            Event::Log { pod, container, namespace, line } => {
                self.log(&mut inner, pod, container, namespace, line, &ts)
            }
            _ => self.event(&mut inner, event, &ts),
        }
    }

    fn emit_batch(&self, events: &[Event]) {
        let ts = crate::ui::timestamp();
        let mut inner = self.lock();
        for event in events {
            match event {
                Event::Log { pod, container, namespace, line } => {
                    self.log(&mut inner, pod, container, namespace, line, &ts)
                }
                _ => self.event(&mut inner, event, &ts),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(pod: &str, line: &str) -> Event {
        Event::Log { pod: pod.into(), container: "main".into(), namespace: "apps".into(), line: line.into() }
    }

    #[test]
    fn memory_is_bounded_and_replay_is_the_newest() {
        let hub = Hub::new();
        for index in 0..(EVENTS_KEPT + 10) {
            hub.emit(&Event::info(format!("message {index}")));
        }
        let (replay, _) = hub.subscribe_events();
        assert_eq!(replay.len(), EVENTS_KEPT);
        assert!(replay[0].contains("\"message 10\""), "{}", replay[0]);
        let batch: Vec<Event> =
            (0..(LINES_PER_CONTAINER * 3)).map(|index| log("web-1", &format!("line {index}"))).collect();
        hub.emit_batch(&batch);
        for pod in 0..(CONTAINERS_KEPT + 5) {
            hub.emit(&log(&format!("other-{pod}"), "x"));
        }
        assert_eq!(
            hub.log_lines_kept(),
            CONTAINERS_KEPT,
            "web-1 (1000 lines, the stalest) went; 200 containers of 1 line stay"
        );
        let (lines, _) = hub.subscribe_logs("Pod/other-204");
        assert_eq!(lines.len(), 1);
        let (lines, _) = hub.subscribe_logs("Pod/web-1");
        assert!(lines.is_empty(), "web-1's lines were the stalest and were dropped");
    }

    #[test]
    fn logs_of_a_workload_or_an_image() {
        let hub = Hub::new();
        let owners = BTreeMap::from([(("apps".to_string(), "web-1".to_string()), "Deployment/web".to_string())]);
        let row = WorkloadRow {
            resource: "Deployment/web".into(),
            namespace: "apps".into(),
            ready: 1,
            desired: 1,
            restarts: 0,
            phase: "Running".into(),
            images: vec!["web".into()],
        };
        hub.observe(Vec::new(), vec![row], owners);
        hub.emit(&log("web-1", "hello"));
        hub.emit(&log("db-1", "other"));
        for resource in ["Deployment/web", "web", "Pod/web-1"] {
            let (lines, _) = hub.subscribe_logs(resource);
            assert_eq!(lines.iter().map(|line| line.line.as_str()).collect::<Vec<_>>(), ["hello"], "{resource}");
        }
        let (lines, _) = hub.subscribe_logs("Deployment/db");
        assert!(lines.is_empty());
    }
}
