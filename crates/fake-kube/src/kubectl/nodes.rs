//! Node objects for the cluster's kind nodes: labels (hostname, role, the kind config's labels),
//! Ready condition, kubelet v1.32.2, the control-plane taint when there are workers, and
//! `status.images` with every image loaded by `kind load docker-image`.

use super::images::normalize;
use crate::state::{Cluster, Node};
use crate::util::json::map_value;
use crate::util::{hash, time};
use serde_json::{json, Value};

pub const KUBELET_VERSION: &str = "v1.32.2";

fn condition(kind: &str, status: &str, reason: &str, message: &str) -> Value {
    let now = time::now();
    json!({"type": kind, "status": status, "reason": reason, "message": message, "lastHeartbeatTime": now, "lastTransitionTime": now})
}

pub fn node_object(cluster: &Cluster, index: usize, node: &Node) -> Value {
    let has_workers = cluster.nodes.iter().any(|n| n.role == "worker");
    let mut images: Vec<Value> = Vec::new();
    let mut by_id: Vec<(String, Vec<String>)> = Vec::new();
    for (tag, id) in &node.images {
        let name = normalize(tag);
        match by_id.iter_mut().find(|(i, _)| i == id) {
            Some((_, names)) => names.push(name),
            None => by_id.push((id.clone(), vec![name])),
        }
    }
    for (id, mut names) in by_id {
        names.push(id);
        images.push(json!({"names": names, "sizeBytes": 0}));
    }
    let ip = format!("172.18.0.{}", 2 + index);
    let mut spec = json!({"podCIDR": format!("10.244.{index}.0/24"), "podCIDRs": [format!("10.244.{index}.0/24")], "providerID": format!("kind://docker/{}/{}", cluster.name, node.name)});
    if node.role == "control-plane" && has_workers {
        spec["taints"] = json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": node.name, "uid": hash::uid(&format!("node/{}/{}", cluster.name, node.name)), "labels": map_value(&node.labels), "creationTimestamp": cluster.created, "resourceVersion": cluster.resource_version.to_string()},
        "spec": spec,
        "status": {
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": node.name}],
            "allocatable": {"cpu": "8", "ephemeral-storage": "100Gi", "memory": "16Gi", "pods": "110"},
            "capacity": {"cpu": "8", "ephemeral-storage": "100Gi", "memory": "16Gi", "pods": "110"},
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "images": images,
            "nodeInfo": {
                "architecture": "amd64", "bootID": hash::uid(&format!("boot/{}", node.name)), "containerRuntimeVersion": "containerd://2.0.2",
                "kernelVersion": "6.1.0-fake", "kubeProxyVersion": KUBELET_VERSION, "kubeletVersion": KUBELET_VERSION,
                "machineID": hash::hex64(&node.name)[..32].to_string(), "operatingSystem": "linux", "osImage": "Debian GNU/Linux 12 (bookworm)",
                "systemUUID": hash::uid(&format!("system/{}", node.name)),
            },
        },
    })
}

/// Node objects for every Kubernetes node of the cluster (not kind's load balancer container).
pub fn all(cluster: &Cluster) -> Vec<Value> {
    cluster
        .nodes
        .iter()
        .filter(|n| n.is_kubernetes_node())
        .enumerate()
        .map(|(i, n)| node_object(cluster, i, n))
        .collect()
}
