//! Following a changing set of pods: given each poll's pods, which container streams to start,
//! which pods appeared and which went away. Pure bookkeeping; the engine runs the processes.

use std::collections::{BTreeMap, BTreeSet};

use super::pods::{Instance, Pod};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PodKey {
    pub namespace: String,
    pub pod: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamKey {
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

impl StreamKey {
    pub fn pod_key(&self) -> PodKey {
        PodKey { namespace: self.namespace.clone(), pod: self.pod.clone() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartStream {
    pub key: StreamKey,
    /// Seen on the first poll: `--tail`/`--since` apply. Containers that start later are new,
    /// so all of their lines are shown.
    pub from_first_poll: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub start: Vec<StartStream>,
    pub appeared: Vec<PodKey>,
    pub vanished: Vec<PodKey>,
}

#[derive(Debug, Default)]
pub struct Tracker {
    polls: u64,
    pods: BTreeSet<PodKey>,
    /// The container instance each stream was started for: a restart (new instance) gets a new stream.
    started: BTreeMap<StreamKey, Instance>,
    streaming: BTreeSet<StreamKey>,
}

impl Tracker {
    /// Record one poll's pods (already selected) and say what to do about them.
    pub fn observe(&mut self, pods: &[&Pod], container_filter: Option<&str>) -> Changes {
        let first = self.polls == 0;
        self.polls += 1;
        let mut changes = Changes::default();
        let mut present = BTreeSet::new();
        for pod in pods {
            let pod_key = PodKey { namespace: pod.namespace.clone(), pod: pod.name.clone() };
            if self.pods.insert(pod_key.clone()) && !first {
                changes.appeared.push(pod_key.clone());
            }
            present.insert(pod_key);
            for container in &pod.containers {
                if container_filter.is_some_and(|name| name != container.name) || !container.has_logs() {
                    continue;
                }
                let key = StreamKey {
                    namespace: pod.namespace.clone(),
                    pod: pod.name.clone(),
                    container: container.name.clone(),
                };
                if self.streaming.contains(&key) || self.started.get(&key) == Some(&container.instance) {
                    continue;
                }
                self.started.insert(key.clone(), container.instance.clone());
                self.streaming.insert(key.clone());
                changes.start.push(StartStream { key, from_first_poll: first });
            }
        }
        let vanished: Vec<PodKey> = self.pods.difference(&present).cloned().collect();
        for pod_key in &vanished {
            self.pods.remove(pod_key);
            // A pod that comes back under the same name (a StatefulSet's) is a new pod.
            self.started.retain(|key, _| &key.pod_key() != pod_key);
        }
        changes.vanished = vanished;
        changes
    }

    /// A stream ended. With `retry`, the same container instance may be streamed again on a later
    /// poll (kubectl failed before printing anything, e.g. the container was not ready yet).
    pub fn stream_ended(&mut self, key: &StreamKey, retry: bool) {
        self.streaming.remove(key);
        if retry {
            self.started.remove(key);
        }
    }

    /// How many polls were observed so far.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    pub fn is_streaming_pod(&self, pod_key: &PodKey) -> bool {
        self.streaming.iter().any(|key| key.namespace == pod_key.namespace && key.pod == pod_key.pod)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::pods::{Container, ContainerState};

    fn pod(name: &str, containers: &[(&str, ContainerState, &str)]) -> Pod {
        Pod {
            namespace: "app".into(),
            name: name.into(),
            managed: true,
            workload: None,
            containers: containers
                .iter()
                .map(|(name, state, id)| Container {
                    name: name.to_string(),
                    image: "busybox".into(),
                    state: state.clone(),
                    instance: Instance { container_id: Some(id.to_string()).filter(|id| !id.is_empty()), restarts: 0 },
                })
                .collect(),
        }
    }

    fn started(changes: &Changes) -> Vec<String> {
        changes
            .start
            .iter()
            .map(|start| {
                format!(
                    "{}/{}{}",
                    start.key.pod,
                    start.key.container,
                    if start.from_first_poll { " (first)" } else { "" }
                )
            })
            .collect()
    }

    #[test]
    fn starts_each_container_once_and_new_pods_later() {
        let mut tracker = Tracker::default();
        let a = pod(
            "a",
            &[
                ("main", ContainerState::Running, "1"),
                ("side", ContainerState::Waiting("ContainerCreating".into()), ""),
            ],
        );
        let first = tracker.observe(&[&a], None);
        assert_eq!(started(&first), ["a/main (first)"]);
        assert!(first.appeared.is_empty(), "pods of the first poll are not news");

        let a_started = pod("a", &[("main", ContainerState::Running, "1"), ("side", ContainerState::Running, "2")]);
        let b = pod("b", &[("main", ContainerState::Running, "3")]);
        let second = tracker.observe(&[&a_started, &b], None);
        assert_eq!(started(&second), ["a/side", "b/main"]);
        assert_eq!(second.appeared, [PodKey { namespace: "app".into(), pod: "b".into() }]);

        assert_eq!(tracker.observe(&[&a_started, &b], None), Changes::default());
    }

    #[test]
    fn a_restart_gets_a_new_stream_after_the_old_one_ended() {
        let mut tracker = Tracker::default();
        let first = pod("a", &[("main", ContainerState::Running, "1")]);
        tracker.observe(&[&first], None);
        let restarted = pod("a", &[("main", ContainerState::Running, "9")]);
        assert!(tracker.observe(&[&restarted], None).start.is_empty(), "old stream still running");
        let key = StreamKey { namespace: "app".into(), pod: "a".into(), container: "main".into() };
        tracker.stream_ended(&key, false);
        assert_eq!(started(&tracker.observe(&[&restarted], None)), ["a/main"]);
        tracker.stream_ended(&key, false);
        assert!(tracker.observe(&[&restarted], None).start.is_empty(), "same instance ended: not again");
        tracker.stream_ended(&key, true);
        assert_eq!(started(&tracker.observe(&[&restarted], None)), ["a/main"], "retry after a failed start");
    }

    #[test]
    fn vanished_pods_are_reported_once_and_filter_applies() {
        let mut tracker = Tracker::default();
        let a = pod("a", &[("main", ContainerState::Running, "1"), ("side", ContainerState::Running, "2")]);
        assert_eq!(started(&tracker.observe(&[&a], Some("side"))), ["a/side (first)"]);
        let pod_key = PodKey { namespace: "app".into(), pod: "a".into() };
        assert!(tracker.is_streaming_pod(&pod_key));
        let gone = tracker.observe(&[], Some("side"));
        assert_eq!(gone.vanished, std::slice::from_ref(&pod_key));
        assert!(tracker.observe(&[], Some("side")).vanished.is_empty());
        tracker.stream_ended(&StreamKey { namespace: "app".into(), pod: "a".into(), container: "side".into() }, false);
        assert!(!tracker.is_streaming_pod(&pod_key));
        let back = tracker.observe(&[&a], Some("side"));
        assert_eq!(started(&back), ["a/side"], "same name again is a new pod");
        assert_eq!(back.appeared, [pod_key]);
    }
}
