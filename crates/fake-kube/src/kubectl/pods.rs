//! Pods (and Deployments' ReplicaSets) are not stored: they are derived from the stored workloads
//! on each read. A Deployment with `replicas: N` has N pods named `<deploy>-<template hash>-<5>`;
//! a changed template gives new names (a rollout). StatefulSet pods are `<sts>-<ordinal>`,
//! DaemonSets get one pod per eligible node, Jobs one pod. Bare Pod objects are stored as applied.

use super::pod_status::{compute, PodOutcome, PodPlan, FAIL_ANNOTATION, PULLING_ANNOTATION};
use crate::state::{Cluster, Node, Obj};
use crate::util::hash;
use crate::util::json::{map_value, sorted, str_at, string_map};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Rollout steps (`pace`) after which a healthy workload (and its pods) is ready.
pub const WORKLOAD_READY_STEPS: u64 = crate::pace::STEPS;
/// Rollout steps after which a bare Pod is Running and Ready.
pub const POD_READY_STEPS: u64 = 1;

pub struct PodView {
    /// Index of the owning workload in `cluster.objects`.
    pub owner: Option<usize>,
    /// Index of the stored Pod, for bare pods.
    pub stored: Option<usize>,
    pub body: Value,
    pub outcome: PodOutcome,
}

pub fn is_workload(o: &Obj) -> bool {
    matches!(
        (o.group.as_str(), o.kind.as_str()),
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet") | ("batch", "Job")
    )
}

pub fn template_hash(o: &Obj) -> String {
    let t = o.body.pointer("/spec/template").cloned().unwrap_or(Value::Null);
    hash::safe_suffix(&sorted(&t).to_string(), 10)
}

fn uid_of(o: &Obj) -> String {
    str_at(&o.body, &["metadata", "uid"]).unwrap_or("").to_string()
}

/// Nodes regular pods go to: the workers, or the control plane(s) when there are none.
pub fn schedulable(cluster: &Cluster) -> Vec<&Node> {
    let workers: Vec<&Node> = cluster.nodes.iter().filter(|n| n.role == "worker").collect();
    if workers.is_empty() {
        cluster.nodes.iter().filter(|n| n.role == "control-plane").collect()
    } else {
        workers
    }
}

fn pick_node(cluster: &Cluster, pod_name: &str) -> Option<String> {
    let nodes = schedulable(cluster);
    (!nodes.is_empty()).then(|| nodes[(hash::fnv64(pod_name.as_bytes()) % nodes.len() as u64) as usize].name.clone())
}

fn daemon_nodes<'a>(cluster: &'a Cluster, o: &Obj) -> Vec<&'a Node> {
    let tolerates_cp = o.body.pointer("/spec/template/spec/tolerations").and_then(Value::as_array).is_some_and(|ts| {
        ts.iter().any(|t| {
            let key = str_at(t, &["key"]).unwrap_or("");
            key == "node-role.kubernetes.io/control-plane"
                || (key.is_empty() && str_at(t, &["operator"]) == Some("Exists"))
        })
    });
    let has_workers = cluster.nodes.iter().any(|n| n.role == "worker");
    cluster
        .nodes
        .iter()
        .filter(|n| n.is_kubernetes_node() && (n.role == "worker" || !has_workers || tolerates_cp))
        .collect()
}

fn fail_annotation(o: &Obj) -> Option<String> {
    annotation(o, FAIL_ANNOTATION)
}

/// A fixture annotation from the pod template, else the object's own metadata.
fn annotation(o: &Obj, key: &str) -> Option<String> {
    let from = |p: &str| o.body.pointer(p).and_then(|a| a.get(key)).and_then(Value::as_str).map(String::from);
    from("/spec/template/metadata/annotations").or_else(|| from("/metadata/annotations"))
}

/// `fake-kube/pulling: "N"` → N (0 without it, or when it is not a number).
fn pulling_annotation(o: &Obj) -> u64 {
    annotation(o, PULLING_ANNOTATION).and_then(|value| value.trim().parse().ok()).unwrap_or(0)
}

fn pod_spec(template_spec: &Value, node: Option<&str>, job: bool) -> Value {
    let mut spec = template_spec.clone();
    if !spec.is_object() {
        spec = json!({});
    }
    let defaults = [
        ("restartPolicy", json!(if job { "Never" } else { "Always" })),
        ("schedulerName", json!("default-scheduler")),
        ("serviceAccountName", json!("default")),
        ("dnsPolicy", json!("ClusterFirst")),
        ("terminationGracePeriodSeconds", json!(30)),
    ];
    for (k, v) in defaults {
        if spec.get(k).is_none() {
            spec[k] = v;
        }
    }
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    if let Some(cs) = spec.get_mut("containers").and_then(Value::as_array_mut) {
        for c in cs {
            let policy = super::images::pull_policy(c);
            c["imagePullPolicy"] = json!(policy);
        }
    }
    spec
}

struct Owned<'a> {
    cluster: &'a Cluster,
    index: usize,
    owner_ref: Value,
    labels: BTreeMap<String, String>,
    ready_after: u64,
    job: bool,
}

impl Owned<'_> {
    fn pod(&self, name: String, node: Option<String>, extra: &[(&str, String)]) -> PodView {
        let o = &self.cluster.objects[self.index];
        let mut labels = self.labels.clone();
        labels.extend(extra.iter().map(|(k, v)| ((*k).to_string(), v.clone())));
        let uid = hash::uid(&format!("{}/{name}/{}", o.namespace, uid_of(o)));
        let template = o.body.pointer("/spec/template").cloned().unwrap_or(Value::Null);
        let mut body = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": name, "namespace": o.namespace, "uid": uid, "labels": map_value(&labels),
                "ownerReferences": [self.owner_ref.clone()], "resourceVersion": self.cluster.resource_version.to_string(),
                "creationTimestamp": str_at(&o.body, &["metadata", "creationTimestamp"]).unwrap_or(""),
            },
            "spec": pod_spec(template.get("spec").unwrap_or(&Value::Null), node.as_deref(), self.job),
        });
        if let Some(a) = template.pointer("/metadata/annotations") {
            body["metadata"]["annotations"] = a.clone();
        }
        let plan = PodPlan {
            namespace: o.namespace.clone(),
            name,
            uid,
            node,
            progress: self.cluster.progress(o),
            reads: o.polls,
            ready_after: self.ready_after,
            job: self.job,
            fail: fail_annotation(o),
            pulling: pulling_annotation(o),
        };
        let outcome = compute(self.cluster, &plan, &mut body);
        PodView { owner: Some(self.index), stored: None, body, outcome }
    }
}

fn controller_ref(api_version: &str, kind: &str, name: &str, uid: &str) -> Value {
    json!({"apiVersion": api_version, "kind": kind, "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true})
}

/// The ReplicaSet a Deployment's current template runs in (without status).
pub fn replicaset_of(o: &Obj) -> Value {
    let h = template_hash(o);
    let name = format!("{}-{h}", o.name);
    let mut labels = string_map(o.body.pointer("/spec/template/metadata/labels"));
    labels.insert("pod-template-hash".into(), h.clone());
    let mut template = o.body.pointer("/spec/template").cloned().unwrap_or(json!({}));
    crate::util::json::set(&mut template, &["metadata", "labels"], map_value(&labels));
    let mut selector = o.body.pointer("/spec/selector").cloned().unwrap_or(json!({}));
    crate::util::json::set(&mut selector, &["matchLabels", "pod-template-hash"], json!(h));
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": o.namespace, "uid": hash::uid(&format!("rs/{}/{name}", uid_of(o))), "labels": map_value(&labels),
            "ownerReferences": [controller_ref("apps/v1", "Deployment", &o.name, &uid_of(o))],
            "creationTimestamp": str_at(&o.body, &["metadata", "creationTimestamp"]).unwrap_or("")},
        "spec": {"replicas": replicas(o), "selector": selector, "template": template},
    })
}

pub fn replicas(o: &Obj) -> u64 {
    o.body.pointer("/spec/replicas").and_then(Value::as_u64).unwrap_or(1)
}

fn workload_pods(cluster: &Cluster, index: usize) -> Vec<PodView> {
    let o = &cluster.objects[index];
    let labels = string_map(o.body.pointer("/spec/template/metadata/labels"));
    let h = template_hash(o);
    let mut owned =
        Owned { cluster, index, owner_ref: Value::Null, labels, ready_after: WORKLOAD_READY_STEPS, job: false };
    let epoch = o.pod_epoch;
    match o.kind.as_str() {
        "Deployment" => {
            let rs = replicaset_of(o);
            let rs_name = rs["metadata"]["name"].as_str().unwrap_or("").to_string();
            owned.owner_ref =
                controller_ref("apps/v1", "ReplicaSet", &rs_name, rs["metadata"]["uid"].as_str().unwrap_or(""));
            owned.labels.insert("pod-template-hash".into(), h);
            (0..replicas(o))
                .map(|i| {
                    let name = format!("{rs_name}-{}", hash::safe_suffix(&format!("{rs_name}/{i}/{epoch}"), 5));
                    let node = pick_node(cluster, &name);
                    owned.pod(name, node, &[])
                })
                .collect()
        }
        "StatefulSet" => {
            owned.owner_ref = controller_ref("apps/v1", "StatefulSet", &o.name, &uid_of(o));
            owned.labels.insert("controller-revision-hash".into(), format!("{}-{h}", o.name));
            (0..replicas(o))
                .map(|i| {
                    let name = format!("{}-{i}", o.name);
                    let node = pick_node(cluster, &name);
                    let extra = [
                        ("statefulset.kubernetes.io/pod-name", name.clone()),
                        ("apps.kubernetes.io/pod-index", i.to_string()),
                    ];
                    owned.pod(name, node, &extra)
                })
                .collect()
        }
        "DaemonSet" => {
            owned.owner_ref = controller_ref("apps/v1", "DaemonSet", &o.name, &uid_of(o));
            owned.labels.insert("controller-revision-hash".into(), h.clone());
            owned.labels.insert(
                "pod-template-generation".into(),
                o.body.pointer("/metadata/generation").and_then(Value::as_u64).unwrap_or(1).to_string(),
            );
            daemon_nodes(cluster, o)
                .into_iter()
                .map(|n| {
                    owned.pod(
                        format!("{}-{}", o.name, hash::safe_suffix(&format!("{}/{h}/{epoch}", n.name), 5)),
                        Some(n.name.clone()),
                        &[],
                    )
                })
                .collect()
        }
        _ => {
            let uid = uid_of(o);
            owned.owner_ref = controller_ref("batch/v1", "Job", &o.name, &uid);
            owned.job = true;
            for (k, v) in [
                ("batch.kubernetes.io/job-name", o.name.clone()),
                ("job-name", o.name.clone()),
                ("batch.kubernetes.io/controller-uid", uid.clone()),
                ("controller-uid", uid.clone()),
            ] {
                owned.labels.insert(k.into(), v);
            }
            let name = format!("{}-{}", o.name, hash::safe_suffix(&format!("{uid}/{epoch}"), 5));
            let node = pick_node(cluster, &name);
            vec![owned.pod(name, node, &[])]
        }
    }
}

fn bare_pod(cluster: &Cluster, index: usize) -> PodView {
    let o = &cluster.objects[index];
    let node = str_at(&o.body, &["spec", "nodeName"]).map(String::from).or_else(|| pick_node(cluster, &o.name));
    let mut body = o.body.clone();
    let job = false;
    body["spec"] = pod_spec(o.body.get("spec").unwrap_or(&Value::Null), node.as_deref(), job);
    let fail = o
        .body
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(FAIL_ANNOTATION))
        .and_then(Value::as_str)
        .map(String::from);
    let plan = PodPlan {
        namespace: o.namespace.clone(),
        name: o.name.clone(),
        uid: uid_of(o),
        node,
        progress: cluster.progress(o),
        reads: o.polls,
        ready_after: POD_READY_STEPS,
        job,
        fail,
        pulling: pulling_annotation(o),
    };
    let outcome = compute(cluster, &plan, &mut body);
    PodView { owner: None, stored: Some(index), body, outcome }
}

/// Every pod in the cluster, workloads' pods first, then bare pods, in store order.
pub fn all_pods(cluster: &Cluster) -> Vec<PodView> {
    let mut out = Vec::new();
    for (i, o) in cluster.objects.iter().enumerate() {
        if is_workload(o) {
            out.extend(workload_pods(cluster, i));
        }
    }
    for (i, o) in cluster.objects.iter().enumerate() {
        if o.group.is_empty() && o.kind == "Pod" {
            out.push(bare_pod(cluster, i));
        }
    }
    out
}
