//! The part of kind's cluster config (`kind.x-k8s.io/v1alpha4`) the stand-in understands, with
//! kind's own decode errors (strict decoding: unknown fields are errors, as in kind).

use crate::util::json::string_map;
use serde_json::Value;
use std::collections::BTreeMap;

pub const API_VERSION: &str = "kind.x-k8s.io/v1alpha4";

#[derive(Debug, Clone, PartialEq)]
pub struct PortMapping {
    pub host_port: u16,
    pub listen_address: String,
    pub protocol: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    pub role: String,
    pub labels: BTreeMap<String, String>,
    pub ports: Vec<PortMapping>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KindConfig {
    pub name: Option<String>,
    pub nodes: Vec<NodeSpec>,
}

const CLUSTER_FIELDS: &[&str] = &[
    "kind",
    "apiVersion",
    "name",
    "featureGates",
    "runtimeConfig",
    "networking",
    "nodes",
    "kubeadmConfigPatches",
    "kubeadmConfigPatchesJSON6902",
    "containerdConfigPatches",
    "containerdConfigPatchesJSON6902",
];
const NODE_FIELDS: &[&str] = &[
    "role",
    "image",
    "labels",
    "extraMounts",
    "extraPortMappings",
    "kubeadmConfigPatches",
    "kubeadmConfigPatchesJSON6902",
];
const PORT_FIELDS: &[&str] = &["containerPort", "hostPort", "listenAddress", "protocol"];

/// The config kind uses when `--config` is not given: one control-plane node.
pub fn default_config() -> KindConfig {
    KindConfig {
        name: None,
        nodes: vec![NodeSpec { role: "control-plane".into(), labels: BTreeMap::new(), ports: vec![] }],
    }
}

fn line_of(text: &str, field: &str) -> usize {
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches("- ").trim_start();
            t.starts_with(&format!("{field}:"))
        })
        .map_or(1, |i| i + 1)
}

fn check_fields(text: &str, v: &Value, allowed: &[&str], type_name: &str, errs: &mut Vec<String>) {
    if let Value::Object(m) = v {
        for k in m.keys() {
            if !allowed.contains(&k.as_str()) {
                errs.push(format!("  line {}: field {k} not found in type v1alpha4.{type_name}", line_of(text, k)));
            }
        }
    }
}

/// Parses a kind config; the error is the text kind prints after "failed to create cluster: ".
pub fn parse(text: &str) -> Result<KindConfig, String> {
    let yaml: serde_yaml::Value = serde_yaml::from_str(text)
        .map_err(|e| format!("could not determine kind / apiVersion for config: yaml: {e}"))?;
    let v: Value =
        serde_json::to_value(&yaml).map_err(|e| format!("could not determine kind / apiVersion for config: {e}"))?;
    let api_version = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    if api_version != API_VERSION {
        return Err(format!("unknown apiVersion: {api_version}"));
    }
    if kind != "Cluster" {
        return Err(format!("unknown kind {kind} for apiVersion: {api_version}"));
    }
    let mut errs = Vec::new();
    check_fields(text, &v, CLUSTER_FIELDS, "Cluster", &mut errs);
    let mut nodes = Vec::new();
    for n in v.get("nodes").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
        check_fields(text, n, NODE_FIELDS, "Node", &mut errs);
        let mut ports = Vec::new();
        for p in n.get("extraPortMappings").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
            check_fields(text, p, PORT_FIELDS, "PortMapping", &mut errs);
            let host_port = p.get("hostPort").and_then(Value::as_u64).unwrap_or(0);
            ports.push(PortMapping {
                host_port: u16::try_from(host_port).unwrap_or(0),
                listen_address: p.get("listenAddress").and_then(Value::as_str).unwrap_or("0.0.0.0").to_string(),
                protocol: p.get("protocol").and_then(Value::as_str).unwrap_or("TCP").to_string(),
            });
        }
        let role = n.get("role").and_then(Value::as_str).unwrap_or("control-plane").to_string();
        nodes.push(NodeSpec { role, labels: string_map(n.get("labels")), ports });
    }
    if !errs.is_empty() {
        return Err(format!("unable to decode config: yaml: unmarshal errors:\n{}", errs.join("\n")));
    }
    if nodes.is_empty() {
        nodes = default_config().nodes;
    }
    let mut invalid = Vec::new();
    for n in &nodes {
        if n.role != "control-plane" && n.role != "worker" {
            invalid.push(format!("\t* invalid role: {:?}", n.role));
        }
    }
    if !nodes.iter().any(|n| n.role == "control-plane") {
        invalid.push("\t* must have at least one control-plane node".to_string());
    }
    if !invalid.is_empty() {
        return Err(format!("invalid configuration: {} error(s) occurred:\n{}", invalid.len(), invalid.join("\n")));
    }
    let name = v.get("name").and_then(Value::as_str).map(String::from);
    Ok(KindConfig { name, nodes })
}

/// Node container names, as kind names them: `N-control-plane`, `N-control-plane2`, `N-worker`,
/// `N-worker2`, …, plus `N-external-load-balancer` when there are several control planes.
pub fn node_names(cluster: &str, nodes: &[NodeSpec]) -> Vec<(String, NodeSpec)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for n in nodes {
        let c = counts.entry(n.role.as_str()).or_insert(0);
        *c += 1;
        let suffix = if *c == 1 { String::new() } else { c.to_string() };
        out.push((format!("{cluster}-{}{suffix}", n.role), n.clone()));
    }
    if counts.get("control-plane").copied().unwrap_or(0) > 1 {
        let lb = NodeSpec { role: "external-load-balancer".into(), labels: BTreeMap::new(), ports: vec![] };
        out.push((format!("{cluster}-external-load-balancer"), lb));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nodes_labels_and_ports() {
        let cfg = parse(
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: dev\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 8080\n    listenAddress: 127.0.0.1\n- role: worker\n  labels:\n    tier: apps\n- role: worker\n",
        )
        .unwrap();
        assert_eq!(cfg.name.as_deref(), Some("dev"));
        assert_eq!(
            cfg.nodes[0].ports,
            vec![PortMapping { host_port: 8080, listen_address: "127.0.0.1".into(), protocol: "TCP".into() }]
        );
        assert_eq!(cfg.nodes[1].labels["tier"], "apps");
        let names: Vec<String> = node_names("dev", &cfg.nodes).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["dev-control-plane", "dev-worker", "dev-worker2"]);
    }

    #[test]
    fn rejects_like_kind() {
        assert_eq!(
            parse("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha3\n").unwrap_err(),
            "unknown apiVersion: kind.x-k8s.io/v1alpha3"
        );
        assert_eq!(
            parse("kind: Config\napiVersion: kind.x-k8s.io/v1alpha4\n").unwrap_err(),
            "unknown kind Config for apiVersion: kind.x-k8s.io/v1alpha4"
        );
        assert_eq!(parse("apiVersion: v1\n").unwrap_err(), "unknown apiVersion: v1");
        assert!(parse("kind: [").unwrap_err().starts_with("could not determine kind / apiVersion for config: yaml: "));
        let e = parse("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: worker\n  port: 1\n")
            .unwrap_err();
        assert_eq!(
            e,
            "unable to decode config: yaml: unmarshal errors:\n  line 5: field port not found in type v1alpha4.Node"
        );
        assert!(parse("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: worker\n")
            .unwrap_err()
            .contains("control-plane"));
    }

    #[test]
    fn several_control_planes_get_a_load_balancer() {
        let cp = NodeSpec { role: "control-plane".into(), labels: BTreeMap::new(), ports: vec![] };
        let names: Vec<String> = node_names("k", &[cp.clone(), cp]).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["k-control-plane", "k-control-plane2", "k-external-load-balancer"]);
    }
}
