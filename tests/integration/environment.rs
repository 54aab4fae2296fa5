//! The environment assets: `kind/`, `examples/demo/` and the two `ohdev.yaml` files.
//!
//! - Every manifest object is parsed with serde_yaml and held to the security defaults of
//!   README.md ("The OpenHands environment") (non-root, no privilege escalation, capabilities dropped, RuntimeDefault
//!   seccomp, read-only root filesystem, requests and limits, probes, nothing in `default`,
//!   namespaced RBAC, default-deny NetworkPolicies). A negative control proves the checker bites.
//! - Both kind cluster configs publish ports on 127.0.0.1 only.
//! - Both ohdev.yaml files use only schema keys, and agree with their manifests and Dockerfiles.
//! - The demo image is built on the real Docker engine from `examples/demo` on the local busybox
//!   base (no python there: its busybox httpd fallback), inspected (non-root user, port 3000,
//!   HEALTHCHECK), run with a read-only root filesystem and no capabilities, and asked for
//!   `/health` over a published 127.0.0.1 port and through its own HEALTHCHECK command.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bollard::Docker;
use futures_util::StreamExt;
use serde::Deserialize as _;
use serde_yaml::Value;

const MANIFEST_DIRS: [&str; 2] = ["kind/manifests", "examples/demo/kind/manifests"];
const CLUSTER_CONFIGS: [&str; 2] = ["kind/cluster.yaml", "examples/demo/kind/cluster.yaml"];
const OHDEV_FILES: [&str; 2] = ["ohdev.yaml", "examples/demo/ohdev.yaml"];
const TEST_LABEL: (&str, &str) = ("ohdev.test", "1");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ------------------------------------------------------------------------------------------
// YAML helpers

/// One YAML document of a manifest file.
struct Doc {
    file: String,
    index: usize,
    value: Value,
}

impl Doc {
    fn kind(&self) -> &str {
        str_at(&self.value, &["kind"]).unwrap_or("")
    }

    fn name(&self) -> &str {
        str_at(&self.value, &["metadata", "name"]).unwrap_or("")
    }

    fn namespace(&self) -> Option<&str> {
        str_at(&self.value, &["metadata", "namespace"])
    }

    fn at(&self) -> String {
        format!("{} #{} {}/{}", self.file, self.index, self.kind(), self.name())
    }
}

fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |value, key| value.get(*key))
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(value, path).and_then(Value::as_str)
}

fn bool_at(value: &Value, path: &[&str]) -> Option<bool> {
    at(value, path).and_then(Value::as_bool)
}

fn seq_at<'a>(value: &'a Value, path: &[&str]) -> &'a [Value] {
    at(value, path).and_then(Value::as_sequence).map(Vec::as_slice).unwrap_or(&[])
}

fn parse_docs(file: &str, text: &str) -> Vec<Doc> {
    serde_yaml::Deserializer::from_str(text)
        .enumerate()
        .filter_map(|(index, document)| {
            let value = Value::deserialize(document)
                .unwrap_or_else(|error| panic!("{file}: document #{index} is not valid YAML: {error}"));
            (!value.is_null()).then(|| Doc { file: file.to_string(), index, value })
        })
        .collect()
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|error| panic!("read {}: {error}", dir.display())) {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn manifest_docs(dir: &str) -> Vec<Doc> {
    let root = repo();
    let files = yaml_files(&root.join(dir));
    assert!(!files.is_empty(), "no manifests under {dir}");
    files
        .iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(path).expect("read manifest");
            let relative = path.strip_prefix(&root).unwrap_or(path).display().to_string();
            parse_docs(&relative, &text)
        })
        .collect()
}

fn read_yaml(relative: &str) -> Value {
    read_yaml_path(&repo().join(relative))
}

fn read_yaml_path(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

// ------------------------------------------------------------------------------------------
// The security checker (pure: documents in, violations out)

const CLUSTER_SCOPED: [&str; 7] = [
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "IngressClass",
    "StorageClass",
    "PersistentVolume",
    "CustomResourceDefinition",
];
const LONG_RUNNING: [&str; 4] = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"];

fn pod_spec(doc: &Doc) -> Option<&Value> {
    match doc.kind() {
        "Pod" => at(&doc.value, &["spec"]),
        "CronJob" => at(&doc.value, &["spec", "jobTemplate", "spec", "template", "spec"]),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            at(&doc.value, &["spec", "template", "spec"])
        }
        _ => None,
    }
}

fn check_container(doc: &Doc, pod: &Value, container: &Value, init: bool, out: &mut Vec<String>) {
    let name = str_at(container, &["name"]).unwrap_or("?");
    let mut fail = |what: &str| out.push(format!("{}: container {name}: {what}", doc.at()));

    let non_root = bool_at(container, &["securityContext", "runAsNonRoot"])
        .or_else(|| bool_at(pod, &["securityContext", "runAsNonRoot"]));
    if non_root != Some(true) {
        fail("runAsNonRoot is not true (container or pod securityContext)");
    }
    for key in ["runAsUser", "runAsGroup"] {
        let id = at(container, &["securityContext", key]).or_else(|| at(pod, &["securityContext", key]));
        if id.and_then(Value::as_i64) == Some(0) {
            fail(&format!("{key} is 0"));
        }
    }
    if bool_at(container, &["securityContext", "allowPrivilegeEscalation"]) != Some(false) {
        fail("allowPrivilegeEscalation is not false");
    }
    if bool_at(container, &["securityContext", "privileged"]) == Some(true) {
        fail("privileged");
    }
    if bool_at(container, &["securityContext", "readOnlyRootFilesystem"]) != Some(true) {
        fail("readOnlyRootFilesystem is not true");
    }
    let drops: Vec<&str> =
        seq_at(container, &["securityContext", "capabilities", "drop"]).iter().filter_map(Value::as_str).collect();
    if !drops.contains(&"ALL") {
        fail("capabilities.drop does not contain ALL");
    }
    if !seq_at(container, &["securityContext", "capabilities", "add"]).is_empty() {
        fail("adds capabilities");
    }
    let seccomp = str_at(container, &["securityContext", "seccompProfile", "type"])
        .or_else(|| str_at(pod, &["securityContext", "seccompProfile", "type"]));
    if seccomp != Some("RuntimeDefault") {
        fail("seccompProfile.type is not RuntimeDefault (container or pod)");
    }
    for section in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            if at(container, &["resources", section, resource]).is_none() {
                fail(&format!("no resources.{section}.{resource}"));
            }
        }
    }
    if !init && LONG_RUNNING.contains(&doc.kind()) {
        for probe in ["readinessProbe", "livenessProbe"] {
            if at(container, &[probe]).is_none() {
                fail(&format!("no {probe}"));
            }
        }
    }
    // Images are loaded into kind, never pulled: `Always` would fail on every start.
    if str_at(container, &["imagePullPolicy"]) == Some("Always") {
        fail("imagePullPolicy Always (images are loaded into kind, not pulled)");
    }
    if str_at(container, &["image"]).is_none() {
        fail("no image");
    }
}

/// Every violation of the environment's security defaults in a set of manifest documents.
fn security_violations(docs: &[Doc]) -> Vec<String> {
    let mut out = Vec::new();
    for doc in docs {
        if doc.kind().is_empty() || str_at(&doc.value, &["apiVersion"]).is_none() {
            out.push(format!("{}: no kind or apiVersion", doc.at()));
        }
        if doc.name().is_empty() {
            out.push(format!("{}: no metadata.name", doc.at()));
        }
        if doc.kind() == "Namespace" && doc.name() == "default" {
            out.push(format!("{}: manages the default namespace", doc.at()));
        }
        match doc.namespace() {
            Some("default") => out.push(format!("{}: object in namespace default", doc.at())),
            None if !CLUSTER_SCOPED.contains(&doc.kind()) => {
                out.push(format!("{}: namespaced object without metadata.namespace", doc.at()))
            }
            _ => {}
        }
        if matches!(doc.kind(), "ClusterRole" | "ClusterRoleBinding") {
            out.push(format!("{}: cluster-wide RBAC", doc.at()));
        }
        if doc.kind() == "Role" {
            for rule in seq_at(&doc.value, &["rules"]) {
                for field in ["verbs", "resources", "apiGroups"] {
                    if seq_at(rule, &[field]).iter().any(|v| v.as_str() == Some("*")) {
                        out.push(format!("{}: wildcard in rules[].{field}", doc.at()));
                    }
                }
                if seq_at(rule, &["resources"]).iter().any(|v| v.as_str() == Some("secrets")) {
                    out.push(format!("{}: grants access to secrets", doc.at()));
                }
            }
        }
        let Some(pod) = pod_spec(doc) else { continue };
        for key in ["hostNetwork", "hostPID", "hostIPC"] {
            if bool_at(pod, &[key]) == Some(true) {
                out.push(format!("{}: {key}", doc.at()));
            }
        }
        if seq_at(pod, &["volumes"]).iter().any(|volume| volume.get("hostPath").is_some()) {
            out.push(format!("{}: hostPath volume", doc.at()));
        }
        let containers = seq_at(pod, &["containers"]);
        if containers.is_empty() {
            out.push(format!("{}: no containers", doc.at()));
        }
        for container in containers {
            check_container(doc, pod, container, false, &mut out);
        }
        for container in seq_at(pod, &["initContainers"]) {
            check_container(doc, pod, container, true, &mut out);
        }
    }
    out
}

fn assert_no_violations(what: &str, violations: Vec<String>) {
    assert!(violations.is_empty(), "{what}:\n  {}", violations.join("\n  "));
}

#[test]
fn manifests_meet_the_security_defaults() {
    for dir in MANIFEST_DIRS {
        let docs = manifest_docs(dir);
        let workloads = docs.iter().filter(|doc| LONG_RUNNING.contains(&doc.kind())).count();
        assert!(workloads >= 1, "{dir}: expected at least one long-running workload, found none");
        let namespaces: BTreeSet<&str> = docs.iter().filter(|doc| doc.kind() == "Namespace").map(Doc::name).collect();
        assert_eq!(namespaces.len(), 1, "{dir}: expected exactly one Namespace object, found {namespaces:?}");
        let mut violations = security_violations(&docs);
        for doc in &docs {
            if let Some(namespace) = doc.namespace() {
                if !namespaces.contains(namespace) {
                    violations.push(format!("{}: namespace {namespace} is not created by {dir}", doc.at()));
                }
            }
        }
        assert_no_violations(dir, violations);
    }
}

#[test]
fn security_checker_rejects_a_weak_pod() {
    // Negative control: a workload that breaks every rule must be reported on each of them.
    let weak = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: weak, namespace: default}
spec:
  template:
    spec:
      hostNetwork: true
      volumes: [{name: docker, hostPath: {path: /var/run/docker.sock}}]
      containers:
        - name: app
          image: app
          imagePullPolicy: Always
          securityContext: {privileged: true, runAsUser: 0, capabilities: {add: [NET_ADMIN]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: everything}
rules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]
";
    let violations = security_violations(&parse_docs("weak.yaml", weak));
    let text = violations.join("\n");
    for expected in [
        "object in namespace default",
        "hostNetwork",
        "hostPath volume",
        "runAsNonRoot is not true",
        "runAsUser is 0",
        "allowPrivilegeEscalation is not false",
        "privileged",
        "readOnlyRootFilesystem is not true",
        "capabilities.drop does not contain ALL",
        "adds capabilities",
        "seccompProfile.type is not RuntimeDefault",
        "no resources.requests.cpu",
        "no resources.limits.memory",
        "no readinessProbe",
        "no livenessProbe",
        "imagePullPolicy Always",
        "cluster-wide RBAC",
    ] {
        assert!(text.contains(expected), "checker missed {expected:?}; it reported:\n{text}");
    }
}

#[test]
fn openhands_rbac_is_namespaced_and_limited_to_what_the_kubernetes_runtime_uses() {
    let docs = manifest_docs("kind/manifests");
    let allowed: BTreeMap<&str, BTreeSet<&str>> = [
        ("pods", ["get", "list", "watch", "create", "delete"].as_slice()),
        ("pods/log", &["get"]),
        ("pods/exec", &["create"]),
        ("services", &["get", "list", "create", "delete"]),
        ("persistentvolumeclaims", &["get", "list", "create", "delete"]),
        ("ingresses", &["get", "list", "create", "delete"]),
    ]
    .into_iter()
    .map(|(resource, verbs)| (resource, verbs.iter().copied().collect()))
    .collect();

    let roles: Vec<&Doc> = docs.iter().filter(|doc| doc.kind() == "Role").collect();
    assert_eq!(roles.len(), 1, "expected one Role in kind/manifests");
    let role = roles[0];
    let mut granted = BTreeSet::new();
    for rule in seq_at(&role.value, &["rules"]) {
        for resource in seq_at(rule, &["resources"]).iter().filter_map(Value::as_str) {
            let verbs =
                allowed.get(resource).unwrap_or_else(|| panic!("{}: unexpected resource {resource}", role.at()));
            for verb in seq_at(rule, &["verbs"]).iter().filter_map(Value::as_str) {
                assert!(
                    verbs.contains(verb),
                    "{}: verb {verb} on {resource} is more than the runtime needs",
                    role.at()
                );
            }
            granted.insert(resource);
        }
    }
    let needed: BTreeSet<&str> = allowed.keys().copied().collect();
    assert_eq!(granted, needed, "the Role must grant each resource the Kubernetes runtime uses");

    let binding = docs.iter().find(|doc| doc.kind() == "RoleBinding").expect("a RoleBinding");
    assert_eq!(str_at(&binding.value, &["roleRef", "kind"]), Some("Role"));
    assert_eq!(str_at(&binding.value, &["roleRef", "name"]), Some(role.name()));
    let subject = &seq_at(&binding.value, &["subjects"])[0];
    let app = docs.iter().find(|doc| doc.kind() == "Deployment").expect("the app Deployment");
    assert_eq!(
        str_at(subject, &["name"]),
        str_at(&app.value, &["spec", "template", "spec", "serviceAccountName"]),
        "the RoleBinding must bind the app's ServiceAccount"
    );
    // Sandbox pods run as the namespace's default ServiceAccount: no token for them.
    let default_sa = docs
        .iter()
        .find(|doc| doc.kind() == "ServiceAccount" && doc.name() == "default")
        .expect("the namespace's default ServiceAccount is managed");
    assert_eq!(bool_at(&default_sa.value, &["automountServiceAccountToken"]), Some(false));
}

#[test]
fn network_policies_default_deny_and_allow_only_the_needed_paths() {
    for dir in MANIFEST_DIRS {
        let docs = manifest_docs(dir);
        let policies: Vec<&Doc> = docs.iter().filter(|doc| doc.kind() == "NetworkPolicy").collect();
        let default_deny = policies.iter().any(|doc| {
            at(&doc.value, &["spec", "podSelector"]).and_then(Value::as_mapping).is_some_and(|m| m.is_empty())
                && seq_at(&doc.value, &["spec", "policyTypes"]).iter().any(|t| t.as_str() == Some("Ingress"))
                && seq_at(&doc.value, &["spec", "ingress"]).is_empty()
        });
        assert!(default_deny, "{dir}: no default-deny ingress NetworkPolicy");
        for policy in &policies {
            let restricts_egress =
                seq_at(&policy.value, &["spec", "policyTypes"]).iter().any(|t| t.as_str() == Some("Egress"));
            if restricts_egress {
                let dns = seq_at(&policy.value, &["spec", "egress"]).iter().any(|rule| {
                    seq_at(rule, &["ports"]).iter().any(|port| {
                        at(port, &["port"]).and_then(Value::as_i64) == Some(53)
                            && str_at(port, &["protocol"]) == Some("UDP")
                    })
                });
                assert!(dns, "{}: restricts egress without allowing DNS (53/UDP)", policy.at());
            }
        }
    }
    // The sandbox pods are selected by the labels OpenHands' Kubernetes runtime sets
    // (app=openhands-runtime), and the app and ingress-nginx may reach them.
    let docs = manifest_docs("kind/manifests");
    let sandbox: Vec<&Doc> = docs
        .iter()
        .filter(|doc| {
            doc.kind() == "NetworkPolicy"
                && str_at(&doc.value, &["spec", "podSelector", "matchLabels", "app"]) == Some("openhands-runtime")
        })
        .collect();
    assert!(!sandbox.is_empty(), "no NetworkPolicy selects the sandbox pods (app=openhands-runtime)");
    let allowed_ports: BTreeSet<i64> = sandbox
        .iter()
        .flat_map(|doc| seq_at(&doc.value, &["spec", "ingress"]))
        .flat_map(|rule| seq_at(rule, &["ports"]))
        .filter_map(|port| at(port, &["port"]).and_then(Value::as_i64))
        .collect();
    for port in [8080, 8081] {
        assert!(allowed_ports.contains(&port), "sandbox port {port} is not reachable: {allowed_ports:?}");
    }
}

// ------------------------------------------------------------------------------------------
// kind cluster configs

fn port_mappings(cluster: &Value) -> Vec<&Value> {
    seq_at(cluster, &["nodes"]).iter().flat_map(|node| seq_at(node, &["extraPortMappings"])).collect()
}

#[test]
fn kind_cluster_configs_publish_ports_on_loopback_only() {
    for file in CLUSTER_CONFIGS {
        let cluster = read_yaml(file);
        assert_eq!(str_at(&cluster, &["kind"]), Some("Cluster"), "{file}");
        assert_eq!(str_at(&cluster, &["apiVersion"]), Some("kind.x-k8s.io/v1alpha4"), "{file}");
        let mappings = port_mappings(&cluster);
        assert!(!mappings.is_empty(), "{file}: no extraPortMappings");
        for mapping in mappings {
            assert_eq!(str_at(mapping, &["listenAddress"]), Some("127.0.0.1"), "{file}: {mapping:?}");
        }
    }

    let openhands = read_yaml("kind/cluster.yaml");
    assert_eq!(str_at(&openhands, &["name"]), Some("local-hands"));
    let control_plane = seq_at(&openhands, &["nodes"])
        .iter()
        .find(|node| str_at(node, &["role"]) == Some("control-plane"))
        .expect("a control-plane node");
    assert_eq!(str_at(control_plane, &["labels", "ingress-ready"]), Some("true"));
    let host_ports: BTreeSet<i64> = seq_at(control_plane, &["extraPortMappings"])
        .iter()
        .filter_map(|m| at(m, &["hostPort"]).and_then(Value::as_i64))
        .collect();
    assert_eq!(host_ports, BTreeSet::from([80, 443]));

    // The demo: NodePort of its Service -> containerPort of the mapping -> 127.0.0.1:8080.
    let demo = read_yaml("examples/demo/kind/cluster.yaml");
    assert_eq!(str_at(&demo, &["name"]), Some("ohdev-demo"));
    let mapping = port_mappings(&demo)[0];
    assert_eq!(at(mapping, &["hostPort"]).and_then(Value::as_i64), Some(8080));
    let container_port = at(mapping, &["containerPort"]).and_then(Value::as_i64);
    let docs = manifest_docs("examples/demo/kind/manifests");
    let service = docs.iter().find(|doc| doc.kind() == "Service").expect("demo Service");
    assert_eq!(str_at(&service.value, &["spec", "type"]), Some("NodePort"));
    let node_port = at(&seq_at(&service.value, &["spec", "ports"])[0], &["nodePort"]).and_then(Value::as_i64);
    assert_eq!(node_port, container_port, "the demo Service's nodePort must be the mapped containerPort");
}

// ------------------------------------------------------------------------------------------
// ohdev.yaml files

const TOP_KEYS: [&str; 9] =
    ["cluster", "namespace", "images", "manifests", "patches", "secrets", "deploy", "urls", "dev"];
const IMAGE_KEYS: [&str; 9] =
    ["context", "dockerfile", "target", "build_args", "platform", "depends_on", "prebuild", "sync", "expect"];

fn keys(value: &Value) -> Vec<String> {
    value.as_mapping().map(|m| m.keys().filter_map(|k| k.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// Logical image names the manifests use: `image: NAME` (no registry, no tag) and `${image:NAME}`.
fn images_used(docs: &[Doc]) -> BTreeSet<String> {
    fn walk(value: &Value, key: Option<&str>, out: &mut BTreeSet<String>) {
        match value {
            Value::Mapping(map) => {
                for (k, v) in map {
                    walk(v, k.as_str(), out);
                }
            }
            Value::Sequence(items) => items.iter().for_each(|v| walk(v, None, out)),
            Value::String(text) => {
                if key == Some("image") && !text.contains(['/', ':', '$']) {
                    out.insert(text.clone());
                }
                let mut rest = text.as_str();
                while let Some(start) = rest.find("${image:") {
                    let tail = &rest[start + "${image:".len()..];
                    let end = tail.find('}').expect("unterminated ${image:...}");
                    out.insert(tail[..end].to_string());
                    rest = &tail[end..];
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    docs.iter().for_each(|doc| walk(&doc.value, None, &mut out));
    out
}

fn dockerfile_stages(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [from, _, as_, stage, ..] if from.eq_ignore_ascii_case("FROM") && as_.eq_ignore_ascii_case("AS") => {
                    Some(stage.to_string())
                }
                _ => None,
            }
        })
        .collect()
}

#[test]
fn ohdev_yaml_files_use_schema_keys_and_agree_with_their_assets() {
    for file in OHDEV_FILES {
        let config = read_yaml(file);
        let base = repo().join(file).parent().expect("dir").to_path_buf();
        for key in keys(&config) {
            assert!(TOP_KEYS.contains(&key.as_str()), "{file}: unknown key {key}");
        }
        let cluster_config = str_at(&config, &["cluster", "config"]).expect("cluster.config");
        assert!(base.join(cluster_config).is_file(), "{file}: {cluster_config} missing");
        let cluster = read_yaml_path(&base.join(cluster_config));
        assert_eq!(
            str_at(&config, &["cluster", "name"]),
            str_at(&cluster, &["name"]),
            "{file}: cluster name differs from {cluster_config}"
        );

        let mut docs = Vec::new();
        for entry in seq_at(&config, &["manifests"]) {
            if let Some(path) = entry.as_str() {
                assert!(base.join(path).exists(), "{file}: manifests entry {path} missing");
                let relative = base.join(path).strip_prefix(repo()).unwrap().display().to_string();
                docs.extend(manifest_docs(&relative));
            } else {
                let url = str_at(entry, &["url"]).unwrap_or_else(|| panic!("{file}: manifests entry {entry:?}"));
                assert!(url.starts_with("https://"), "{file}: remote bundle over plain http: {url}");
            }
        }
        let namespace = str_at(&config, &["namespace"]).expect("namespace");
        assert!(
            docs.iter().any(|doc| doc.kind() == "Namespace" && doc.name() == namespace),
            "{file}: namespace {namespace} is not created by its manifests"
        );

        let images = at(&config, &["images"]).expect("images");
        let defined: BTreeSet<String> = keys(images).into_iter().collect();
        assert_eq!(images_used(&docs), defined, "{file}: images defined vs. used by manifests");
        for name in &defined {
            let image = &images[name.as_str()];
            for key in keys(image) {
                assert!(IMAGE_KEYS.contains(&key.as_str()), "{file}: images.{name}: unknown key {key}");
            }
            // Contexts outside this repository (OPENHANDS_ROOT) cannot be checked here.
            let context = str_at(image, &["context"]).expect("context");
            if !context.contains('$') {
                let dockerfile = base.join(context).join(str_at(image, &["dockerfile"]).unwrap_or("Dockerfile"));
                if let Some(target) = str_at(image, &["target"]) {
                    let text = std::fs::read_to_string(&dockerfile)
                        .unwrap_or_else(|e| panic!("{}: {e}", dockerfile.display()));
                    assert!(
                        dockerfile_stages(&text).contains(target),
                        "{file}: no stage {target} in {}",
                        dockerfile.display()
                    );
                }
            }
        }

        // Secrets ohdev generates are the ones the workloads load.
        let secret_refs: BTreeSet<String> = docs
            .iter()
            .filter_map(pod_spec)
            .flat_map(|pod| seq_at(pod, &["containers"]))
            .flat_map(|c| seq_at(c, &["envFrom"]))
            .filter_map(|e| str_at(e, &["secretRef", "name"]).map(str::to_string))
            .collect();
        let secrets: BTreeSet<String> = at(&config, &["secrets"]).map(keys).unwrap_or_default().into_iter().collect();
        assert_eq!(secrets, secret_refs, "{file}: generated Secrets vs. secretRefs of the workloads");
        assert!(
            !docs.iter().any(|doc| doc.kind() == "Secret"),
            "{file}: Secrets are generated by ohdev from .env, never committed as manifests"
        );
    }

    // The app's Dockerfile is staged into the checkout by its prebuild; check the source.
    let app = std::fs::read_to_string(repo().join("containers/app/Dockerfile")).expect("app Dockerfile");
    assert!(dockerfile_stages(&app).contains("openhands-app"));

    // The demo must come up offline with no setup: no remote bundles, no required secrets.
    let demo = read_yaml("examples/demo/ohdev.yaml");
    assert!(seq_at(&demo, &["manifests"]).iter().all(Value::is_string), "the demo must not need remote manifests");
    assert!(at(&demo, &["secrets"]).is_none(), "the demo must not need secrets");
}

// ------------------------------------------------------------------------------------------
// Dev mode of the root environment (ohdev.yaml `dev:`)

/// `value` with one RFC 6902 `add` applied (`-` appends); the dev patches use only `add`.
fn json_patch_add(value: &mut Value, path: &str, added: Value) {
    let (parent, last) = path.rsplit_once('/').expect("a JSON pointer");
    let mut target = value;
    for token in parent.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        target = match target {
            Value::Sequence(items) => &mut items[token.parse::<usize>().expect("an index")],
            other => other.get_mut(token.as_str()).unwrap_or_else(|| panic!("{path}: no {token}")),
        };
    }
    match target {
        Value::Sequence(items) if last == "-" => items.push(added),
        Value::Mapping(map) => {
            map.insert(Value::String(last.replace("~1", "/").replace("~0", "~")), added);
        }
        other => panic!("{path}: cannot add to {other:?}"),
    }
}

#[test]
fn the_dev_patch_keeps_the_security_defaults() {
    let config = read_yaml("ohdev.yaml");
    let patches = seq_at(&config, &["dev", "patches"]);
    assert!(!patches.is_empty(), "ohdev.yaml has no dev.patches");
    let mut docs = manifest_docs("kind/manifests");
    for patch in patches {
        let kind = str_at(patch, &["target", "kind"]).expect("target.kind");
        let name = str_at(patch, &["target", "name"]).expect("target.name");
        let doc = docs
            .iter_mut()
            .find(|doc| doc.kind() == kind && doc.name() == name)
            .unwrap_or_else(|| panic!("dev patch target {kind}/{name} is not in kind/manifests"));
        for op in seq_at(patch, &["ops"]) {
            assert_eq!(str_at(op, &["op"]), Some("add"), "this check applies only `add`: {op:?}");
            json_patch_add(&mut doc.value, str_at(op, &["path"]).expect("path"), op["value"].clone());
        }
    }
    assert_no_violations("kind/manifests with ohdev.yaml's dev.patches", security_violations(&docs));
    let deployment = docs.iter().find(|doc| doc.kind() == "Deployment" && doc.name() == "openhands").unwrap();
    let pod = pod_spec(deployment).unwrap();
    assert_eq!(seq_at(pod, &["initContainers"]).len(), 1, "the seed init container");
    // The sync rule writes where the patch mounts the writable volume.
    let rules = seq_at(&config, &["dev", "images", "app", "sync"]);
    let dest = str_at(&rules[0], &["dest"]).expect("dest");
    let mounted = seq_at(&seq_at(pod, &["containers"])[0], &["volumeMounts"])
        .iter()
        .any(|mount| str_at(mount, &["mountPath"]) == Some(dest) && str_at(mount, &["name"]) == Some("dev-source"));
    assert!(mounted, "dev sync destination {dest} is not the writable dev-source volume");
}

// ------------------------------------------------------------------------------------------
// The demo image on the real Docker engine

/// Removes what a test created, also when it panics (Drop runs on its own thread and runtime,
/// so it works from inside an async test). `stage_images` are the classic builder's step
/// images (" ---> <id>"): removed only while untagged, so the base image is never touched.
struct Cleanup {
    containers: Vec<String>,
    images: Vec<String>,
    stage_images: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let containers = std::mem::take(&mut self.containers);
        let images = std::mem::take(&mut self.images);
        let stage_images = std::mem::take(&mut self.stage_images);
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async {
                let Ok(docker) = Docker::connect_with_defaults() else {
                    return;
                };
                for id in containers {
                    let options =
                        bollard::query_parameters::RemoveContainerOptionsBuilder::default().force(true).v(true).build();
                    if let Err(error) = docker.remove_container(&id, Some(options)).await {
                        eprintln!("cleanup: removing container {id}: {error}");
                    }
                }
                for image in images {
                    let options = bollard::query_parameters::RemoveImageOptionsBuilder::default().force(true).build();
                    if let Err(error) = docker.remove_image(&image, Some(options), None).await {
                        eprintln!("cleanup: removing image {image}: {error}");
                    }
                }
                // Newest first, so that children go before their parents; failures (still in
                // use, already gone with their child) are expected and ignored.
                for id in stage_images.into_iter().rev() {
                    let untagged = match docker.inspect_image(&id).await {
                        Ok(image) => image.repo_tags.unwrap_or_default().is_empty(),
                        Err(_) => false,
                    };
                    if untagged {
                        let options = bollard::query_parameters::RemoveImageOptionsBuilder::default().build();
                        let _ = docker.remove_image(&id, Some(options), None).await;
                    }
                }
            });
        })
        .join();
    }
}

/// The build context of `dir` as Docker receives it: a tar of its files (with their modes),
/// leaving out the plain paths listed in its .dockerignore.
fn context_tar(dir: &Path) -> Vec<u8> {
    let ignore_text = std::fs::read_to_string(dir.join(".dockerignore")).unwrap_or_default();
    let ignored: BTreeSet<String> = ignore_text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            assert!(
                !line.contains(['*', '?', '[', '!']),
                "keep {}/.dockerignore to plain paths (this test applies only those): {line}",
                dir.display()
            );
            line.trim_matches('/').to_string()
        })
        .collect();
    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Deterministic);
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let mut entries: Vec<_> =
            std::fs::read_dir(dir.join(&relative)).expect("read context").map(|e| e.expect("entry").path()).collect();
        entries.sort();
        for path in entries {
            let name = relative.join(path.file_name().expect("file name"));
            if ignored.contains(&name.to_string_lossy().to_string()) {
                continue;
            }
            if path.is_dir() {
                pending.push(name);
            } else {
                builder.append_path_with_name(&path, &name).expect("append to context");
            }
        }
    }
    builder.into_inner().expect("context tar")
}

fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {response:?}")))?;
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default();
    Ok((status, body))
}

/// Polls until the server answers (the container needs a moment to start).
fn http_get_eventually(port: u16, path: &str) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match http_get(port, path) {
            Ok(answer) => return answer,
            Err(error) if Instant::now() > deadline => {
                panic!("GET {path} on 127.0.0.1:{port}: {error}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

async fn exec(docker: &Docker, container: &str, cmd: &[String]) -> (i64, String) {
    let config = bollard::models::ExecConfig {
        cmd: Some(cmd.to_vec()),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        ..Default::default()
    };
    let created = docker.create_exec(container, config).await.expect("create exec");
    let mut output = String::new();
    match docker.start_exec(&created.id, None::<bollard::exec::StartExecOptions>).await.expect("start exec") {
        bollard::exec::StartExecResults::Attached { output: mut stream, .. } => {
            while let Some(chunk) = stream.next().await {
                output.push_str(&chunk.expect("exec output").to_string());
            }
        }
        bollard::exec::StartExecResults::Detached => unreachable!("attached exec"),
    }
    let inspect = docker.inspect_exec(&created.id).await.expect("inspect exec");
    (inspect.exit_code.expect("exit code"), output)
}

#[test]
fn demo_image_builds_hardened_and_serves_health_on_the_busybox_base() {
    let Some(base) = crate::support::busybox::base_image() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(demo_image(base));
}

async fn demo_image(base: String) {
    let docker =
        Docker::connect_with_defaults().expect("docker client").negotiate_version().await.expect("docker version");
    let unique = format!(
        "{}-{}",
        std::process::id(),
        SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").subsec_nanos()
    );
    let tag = format!("ohdev-test/demo:{unique}");
    let mut cleanup = Cleanup { containers: Vec::new(), images: vec![tag.clone()], stage_images: Vec::new() };
    let labels = HashMap::from([(TEST_LABEL.0, TEST_LABEL.1)]);

    // Build: classic builder, context tar of examples/demo, BASE = the busybox image.
    let context = context_tar(&repo().join("examples/demo"));
    let options = bollard::query_parameters::BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(&tag)
        .target("app")
        .buildargs(&HashMap::from([("BASE", base.as_str()), ("DEMO_VERSION", "itest")]))
        .labels(&labels)
        .rm(true)
        .forcerm(true)
        .build();
    let mut log = String::new();
    let mut stream = docker.build_image(options, None, Some(bollard::body_full(context.into())));
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(text) = info.stream {
                    for line in text.lines() {
                        if let Some(id) = line.trim().strip_prefix("---> ") {
                            if id.len() == 12 && id.chars().all(|c| c.is_ascii_hexdigit()) {
                                cleanup.stage_images.push(id.to_string());
                            }
                        }
                    }
                    log.push_str(&text);
                }
                if let Some(detail) = info.error_detail {
                    panic!("demo build failed: {:?}\n{log}", detail.message);
                }
            }
            Err(error) => panic!("demo build failed: {error}\n{log}"),
        }
    }

    // The image: non-root user, port 3000, a real HEALTHCHECK, our label.
    let image = docker.inspect_image(&tag).await.expect("inspect demo image");
    let config = image.config.expect("image config");
    let user = config.user.clone().unwrap_or_default();
    let uid = user.split(':').next().unwrap_or("");
    assert!(!uid.is_empty() && uid != "0" && uid != "root", "image user must be non-root, is {user:?}");
    let ports = config.exposed_ports.clone().unwrap_or_default();
    assert!(ports.iter().any(|p| p == "3000/tcp"), "image must expose 3000/tcp, exposes {ports:?}");
    let health = config.healthcheck.clone().and_then(|h| h.test).unwrap_or_default();
    assert!(
        health.first().is_some_and(|kind| kind == "CMD" || kind == "CMD-SHELL"),
        "image must have a HEALTHCHECK, has {health:?}"
    );
    assert_eq!(config.labels.unwrap_or_default().get(TEST_LABEL.0).map(String::as_str), Some(TEST_LABEL.1));

    // Run it as Kubernetes would: read-only root filesystem, no capabilities, no new
    // privileges; port 3000 published on 127.0.0.1 at an ephemeral host port.
    let host_config = bollard::models::HostConfig {
        port_bindings: Some(HashMap::from([(
            "3000/tcp".to_string(),
            Some(vec![bollard::models::PortBinding {
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(String::new()),
            }]),
        )])),
        readonly_rootfs: Some(true),
        cap_drop: Some(vec!["ALL".into()]),
        security_opt: Some(vec!["no-new-privileges".into()]),
        ..Default::default()
    };
    let body = bollard::models::ContainerCreateBody {
        image: Some(tag.clone()),
        labels: Some(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
        host_config: Some(host_config),
        ..Default::default()
    };
    let name = format!("ohdev-test-demo-{unique}");
    let create = bollard::query_parameters::CreateContainerOptionsBuilder::default().name(&name).build();
    let created = docker.create_container(Some(create), body).await.expect("create demo container");
    cleanup.containers.push(created.id.clone());
    docker.start_container(&created.id, None).await.expect("start demo container");

    let inspect = docker.inspect_container(&created.id, None).await.expect("inspect container");
    let binding = inspect
        .network_settings
        .and_then(|n| n.ports)
        .and_then(|mut ports| ports.remove("3000/tcp"))
        .flatten()
        .and_then(|bindings| bindings.into_iter().next())
        .expect("3000/tcp is published");
    assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
    let port: u16 = binding.host_port.expect("host port").parse().expect("numeric host port");

    let (status, body) = http_get_eventually(port, "/health");
    assert_eq!(status, 200, "GET /health: {body}");
    assert!(body.contains("ok"), "GET /health body: {body:?}");
    let (status, _) = http_get_eventually(port, "/alive");
    assert_eq!(status, 200, "GET /alive");
    let (status, page) = http_get_eventually(port, "/");
    assert_eq!(status, 200, "GET /");
    assert!(
        page.contains("ohdev demo") && page.contains("itest"),
        "the page carries the build's version stamp: {page}"
    );
    let (status, info) = http_get_eventually(port, "/api/info");
    assert_eq!(status, 200, "GET /api/info");
    assert!(info.contains("\"version\": \"itest\""), "GET /api/info: {info}");

    // The image's own HEALTHCHECK command succeeds inside the container, which runs as the
    // image user (not root).
    let check: Vec<String> = match health[0].as_str() {
        "CMD-SHELL" => vec!["/bin/sh".into(), "-c".into(), health[1..].join(" ")],
        _ => health[1..].to_vec(),
    };
    let (code, output) = exec(&docker, &created.id, &check).await;
    assert_eq!(code, 0, "HEALTHCHECK command {check:?} failed: {output}");
    let (code, id) = exec(&docker, &created.id, &["id".to_string(), "-u".to_string()]).await;
    assert_eq!(code, 0, "id -u: {id}");
    assert_eq!(id.trim(), uid, "the server runs as the image user");

    drop(cleanup);
    assert!(docker.inspect_image(&tag).await.is_err(), "cleanup removes the test image");
}
