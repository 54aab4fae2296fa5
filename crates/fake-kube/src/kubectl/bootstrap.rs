//! What a fresh kind cluster already holds: the system namespaces, the `standard` StorageClass
//! (local-path, WaitForFirstConsumer — as in kind), the `kubernetes` and `kube-dns` Services and
//! the CoreDNS and local-path-provisioner Deployments (long since ready).

use super::resources::resolve;
use super::store::upsert;
use crate::state::Cluster;
use serde_json::{json, Value};

fn add(cluster: &mut Cluster, kind: &str, ns: &str, body: Value) {
    let rt = resolve(cluster, kind).expect("built-in kind");
    let i = upsert(cluster, &rt, ns, body, "kube-controller-manager").index;
    cluster.objects[i].polls = 100;
}

fn deployment(name: &str, ns: &str, app: (&str, &str), image: &str, replicas: u64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": {app.0: app.1}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {app.0: app.1}},
            "template": {"metadata": {"labels": {app.0: app.1}}, "spec": {"containers": [{"name": name, "image": image}]}}}
    })
}

pub fn seed(cluster: &mut Cluster) {
    for ns in ["default", "kube-node-lease", "kube-public", "kube-system", "local-path-storage"] {
        add(
            cluster,
            "namespace",
            "",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}, "spec": {"finalizers": ["kubernetes"]}}),
        );
    }
    add(
        cluster,
        "storageclass",
        "",
        json!({
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"
        }),
    );
    add(
        cluster,
        "service",
        "default",
        json!({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}
        }),
    );
    add(
        cluster,
        "service",
        "kube-system",
        json!({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "kube-dns", "labels": {"k8s-app": "kube-dns"}},
            "spec": {"clusterIP": "10.96.0.10", "selector": {"k8s-app": "kube-dns"}, "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}
        }),
    );
    add(
        cluster,
        "deployment",
        "kube-system",
        deployment("coredns", "kube-system", ("k8s-app", "kube-dns"), "registry.k8s.io/coredns/coredns:v1.11.3", 2),
    );
    add(
        cluster,
        "deployment",
        "local-path-storage",
        deployment(
            "local-path-provisioner",
            "local-path-storage",
            ("app", "local-path-provisioner"),
            "docker.io/kindest/local-path-provisioner:v20250214-acbabc1a",
            1,
        ),
    );
}
