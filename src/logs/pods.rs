//! What `kubectl get pods -o json` says about the pods whose logs we stream, as plain data.
//!
//! Parsing once into these types keeps selection and "what changed since the last poll" pure
//! functions of data, unit-tested without a cluster.

use serde_json::Value;

/// The label the deploy phase puts on every pod template; `ohdev logs` finds the environment by it.
pub use crate::names::MANAGED_BY_SELECTOR;
use crate::names::{MANAGED_BY_LABEL as MANAGED_BY_KEY, MANAGED_BY_VALUE};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pod {
    pub namespace: String,
    pub name: String,
    /// Carries `app.kubernetes.io/managed-by=ohdev`.
    pub managed: bool,
    /// The workload that runs the pod, from its controller owner reference; None for a bare pod.
    pub workload: Option<Workload>,
    pub containers: Vec<Container>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Workload {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, or the owner's kind as the API names it.
    pub kind: String,
    pub name: String,
}

impl std::fmt::Display for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub name: String,
    pub image: String,
    pub state: ContainerState,
    /// Identifies one run of the container: a restart is a new instance and gets a new stream.
    pub instance: Instance,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerState {
    /// Not started (yet), with the kubelet's reason (`ContainerCreating`, `ImagePullBackOff`…).
    Waiting(String),
    Running,
    Terminated,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instance {
    pub container_id: Option<String>,
    pub restarts: u64,
}

impl Container {
    /// kubectl can print logs once the container has run at least once.
    pub fn has_logs(&self) -> bool {
        !matches!(self.state, ContainerState::Waiting(_)) || self.instance.restarts > 0
    }

    /// The logical ohdev image name (`app` for `ohdev.local/app:abc…`), if the image is one of ours.
    pub fn ohdev_image(&self) -> Option<&str> {
        crate::names::built_image_name(&self.image)
    }
}

impl Pod {
    /// Who the pod belongs to: its workload or, for a bare pod, itself.
    #[cfg(test)]
    pub fn owner_label(&self) -> String {
        match &self.workload {
            Some(workload) => workload.to_string(),
            None => format!("Pod/{}", self.name),
        }
    }
}

/// Every pod in a `kubectl get pods -o json` list (items that are not pods are ignored).
pub fn parse_pod_list(list: &Value) -> Vec<Pod> {
    list["items"].as_array().map(|items| items.iter().filter_map(parse_pod).collect()).unwrap_or_default()
}

fn parse_pod(pod: &Value) -> Option<Pod> {
    let metadata = &pod["metadata"];
    let name = metadata["name"].as_str()?.to_string();
    let namespace = metadata["namespace"].as_str().unwrap_or("default").to_string();
    let managed = metadata["labels"][MANAGED_BY_KEY].as_str() == Some(MANAGED_BY_VALUE);
    let template_hash = metadata["labels"]["pod-template-hash"].as_str();
    let workload = controller_of(metadata).map(|(kind, owner)| workload_of(kind, owner, template_hash));
    let statuses = pod["status"]["containerStatuses"].as_array();
    let containers = pod["spec"]["containers"]
        .as_array()
        .map(|containers| {
            containers
                .iter()
                .filter_map(|container| {
                    let name = container["name"].as_str()?.to_string();
                    let status =
                        statuses.and_then(|statuses| statuses.iter().find(|status| status["name"] == name.as_str()));
                    Some(Container {
                        image: container["image"].as_str().unwrap_or_default().to_string(),
                        state: status.map(container_state).unwrap_or_else(|| ContainerState::Waiting("Pending".into())),
                        instance: Instance {
                            container_id: status.and_then(|status| status["containerID"].as_str()).map(str::to_string),
                            restarts: status.and_then(|status| status["restartCount"].as_u64()).unwrap_or(0),
                        },
                        name,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Pod { namespace, name, managed, workload, containers })
}

fn controller_of(metadata: &Value) -> Option<(&str, &str)> {
    let owners = metadata["ownerReferences"].as_array()?;
    let owner = owners.iter().find(|owner| owner["controller"] == true).or_else(|| owners.first())?;
    Some((owner["kind"].as_str()?, owner["name"].as_str()?))
}

/// A ReplicaSet named `<deployment>-<pod-template-hash>` belongs to that Deployment.
fn workload_of(kind: &str, owner: &str, template_hash: Option<&str>) -> Workload {
    if kind == "ReplicaSet" {
        if let Some(deployment) =
            template_hash.and_then(|hash| owner.strip_suffix(hash)).and_then(|rest| rest.strip_suffix('-'))
        {
            return Workload { kind: "Deployment".into(), name: deployment.to_string() };
        }
    }
    Workload { kind: kind.to_string(), name: owner.to_string() }
}

fn container_state(status: &Value) -> ContainerState {
    let state = &status["state"];
    if state.get("running").is_some() {
        ContainerState::Running
    } else if state.get("terminated").is_some() {
        ContainerState::Terminated
    } else {
        ContainerState::Waiting(state["waiting"]["reason"].as_str().unwrap_or("Waiting").to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list() -> Value {
        json!({"items": [
            {"metadata": {"name": "web-5d4f8-abcde", "namespace": "app",
                          "labels": {"app.kubernetes.io/managed-by": "ohdev", "pod-template-hash": "5d4f8"},
                          "ownerReferences": [{"kind": "ReplicaSet", "name": "web-5d4f8", "controller": true}]},
             "spec": {"containers": [{"name": "main", "image": "ohdev.local/app:0123456789abcdef"},
                                     {"name": "proxy", "image": "nginx:1.27"}]},
             "status": {"containerStatuses": [
                 {"name": "main", "state": {"running": {}}, "containerID": "containerd://1", "restartCount": 0},
                 {"name": "proxy", "state": {"waiting": {"reason": "ImagePullBackOff"}}, "restartCount": 0}]}},
            {"metadata": {"name": "db-0", "namespace": "app",
                          "ownerReferences": [{"kind": "StatefulSet", "name": "db", "controller": true}]},
             "spec": {"containers": [{"name": "postgres", "image": "postgres:16"}]},
             "status": {"containerStatuses": [
                 {"name": "postgres", "state": {"waiting": {"reason": "CrashLoopBackOff"}}, "restartCount": 3}]}},
            {"metadata": {"name": "debug", "namespace": "default"},
             "spec": {"containers": [{"name": "sh", "image": "ohdev.local/tools@sha256:ff"}]}}
        ]})
    }

    #[test]
    fn parses_owner_state_and_images() {
        let pods = parse_pod_list(&list());
        assert_eq!(pods.len(), 3);
        let web = &pods[0];
        assert!(web.managed);
        assert_eq!(web.owner_label(), "Deployment/web");
        assert_eq!(web.containers[0].ohdev_image(), Some("app"));
        assert_eq!(web.containers[1].ohdev_image(), None);
        assert!(web.containers[0].has_logs());
        assert_eq!(web.containers[1].state, ContainerState::Waiting("ImagePullBackOff".into()));
        assert!(!web.containers[1].has_logs());
        assert_eq!(web.containers[0].instance.container_id.as_deref(), Some("containerd://1"));

        let db = &pods[1];
        assert!(!db.managed);
        assert_eq!(db.owner_label(), "StatefulSet/db");
        assert!(db.containers[0].has_logs(), "a crash-looping container has the last run's logs");

        let debug = &pods[2];
        assert_eq!(debug.owner_label(), "Pod/debug");
        assert_eq!(debug.containers[0].ohdev_image(), Some("tools"));
        assert!(!debug.containers[0].has_logs(), "no status yet");
    }

    #[test]
    fn a_replicaset_without_the_template_hash_stays_a_replicaset() {
        assert_eq!(workload_of("ReplicaSet", "web-5d4f8", Some("zzz")).to_string(), "ReplicaSet/web-5d4f8");
        assert_eq!(workload_of("ReplicaSet", "web-5d4f8", Some("5d4f8")).to_string(), "Deployment/web");
        assert_eq!(workload_of("Job", "migrate", None).to_string(), "Job/migrate");
    }
}
