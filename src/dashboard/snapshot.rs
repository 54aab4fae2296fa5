//! `GET /api/state`: what the page shows, folded from the same events `--json` prints, plus the
//! workloads a poll of the cluster found. Pure: events and pod lists in, a serializable value out.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;
use serde_json::Value;

use crate::events::{Event, ImageState, NodeStatus, WatchState};

/// Builds kept per image (the issue asks for the last 20).
pub const BUILDS_KEPT: usize = 20;
/// Output lines kept of a failed build.
const OUTPUT_KEPT: usize = 40;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Snapshot {
    pub cluster: Option<Cluster>,
    pub images: BTreeMap<String, ImageRow>,
    pub workloads: Vec<WorkloadRow>,
    /// Where to open the environment (the last `ready` event).
    pub urls: Vec<String>,
    /// The watch loop's guard stopped rebuilding an image: which, and the path it named.
    pub guard: Vec<Guard>,
    /// The latest diagnosis per object (`Deployment openhands/app`): the screen a terminal shows.
    pub diagnoses: BTreeMap<String, Diagnosis>,
    /// The watch loop's state for `manifests` (re-applies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifests: Option<WatchRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    pub name: String,
    pub context: String,
    pub nodes: Vec<NodeStatus>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImageRow {
    pub tag: Option<String>,
    pub state: Option<ImageState>,
    pub watch: Option<WatchRow>,
    /// Newest last; at most [`BUILDS_KEPT`].
    pub builds: VecDeque<Build>,
    /// Why the next build starts (the watch loop says it just before building).
    #[serde(skip)]
    pending_why: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WatchRow {
    pub state: WatchState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Build {
    /// RFC 3339, when it started.
    pub started: String,
    /// The files that triggered it, `requested from the dashboard`, or absent (`ohdev up`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// `building`, `built`, `up_to_date`, `failed`.
    pub result: ImageState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub output: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Guard {
    pub image: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub reason: String,
    pub pod: Option<String>,
    pub hint: Option<String>,
    pub screen: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkloadRow {
    /// `Deployment/app`: what `GET /api/logs?resource=` takes.
    pub resource: String,
    pub namespace: String,
    pub ready: u64,
    pub desired: u64,
    pub restarts: u64,
    /// `Running`, `Pending`, or a waiting container's reason (`CrashLoopBackOff`…).
    pub phase: String,
    /// The ohdev images its pods run.
    pub images: Vec<String>,
}

impl Snapshot {
    /// Fold one event in; `ts` is its time (RFC 3339).
    pub fn apply(&mut self, event: &Event, ts: &str) {
        match event {
            Event::ClusterStatus { name, exists: true, context, nodes, .. } => {
                self.cluster = Some(Cluster { name: name.clone(), context: context.clone(), nodes: nodes.clone() });
            }
            Event::Ready { urls, .. } => self.urls = urls.clone(),
            Event::WatchStatus { image, state, detail } => {
                let row = WatchRow { state: *state, detail: detail.clone() };
                if image == "manifests" && !self.images.contains_key(image) {
                    self.manifests = Some(row);
                    return;
                }
                if *state == WatchState::Stopped {
                    self.guard.retain(|guard| &guard.image != image);
                    self.guard.push(Guard { image: image.clone(), detail: detail.clone() });
                }
                let entry = self.images.entry(image.clone()).or_default();
                if *state == WatchState::Building {
                    entry.pending_why = detail.clone();
                }
                entry.watch = Some(row);
            }
            Event::Image { image, tag, state, duration_ms, detail, .. } => {
                let row = self.images.entry(image.clone()).or_default();
                if !tag.is_empty() {
                    row.tag = Some(tag.clone());
                }
                row.state = Some(*state);
                let open = row.builds.back().is_some_and(|build| build.result == ImageState::Building);
                match state {
                    ImageState::Building => {
                        if row.builds.len() == BUILDS_KEPT {
                            row.builds.pop_front();
                        }
                        let why = row.pending_why.take();
                        row.builds.push_back(Build {
                            started: ts.to_string(),
                            why,
                            tag: (!tag.is_empty()).then(|| tag.clone()),
                            duration_ms: None,
                            result: ImageState::Building,
                            failed_step: None,
                            message: None,
                            output: Vec::new(),
                        });
                    }
                    ImageState::Built | ImageState::UpToDate | ImageState::Failed if open => {
                        let build = row.builds.back_mut().expect("open build");
                        build.result = *state;
                        build.duration_ms = *duration_ms;
                        if !tag.is_empty() {
                            build.tag = Some(tag.clone());
                        }
                        if *state == ImageState::Failed && build.message.is_none() {
                            build.message = detail.clone();
                        }
                    }
                    _ => {}
                }
            }
            Event::BuildFailed { image, step, message, output } => {
                let row = self.images.entry(image.clone()).or_default();
                if let Some(build) = row.builds.back_mut() {
                    build.result = ImageState::Failed;
                    build.failed_step = Some(step.clone());
                    build.message = Some(message.clone());
                    let skip = output.len().saturating_sub(OUTPUT_KEPT);
                    build.output = output[skip..].to_vec();
                }
            }
            Event::Diagnosis(report) => {
                self.diagnoses.insert(
                    report.object.clone(),
                    Diagnosis {
                        reason: report.reason.clone(),
                        pod: report.pod.clone(),
                        hint: report.hint.clone(),
                        screen: crate::ui::diagnosis_screen(report),
                    },
                );
            }
            _ => {}
        }
    }

    /// The cluster as a poll found it (nodes, and every workload ohdev applied).
    pub fn observe(&mut self, nodes: Vec<NodeStatus>, workloads: Vec<WorkloadRow>) {
        if let Some(cluster) = &mut self.cluster {
            cluster.nodes = nodes;
        }
        // A workload that is ready again no longer needs its diagnosis.
        self.diagnoses.retain(|object, _| {
            !workloads.iter().any(|row| row.desired > 0 && row.ready >= row.desired && object_of(row) == *object)
        });
        self.workloads = workloads;
    }
}

/// `Deployment openhands/app`, as diagnoses name objects.
fn object_of(row: &WorkloadRow) -> String {
    let (kind, name) = row.resource.split_once('/').unwrap_or(("", &row.resource));
    format!("{kind} {}/{name}", row.namespace)
}

/// Workload rows from `kubectl get deployments,statefulsets,daemonsets -o json` and the pods of
/// the environment (`kubectl get pods -o json`).
pub fn workloads(list: &Value, pods: &[crate::logs::Pod]) -> Vec<WorkloadRow> {
    let mut rows: Vec<WorkloadRow> = list["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    let kind = item["kind"].as_str()?;
                    let name = item["metadata"]["name"].as_str()?;
                    let namespace = item["metadata"]["namespace"].as_str().unwrap_or("default").to_string();
                    let status = &item["status"];
                    let (ready, desired) = if kind == "DaemonSet" {
                        (status["numberReady"].as_u64(), status["desiredNumberScheduled"].as_u64())
                    } else {
                        (status["readyReplicas"].as_u64(), item["spec"]["replicas"].as_u64().or(Some(1)))
                    };
                    let owned: Vec<&crate::logs::Pod> = pods
                        .iter()
                        .filter(|pod| {
                            pod.namespace == namespace
                                && pod.workload.as_ref().is_some_and(|owner| owner.kind == kind && owner.name == name)
                        })
                        .collect();
                    let containers = owned.iter().flat_map(|pod| pod.containers.iter());
                    let restarts = containers.clone().map(|container| container.instance.restarts).sum();
                    let waiting = containers.clone().find_map(|container| match &container.state {
                        crate::logs::ContainerState::Waiting(reason) => Some(reason.clone()),
                        _ => None,
                    });
                    let phase = match waiting {
                        Some(reason) => reason,
                        None if owned.is_empty() => "no pods".to_string(),
                        None => "Running".to_string(),
                    };
                    let mut images: Vec<String> =
                        containers.filter_map(|container| container.ohdev_image().map(str::to_string)).collect();
                    images.sort();
                    images.dedup();
                    Some(WorkloadRow {
                        resource: format!("{kind}/{name}"),
                        namespace,
                        ready: ready.unwrap_or(0),
                        desired: desired.unwrap_or(0),
                        restarts,
                        phase,
                        images,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    rows.sort_by(|a, b| (&a.namespace, &a.resource).cmp(&(&b.namespace, &b.resource)));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Event;

    #[test]
    fn builds_carry_why_duration_and_the_failing_step() {
        let mut snapshot = Snapshot::default();
        snapshot.apply(
            &Event::WatchStatus {
                image: "app".into(),
                state: WatchState::Building,
                detail: Some("src/main.py".into()),
            },
            "t1",
        );
        snapshot.apply(&Event::image("app", "ohdev.local/app:1", ImageState::Building, None), "t1");
        snapshot.apply(
            &Event::BuildFailed {
                image: "app".into(),
                step: "RUN make".into(),
                message: "exit 2".into(),
                output: vec!["boom".into()],
            },
            "t2",
        );
        snapshot.apply(&Event::image("app", "ohdev.local/app:1", ImageState::Failed, None), "t2");
        snapshot.apply(&Event::image("app", "ohdev.local/app:2", ImageState::Building, None), "t3");
        snapshot.apply(
            &Event::Image {
                image: "app".into(),
                tag: "ohdev.local/app:2".into(),
                state: ImageState::Built,
                detail: None,
                context_bytes: None,
                duration_ms: Some(1200),
            },
            "t4",
        );
        let builds = &snapshot.images["app"].builds;
        assert_eq!(builds.len(), 2);
        assert_eq!(builds[0].why.as_deref(), Some("src/main.py"));
        assert_eq!(builds[0].result, ImageState::Failed);
        assert_eq!(builds[0].failed_step.as_deref(), Some("RUN make"));
        assert_eq!(builds[0].output, vec!["boom".to_string()]);
        assert_eq!(builds[1].why, None, "a why is used by one build only");
        assert_eq!(builds[1].result, ImageState::Built);
        assert_eq!(builds[1].duration_ms, Some(1200));
        assert_eq!(snapshot.images["app"].tag.as_deref(), Some("ohdev.local/app:2"));
    }

    #[test]
    fn history_is_bounded_and_the_guard_is_marked() {
        let mut snapshot = Snapshot::default();
        for _ in 0..(BUILDS_KEPT + 5) {
            snapshot.apply(&Event::image("app", "t", ImageState::Building, None), "t");
            snapshot.apply(&Event::image("app", "t", ImageState::Built, None), "t");
        }
        assert_eq!(snapshot.images["app"].builds.len(), BUILDS_KEPT);
        snapshot.apply(
            &Event::WatchStatus { image: "app".into(), state: WatchState::Stopped, detail: Some("add `out/`".into()) },
            "t",
        );
        assert_eq!(snapshot.guard.len(), 1);
        assert_eq!(snapshot.guard[0].detail.as_deref(), Some("add `out/`"));
    }

    #[test]
    fn workloads_from_a_listing() {
        let list = serde_json::json!({"items": [
            {"kind": "Deployment", "metadata": {"name": "web", "namespace": "apps"},
             "spec": {"replicas": 2}, "status": {"readyReplicas": 1}},
            {"kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "apps"},
             "status": {"numberReady": 1, "desiredNumberScheduled": 1}}
        ]});
        let pods = crate::logs::parse_pod_list(&serde_json::json!({"items": [
            {"metadata": {"name": "web-abc-1", "namespace": "apps", "labels": {"pod-template-hash": "abc"},
              "ownerReferences": [{"kind": "ReplicaSet", "name": "web-abc", "controller": true}]},
             "spec": {"containers": [{"name": "main", "image": "ohdev.local/web:0123"}]},
             "status": {"containerStatuses": [{"name": "main", "restartCount": 3,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}
        ]}));
        let rows = workloads(&list, &pods);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].resource, "DaemonSet/agent");
        assert_eq!(rows[0].phase, "no pods");
        let web = &rows[1];
        assert_eq!((web.ready, web.desired, web.restarts), (1, 2, 3));
        assert_eq!(web.phase, "CrashLoopBackOff");
        assert_eq!(web.images, vec!["web".to_string()]);
    }
}
