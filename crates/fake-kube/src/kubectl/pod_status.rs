//! A pod's simulated status from its spec, its node, the rest of the cluster and how far its
//! rollout has come (`progress`, in steps of time: `pace`). Failures come from the cluster (images that were
//! never loaded, missing Secrets/ConfigMaps/PVCs) or from the fixture annotation `fake-kube/fail`.

use super::events::{event, Involved};
use super::images;
use super::pod_problems::{find_problem, Problem};
use crate::state::Cluster;
use crate::util::{hash, time};
use serde_json::{json, Value};

pub const FAIL_ANNOTATION: &str = "fake-kube/fail";
/// `fake-kube/pulling: "N"`: the kubelet pulls the pod's images for its first N polls (Pending,
/// `ContainerCreating`, a `Pulling` event), then reports `Pulled` and the pod goes on as usual.
pub const PULLING_ANNOTATION: &str = "fake-kube/pulling";

pub struct PodPlan {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// `None` when the pod cannot be scheduled on any node.
    pub node: Option<String>,
    /// Rollout steps done (`pace`).
    pub progress: u64,
    /// Reads of its workload so far: restart and event counts grow with them.
    pub reads: u64,
    /// Steps after which a healthy pod is Running and Ready.
    pub ready_after: u64,
    /// Job pods run to completion (after `ready_after` steps) instead of staying Running.
    pub job: bool,
    /// The value of `fake-kube/fail` from the pod (template) or its workload.
    pub fail: Option<String>,
    /// Polls spent pulling images first (`fake-kube/pulling`), 0 without the annotation.
    pub pulling: u64,
}

#[derive(Debug, Default)]
pub struct PodOutcome {
    /// Why the pod cannot become ready (a kubelet/scheduler reason), if it cannot.
    pub failure: Option<String>,
    pub ready: bool,
    pub succeeded: bool,
    pub failed: bool,
    pub events: Vec<Value>,
}

fn image_id(cluster: &Cluster, plan: &PodPlan, image: &str) -> String {
    let node = plan.node.as_ref().and_then(|n| cluster.nodes.iter().find(|x| &x.name == n));
    match node.and_then(|n| images::loaded_id(n, image)) {
        Some(id) => id.clone(),
        None => {
            let full = images::normalize(image);
            let repo = full.rsplit_once(':').map_or(full.as_str(), |(r, _)| r);
            format!("{repo}@sha256:{}", hash::hex64(&full))
        }
    }
}

fn condition(kind: &str, ok: bool, reason: Option<&str>, message: Option<&str>) -> Value {
    let mut c = json!({"type": kind, "status": if ok { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": time::now()});
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    if let Some(m) = message {
        c["message"] = json!(m);
    }
    c
}

/// Fills `pod["status"]` and returns what it means for the pod's owner.
pub fn compute(cluster: &Cluster, plan: &PodPlan, pod: &mut Value) -> PodOutcome {
    let spec = pod.get("spec").cloned().unwrap_or(Value::Null);
    let containers: Vec<Value> = spec.get("containers").and_then(Value::as_array).cloned().unwrap_or_default();
    let problem = find_problem(cluster, plan, &spec);
    let now = time::now();
    // The first `pulling` reads are spent pulling (`fake-kube/pulling`): no start, no restarts yet.
    let count = plan.reads.saturating_sub(plan.pulling).max(1);
    let progress = if plan.reads < plan.pulling { 0 } else { plan.progress };
    let involved = Involved {
        kind: "Pod".into(),
        api_version: "v1".into(),
        namespace: plan.namespace.clone(),
        name: plan.name.clone(),
        uid: plan.uid.clone(),
    };
    let mut out = PodOutcome::default();
    let node_ip = plan
        .node
        .as_ref()
        .map(|n| format!("172.18.0.{}", 2 + cluster.nodes.iter().position(|x| &x.name == n).unwrap_or(0)));
    let pod_ip = format!(
        "10.244.{}.{}",
        hash::fnv64(plan.node.as_deref().unwrap_or("").as_bytes()) % 4,
        2 + hash::fnv64(plan.name.as_bytes()) % 250
    );

    if let Some(Problem::Unschedulable(msg)) = &problem {
        out.failure = Some("Unschedulable".into());
        out.events.push(event(&involved, "FailedScheduling", msg, "Warning", "default-scheduler", None, count));
        pod["status"] = json!({"phase": "Pending", "qosClass": "BestEffort", "conditions": [condition("PodScheduled", false, Some("Unschedulable"), Some(msg))]});
        return out;
    }
    if plan.pulling > 0 {
        for c in &containers {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            let image = c.get("image").and_then(Value::as_str).unwrap_or("");
            let fp = format!("spec.containers{{{name}}}");
            let pulling = format!("Pulling image \"{image}\"");
            out.events.push(event(&involved, "Pulling", &pulling, "Normal", "kubelet", Some(&fp), 1));
            if plan.reads >= plan.pulling {
                let pulled = format!(
                    "Successfully pulled image \"{image}\" in 1.5s (1.5s including waiting). Image size: 1000 bytes."
                );
                out.events.push(event(&involved, "Pulled", &pulled, "Normal", "kubelet", Some(&fp), 1));
            }
        }
        if plan.reads < plan.pulling {
            let statuses: Vec<Value> = containers
                .iter()
                .map(|c| {
                    json!({"name": c.get("name").cloned().unwrap_or(Value::Null), "image": c.get("image").cloned().unwrap_or(Value::Null),
                        "imageID": "", "ready": false, "restartCount": 0, "started": false, "lastState": {},
                        "state": {"waiting": {"reason": "ContainerCreating"}}})
                })
                .collect();
            pod["status"] = json!({
                "phase": "Pending",
                "qosClass": "BestEffort",
                "conditions": [
                    condition("PodReadyToStartContainers", false, None, None),
                    condition("Initialized", true, None, None),
                    condition("Ready", false, Some("ContainersNotReady"), None),
                    condition("ContainersReady", false, Some("ContainersNotReady"), None),
                    condition("PodScheduled", true, None, None),
                ],
                "containerStatuses": statuses,
            });
            return out;
        }
    }
    let started = progress >= 1;
    let done = plan.job && progress >= plan.ready_after;
    let mut phase = if started { "Running" } else { "Pending" };
    let mut ready = problem.is_none() && progress >= plan.ready_after && !plan.job;
    let mut statuses = Vec::new();
    for c in &containers {
        let name = c.get("name").and_then(Value::as_str).unwrap_or("");
        let image = c.get("image").and_then(Value::as_str).unwrap_or("");
        let mut st = json!({"name": name, "image": image, "imageID": "", "ready": false, "restartCount": 0, "started": false, "lastState": {}});
        let running = json!({"running": {"startedAt": now}});
        let creating = json!({"waiting": {"reason": "ContainerCreating"}});
        st["state"] = if started { running.clone() } else { creating.clone() };
        match &problem {
            Some(Problem::Waiting { container, reason, message }) if started && container == name => {
                phase = "Pending";
                st["state"] = json!({"waiting": {"reason": reason, "message": message}});
                out.failure = Some(reason.clone());
                let fp = format!("spec.containers{{{name}}}");
                match reason.as_str() {
                    // A registry pull that failed (registry.rs says why): the kubelet backs off.
                    "ErrImagePull" => {
                        let back_off = format!("Back-off pulling image \"{image}\"");
                        st["state"] = json!({"waiting": {"reason": "ImagePullBackOff", "message": back_off}});
                        out.failure = Some("ImagePullBackOff".into());
                        out.events.push(event(&involved, "Failed", message, "Warning", "kubelet", Some(&fp), count));
                        out.events.push(event(&involved, "BackOff", &back_off, "Normal", "kubelet", Some(&fp), count));
                    }
                    "ImagePullBackOff" => {
                        let full = images::normalize(image);
                        let pull_msg = format!("Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{full}\": failed to resolve reference \"{full}\": {full}: not found");
                        out.events.push(event(&involved, "Failed", &pull_msg, "Warning", "kubelet", Some(&fp), count));
                        out.events.push(event(&involved, "BackOff", message, "Normal", "kubelet", Some(&fp), count));
                    }
                    "ErrImageNeverPull" => {
                        out.events.push(event(&involved, reason, message, "Warning", "kubelet", Some(&fp), count));
                        out.events.push(event(
                            &involved,
                            "Failed",
                            "Error: ErrImageNeverPull",
                            "Warning",
                            "kubelet",
                            Some(&fp),
                            count,
                        ));
                    }
                    _ => out.events.push(event(
                        &involved,
                        "Failed",
                        &format!("Error: {message}"),
                        "Warning",
                        "kubelet",
                        Some(&fp),
                        count,
                    )),
                }
            }
            Some(Problem::Waiting { .. }) if started => st["state"] = creating.clone(),
            Some(Problem::Crash { container, oom }) if started && container == name => {
                let (code, reason) = if *oom { (137, "OOMKilled") } else { (1, "Error") };
                let msg = format!(
                    "back-off 5m0s restarting failed container={name} pod={}_{}({})",
                    plan.name, plan.namespace, plan.uid
                );
                st["state"] = json!({"waiting": {"reason": "CrashLoopBackOff", "message": msg}});
                st["lastState"] = json!({"terminated": {"exitCode": code, "reason": reason, "startedAt": now, "finishedAt": now, "containerID": format!("containerd://{}", hash::hex64(&plan.uid))}});
                st["restartCount"] = json!(count);
                st["imageID"] = json!(image_id(cluster, plan, image));
                out.failure = Some(if *oom { "OOMKilled".into() } else { "CrashLoopBackOff".into() });
                let backoff = format!(
                    "Back-off restarting failed container {name} in pod {}_{}({})",
                    plan.name, plan.namespace, plan.uid
                );
                out.events.push(event(
                    &involved,
                    "BackOff",
                    &backoff,
                    "Warning",
                    "kubelet",
                    Some(&format!("spec.containers{{{name}}}")),
                    count,
                ));
            }
            Some(Problem::JobFailed) if done => {
                phase = "Failed";
                st["state"] =
                    json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": now, "finishedAt": now}});
                st["imageID"] = json!(image_id(cluster, plan, image));
                out.failed = true;
                out.failure = Some("JobFailed".into());
            }
            None if done => {
                phase = "Succeeded";
                st["state"] =
                    json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now}});
                st["imageID"] = json!(image_id(cluster, plan, image));
                out.succeeded = true;
            }
            _ if started => {
                st["imageID"] = json!(image_id(cluster, plan, image));
                st["started"] = json!(true);
                st["ready"] = json!(ready);
                st["containerID"] = json!(format!("containerd://{}", hash::hex64(&format!("{}/{name}", plan.uid))));
            }
            _ => {}
        }
        statuses.push(st);
    }
    if out.failure.is_some() {
        ready = false;
    }
    let completed_reason = (out.succeeded || out.failed).then_some("PodCompleted");
    let mut status = json!({
        "phase": phase,
        "qosClass": "BestEffort",
        "startTime": now,
        "conditions": [
            condition("PodReadyToStartContainers", started, None, None),
            condition("Initialized", true, completed_reason, None),
            condition("Ready", ready, completed_reason.or((!ready).then_some("ContainersNotReady")), None),
            condition("ContainersReady", ready, completed_reason.or((!ready).then_some("ContainersNotReady")), None),
            condition("PodScheduled", true, None, None),
        ],
        "containerStatuses": statuses,
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
    });
    if let Some(ip) = node_ip {
        status["hostIP"] = json!(ip);
        status["hostIPs"] = json!([{"ip": ip}]);
    }
    pod["status"] = status;
    out.ready = ready;
    out
}
