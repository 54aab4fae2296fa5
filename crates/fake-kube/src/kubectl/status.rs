//! Computed `.status` of stored objects, moving with the rollout clock (`pace`: time since the spec
//! last changed, in steps):
//! - Deployment/StatefulSet/DaemonSet: ready after `WORKLOAD_READY_STEPS` if every pod is healthy;
//!   until then observedGeneration lags one behind. Failing pods keep it unavailable; after
//!   `PROGRESS_DEADLINE_POLLS` reads a Deployment reports ProgressDeadlineExceeded.
//! - Job: Complete (or Failed) once its pod finished (`WORKLOAD_READY_STEPS`).
//! - PVC: Bound after `PVC_BOUND_STEPS`, but with a WaitForFirstConsumer class only once a pod
//!   uses it (like kind's `standard` class).
//! - CRD: Established (see `resources::crd_established`). Namespace: Active. Others: as stored.

use super::events::{event, Involved};
use super::pods::{replicas, PodView, WORKLOAD_READY_STEPS};
use super::resources::crd_established;
use crate::state::{Cluster, Obj};
use crate::util::json::str_at;
use crate::util::time;
use serde_json::{json, Value};

pub const PVC_BOUND_STEPS: u64 = 1;
pub const PROGRESS_DEADLINE_POLLS: u64 = 10;

fn cond(kind: &str, ok: bool, reason: &str, message: &str) -> Value {
    let now = time::now();
    json!({"type": kind, "status": if ok { "True" } else { "False" }, "reason": reason, "message": message, "lastUpdateTime": now, "lastTransitionTime": now})
}

fn owned(pods: &[PodView], index: usize) -> Vec<&PodView> {
    pods.iter().filter(|p| p.owner == Some(index)).collect()
}

fn generation(o: &Obj) -> u64 {
    o.body.pointer("/metadata/generation").and_then(Value::as_u64).unwrap_or(1)
}

/// True when a Deployment/StatefulSet/DaemonSet is fully rolled out and available.
pub fn workload_ready(cluster: &Cluster, o: &Obj, pods: &[&PodView]) -> bool {
    cluster.progress(o) >= WORKLOAD_READY_STEPS && pods.iter().all(|p| p.outcome.ready)
}

fn observed(o: &Obj, ready_or_failing: bool) -> Option<u64> {
    let g = generation(o);
    if ready_or_failing {
        Some(g)
    } else {
        Some(g - 1).filter(|g| *g > 0)
    }
}

fn deployment(cluster: &Cluster, o: &Obj, pods: &[&PodView]) -> Value {
    let want = replicas(o);
    let ready_pods = pods.iter().filter(|p| p.outcome.ready).count() as u64;
    let failing = pods.iter().any(|p| p.outcome.failure.is_some());
    let rs = format!("{}-{}", o.name, super::pods::template_hash(o));
    let mut s = json!({"replicas": want});
    if let Some(g) = observed(o, workload_ready(cluster, o, pods) || failing) {
        s["observedGeneration"] = json!(g);
    }
    if workload_ready(cluster, o, pods) {
        for k in ["readyReplicas", "availableReplicas", "updatedReplicas"] {
            s[k] = json!(want);
        }
        s["conditions"] = json!([
            cond("Available", true, "MinimumReplicasAvailable", "Deployment has minimum availability."),
            cond(
                "Progressing",
                true,
                "NewReplicaSetAvailable",
                &format!("ReplicaSet \"{rs}\" has successfully progressed.")
            ),
        ]);
        return s;
    }
    s["updatedReplicas"] = json!(want);
    s["unavailableReplicas"] = json!(want - ready_pods.min(want));
    if ready_pods > 0 {
        s["readyReplicas"] = json!(ready_pods);
        s["availableReplicas"] = json!(ready_pods);
    }
    let progressing = if failing && o.polls >= PROGRESS_DEADLINE_POLLS {
        cond(
            "Progressing",
            false,
            "ProgressDeadlineExceeded",
            &format!("ReplicaSet \"{rs}\" has timed out progressing."),
        )
    } else {
        cond("Progressing", true, "ReplicaSetUpdated", &format!("ReplicaSet \"{rs}\" is progressing."))
    };
    s["conditions"] = json!([
        cond("Available", false, "MinimumReplicasUnavailable", "Deployment does not have minimum availability."),
        progressing
    ]);
    s
}

fn statefulset(cluster: &Cluster, o: &Obj, pods: &[&PodView]) -> Value {
    let want = replicas(o);
    let ready =
        if workload_ready(cluster, o, pods) { want } else { pods.iter().filter(|p| p.outcome.ready).count() as u64 };
    let failing = pods.iter().any(|p| p.outcome.failure.is_some());
    let rev = format!("{}-{}", o.name, super::pods::template_hash(o));
    let mut s = json!({"replicas": want, "readyReplicas": ready, "availableReplicas": ready, "currentReplicas": want, "updatedReplicas": want, "currentRevision": rev, "updateRevision": rev, "collisionCount": 0});
    if let Some(g) = observed(o, workload_ready(cluster, o, pods) || failing) {
        s["observedGeneration"] = json!(g);
    }
    s
}

fn daemonset(cluster: &Cluster, o: &Obj, pods: &[&PodView]) -> Value {
    let n = pods.len() as u64;
    let ready =
        if workload_ready(cluster, o, pods) { n } else { pods.iter().filter(|p| p.outcome.ready).count() as u64 };
    let failing = pods.iter().any(|p| p.outcome.failure.is_some());
    let mut s = json!({"desiredNumberScheduled": n, "currentNumberScheduled": n, "updatedNumberScheduled": n, "numberMisscheduled": 0, "numberReady": ready, "numberAvailable": ready});
    if ready < n {
        s["numberUnavailable"] = json!(n - ready);
    }
    if let Some(g) = observed(o, workload_ready(cluster, o, pods) || failing) {
        s["observedGeneration"] = json!(g);
    }
    s
}

fn job(pods: &[&PodView]) -> Value {
    let now = time::now();
    let mut s = json!({"startTime": now});
    if pods.iter().any(|p| p.outcome.succeeded) {
        s["succeeded"] = json!(1);
        s["completionTime"] = json!(now);
        s["conditions"] = json!([
            cond("SuccessCriteriaMet", true, "CompletionsReached", "Reached expected number of succeeded pods"),
            cond("Complete", true, "CompletionsReached", "Reached expected number of succeeded pods")
        ]);
    } else if pods.iter().any(|p| p.outcome.failed) {
        s["failed"] = json!(1);
        s["conditions"] = json!([
            cond("FailureTarget", true, "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
            cond("Failed", true, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
        ]);
    } else {
        s["active"] = json!(pods.len());
        s["ready"] = json!(0);
    }
    s
}

/// The StorageClass a PVC uses: its own, or the default class.
fn storage_class<'a>(cluster: &'a Cluster, o: &Obj) -> Result<&'a Obj, String> {
    let classes = || cluster.objects.iter().filter(|x| x.kind == "StorageClass");
    match str_at(&o.body, &["spec", "storageClassName"]) {
        Some(name) => classes()
            .find(|x| x.name == name)
            .ok_or_else(|| format!("storageclass.storage.k8s.io \"{name}\" not found")),
        None => classes()
            .find(|x| {
                str_at(&x.body, &["metadata", "annotations", "storageclass.kubernetes.io/is-default-class"])
                    == Some("true")
            })
            .ok_or_else(|| "no persistent volumes available for this claim and no storage class is set".to_string()),
    }
}

fn pvc_consumed(o: &Obj, pods: &[PodView]) -> bool {
    pods.iter().any(|p| {
        str_at(&p.body, &["metadata", "namespace"]) == Some(o.namespace.as_str())
            && p.body.pointer("/spec/volumes").and_then(Value::as_array).is_some_and(|vs| {
                vs.iter().any(|v| {
                    v.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str) == Some(o.name.as_str())
                })
            })
    })
}

/// Why a PVC is still Pending (reason, message, event type), or None when it is Bound.
pub fn pvc_pending(cluster: &Cluster, o: &Obj, pods: &[PodView]) -> Option<(&'static str, String, &'static str)> {
    match storage_class(cluster, o) {
        Err(msg) => Some(("ProvisioningFailed", msg, "Warning")),
        Ok(sc) if str_at(&sc.body, &["volumeBindingMode"]) == Some("WaitForFirstConsumer") && !pvc_consumed(o, pods) => {
            Some(("WaitForFirstConsumer", "waiting for first consumer to be created before binding".into(), "Normal"))
        }
        Ok(_) if cluster.progress(o) < PVC_BOUND_STEPS => Some(("ExternalProvisioning", "Waiting for a volume to be created either by the external provisioner 'rancher.io/local-path' or manually by the system administrator. If volume creation is delayed, please verify that the volume has been provisioned.".into(), "Normal")),
        Ok(_) => None,
    }
}

fn pvc(cluster: &Cluster, o: &Obj, pods: &[PodView], body: &mut Value) -> Value {
    if pvc_pending(cluster, o, pods).is_some() {
        return json!({"phase": "Pending"});
    }
    let uid = str_at(&o.body, &["metadata", "uid"]).unwrap_or("");
    body["spec"]["volumeName"] = json!(format!("pvc-{uid}"));
    if let Ok(sc) = storage_class(cluster, o) {
        body["spec"]["storageClassName"] = json!(sc.name);
    }
    let modes = o.body.pointer("/spec/accessModes").cloned().unwrap_or(json!(["ReadWriteOnce"]));
    let size = o.body.pointer("/spec/resources/requests/storage").cloned().unwrap_or(json!("1Gi"));
    json!({"phase": "Bound", "accessModes": modes, "capacity": {"storage": size}})
}

fn crd(cluster: &Cluster, o: &Obj) -> Value {
    let established = crd_established(cluster, o);
    let est = if established {
        cond("Established", true, "InitialNamesAccepted", "the initial names have been accepted")
    } else {
        cond("Established", false, "Installing", "the initial names have been accepted")
    };
    let versions: Vec<Value> = o
        .body
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter(|v| v.get("storage") == Some(&json!(true)))
                .filter_map(|v| v.get("name").cloned())
                .collect()
        })
        .unwrap_or_default();
    json!({"acceptedNames": o.body.pointer("/spec/names").cloned().unwrap_or(json!({})), "conditions": [cond("NamesAccepted", true, "NoConflicts", "no conflicts found"), est], "storedVersions": versions})
}

/// The stored object at `index` as the API server would return it now (with status).
pub fn render(cluster: &Cluster, index: usize, pods: &[PodView]) -> Value {
    let o = &cluster.objects[index];
    let mut body = o.body.clone();
    let status = match (o.group.as_str(), o.kind.as_str()) {
        ("apps", "Deployment") => Some(deployment(cluster, o, &owned(pods, index))),
        ("apps", "StatefulSet") => Some(statefulset(cluster, o, &owned(pods, index))),
        ("apps", "DaemonSet") => Some(daemonset(cluster, o, &owned(pods, index))),
        ("batch", "Job") => Some(job(&owned(pods, index))),
        ("", "PersistentVolumeClaim") => Some(pvc(cluster, o, pods, &mut body)),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => Some(crd(cluster, o)),
        ("", "Namespace") => Some(json!({"phase": "Active"})),
        ("", "Service") => Some(json!({"loadBalancer": {}})),
        ("", "Pod") => pods.iter().find(|p| p.stored == Some(index)).map(|p| p.body["status"].clone()),
        _ => None,
    };
    if let Some(s) = status {
        body["status"] = s;
    }
    body
}

/// Events about stored objects (Deployments scaling, PVCs waiting, Jobs failing).
pub fn object_events(cluster: &Cluster, pods: &[PodView]) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, o) in cluster.objects.iter().enumerate() {
        let who = Involved {
            kind: o.kind.clone(),
            api_version: if o.group.is_empty() { o.version.clone() } else { format!("{}/{}", o.group, o.version) },
            namespace: o.namespace.clone(),
            name: o.name.clone(),
            uid: str_at(&o.body, &["metadata", "uid"]).unwrap_or("").into(),
        };
        let count = o.polls.max(1);
        match o.kind.as_str() {
            "Deployment" if o.group == "apps" => {
                let rs = format!("{}-{}", o.name, super::pods::template_hash(o));
                out.push(event(
                    &who,
                    "ScalingReplicaSet",
                    &format!("Scaled up replica set {rs} from 0 to {}", replicas(o)),
                    "Normal",
                    "deployment-controller",
                    None,
                    1,
                ));
            }
            "Job" if owned(pods, i).iter().any(|p| p.outcome.failed) => {
                out.push(event(
                    &who,
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                    "Warning",
                    "job-controller",
                    None,
                    1,
                ));
            }
            "PersistentVolumeClaim" => {
                if let Some((reason, msg, kind)) = pvc_pending(cluster, o, pods) {
                    out.push(event(&who, reason, &msg, kind, "persistentvolume-controller", None, count));
                }
            }
            _ => {}
        }
    }
    out
}
