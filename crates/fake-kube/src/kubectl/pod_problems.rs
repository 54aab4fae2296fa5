//! Why a pod cannot run: a missing PVC or no node (Unschedulable), an image the node cannot get
//! (ErrImageNeverPull / ImagePullBackOff), a missing Secret/ConfigMap (CreateContainerConfigError),
//! or what the fixture annotation `fake-kube/fail` asks for.

use super::images::{self, Pull};
use super::pod_status::PodPlan;
use super::registry;
use crate::state::Cluster;
use serde_json::Value;

pub enum Problem {
    Unschedulable(String),
    Waiting { container: String, reason: String, message: String },
    Crash { container: String, oom: bool },
    JobFailed,
}

fn missing_reference(cluster: &Cluster, ns: &str, c: &Value) -> Option<String> {
    let exists = |kind: &str, name: &str| cluster.find("", kind, ns, name).is_some();
    let mut refs: Vec<(&str, &str, bool)> = Vec::new();
    for e in c.get("envFrom").and_then(Value::as_array).into_iter().flatten() {
        for (field, kind) in [("secretRef", "Secret"), ("configMapRef", "ConfigMap")] {
            if let Some(r) = e.get(field) {
                refs.push((
                    kind,
                    r.get("name").and_then(Value::as_str).unwrap_or(""),
                    r.get("optional").and_then(Value::as_bool).unwrap_or(false),
                ));
            }
        }
    }
    for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
        for (field, kind) in [("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")] {
            if let Some(r) = e.pointer(&format!("/valueFrom/{field}")) {
                refs.push((
                    kind,
                    r.get("name").and_then(Value::as_str).unwrap_or(""),
                    r.get("optional").and_then(Value::as_bool).unwrap_or(false),
                ));
            }
        }
    }
    refs.into_iter()
        .find(|(kind, name, optional)| !optional && !exists(kind, name))
        .map(|(kind, name, _)| format!("{} \"{name}\" not found", kind.to_lowercase()))
}

pub fn find_problem(cluster: &Cluster, plan: &PodPlan, spec: &Value) -> Option<Problem> {
    let k8s_nodes = cluster.nodes.iter().filter(|n| n.is_kubernetes_node()).count();
    let containers: Vec<Value> = spec.get("containers").and_then(Value::as_array).cloned().unwrap_or_default();
    let first = containers.first().and_then(|c| c.get("name")).and_then(Value::as_str).unwrap_or("").to_string();
    for v in spec.get("volumes").and_then(Value::as_array).into_iter().flatten() {
        if let Some(claim) = v.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str) {
            if cluster.find("", "PersistentVolumeClaim", &plan.namespace, claim).is_none() {
                return Some(Problem::Unschedulable(format!(
                    "0/{k8s_nodes} nodes are available: persistentvolumeclaim \"{claim}\" not found."
                )));
            }
        }
    }
    let fail = plan.fail.as_deref().unwrap_or("");
    if fail == "Unschedulable" || plan.node.is_none() {
        return Some(Problem::Unschedulable(format!(
            "0/{k8s_nodes} nodes are available: {k8s_nodes} Insufficient memory."
        )));
    }
    let node = plan.node.as_ref().and_then(|n| cluster.nodes.iter().find(|x| &x.name == n));
    for c in &containers {
        let name = c.get("name").and_then(Value::as_str).unwrap_or("").to_string();
        let image = c.get("image").and_then(Value::as_str).unwrap_or("");
        if let Some(pulled) = registry::pull(cluster, node, c) {
            match pulled {
                Ok(()) => continue,
                Err(message) => {
                    return Some(Problem::Waiting { container: name, reason: "ErrImagePull".into(), message })
                }
            }
        }
        match images::check(node, c) {
            Pull::Ok => {}
            Pull::Never => {
                return Some(Problem::Waiting {
                    container: name,
                    reason: "ErrImageNeverPull".into(),
                    message: format!("Container image \"{image}\" is not present with pull policy of Never"),
                })
            }
            Pull::BackOff => {
                return Some(Problem::Waiting {
                    container: name,
                    reason: "ImagePullBackOff".into(),
                    message: format!("Back-off pulling image \"{image}\""),
                })
            }
        }
    }
    if fail == "ImagePullBackOff" {
        let image = containers.first().and_then(|c| c.get("image")).and_then(Value::as_str).unwrap_or("");
        return Some(Problem::Waiting {
            container: first,
            reason: "ImagePullBackOff".into(),
            message: format!("Back-off pulling image \"{image}\""),
        });
    }
    for c in &containers {
        if let Some(msg) = missing_reference(cluster, &plan.namespace, c) {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            return Some(Problem::Waiting {
                container: name,
                reason: "CreateContainerConfigError".into(),
                message: msg,
            });
        }
    }
    match fail {
        "CreateContainerConfigError" => Some(Problem::Waiting {
            container: first,
            reason: fail.into(),
            message: "secret \"fake-kube-missing\" not found".into(),
        }),
        "CrashLoopBackOff" => Some(Problem::Crash { container: first, oom: false }),
        "OOMKilled" => Some(Problem::Crash { container: first, oom: true }),
        "JobFailed" if plan.job => Some(Problem::JobFailed),
        _ => None,
    }
}
