//! kind's own `cluster.yaml` (kind.x-k8s.io/v1alpha4), parsed only to validate it and to read the
//! host ports it will bind. The file is handed to kind unchanged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::yaml_error::from_str_strict;
use crate::error::Error;

pub const API_VERSION: &str = "kind.x-k8s.io/v1alpha4";

/// Fields kind knows but ohdev only validates the shape of (they are handed to kind unchanged).
#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawKindCluster {
    kind: Option<String>,
    api_version: Option<String>,
    name: Option<String>,
    #[serde(default)]
    nodes: Vec<RawNode>,
    networking: Option<serde_yaml::Value>,
    feature_gates: Option<serde_yaml::Value>,
    runtime_config: Option<serde_yaml::Value>,
    kubeadm_config_patches: Option<serde_yaml::Value>,
    #[serde(rename = "kubeadmConfigPatchesJSON6902")]
    kubeadm_config_patches_json6902: Option<serde_yaml::Value>,
    containerd_config_patches: Option<serde_yaml::Value>,
    #[serde(rename = "containerdConfigPatchesJSON6902")]
    containerd_config_patches_json6902: Option<serde_yaml::Value>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawNode {
    role: Option<String>,
    image: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    extra_mounts: Option<serde_yaml::Value>,
    #[serde(default)]
    extra_port_mappings: Vec<RawPortMapping>,
    kubeadm_config_patches: Option<serde_yaml::Value>,
    #[serde(rename = "kubeadmConfigPatchesJSON6902")]
    kubeadm_config_patches_json6902: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPortMapping {
    container_port: u16,
    host_port: Option<u16>,
    listen_address: Option<String>,
    protocol: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    pub node: String,
    pub container_port: u16,
    pub host_port: u16,
    /// kind's default is 0.0.0.0 (every interface), which ohdev warns about.
    pub listen_address: String,
    pub protocol: String,
}

#[derive(Debug, Clone)]
pub struct KindCluster {
    pub path: PathBuf,
    /// The exact bytes handed to kind; hashed for drift detection.
    pub text: String,
    pub name: Option<String>,
    pub nodes: Vec<KindNode>,
}

#[derive(Debug, Clone)]
pub struct KindNode {
    // Role and labels are parsed (and validated) with the node; only the tests read them so far.
    #[allow(dead_code)]
    pub role: String,
    #[allow(dead_code)]
    pub labels: BTreeMap<String, String>,
    pub port_mappings: Vec<PortMapping>,
}

impl KindCluster {
    pub fn port_mappings(&self) -> impl Iterator<Item = &PortMapping> {
        self.nodes.iter().flat_map(|node| node.port_mappings.iter())
    }

    pub fn digest(&self) -> String {
        blake3::hash(self.text.as_bytes()).to_hex().to_string()
    }
}

pub fn load(path: &Path) -> Result<KindCluster, Error> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        Error::config(
            path,
            None,
            format!("cannot read the kind cluster config: {error}"),
            "create it (see kind/cluster.yaml in the ohdev repository) or point `cluster.config` in ohdev.yaml at it",
        )
    })?;
    parse(path, text)
}

pub fn parse(path: &Path, text: String) -> Result<KindCluster, Error> {
    if text.lines().all(|line| line.trim().is_empty() || line.trim_start().starts_with('#')) {
        return Err(Error::config(
            path,
            None,
            "the file is empty: kind needs at least `kind: Cluster` and `apiVersion`",
            format!(
                "write `kind: Cluster` and `apiVersion: {API_VERSION}` (see kind/cluster.yaml in the ohdev repository)"
            ),
        ));
    }
    let raw: RawKindCluster = from_str_strict(path, &text)?;
    match raw.kind.as_deref() {
        Some("Cluster") => {}
        other => {
            return Err(Error::config(
                path,
                key_line(&text, "kind"),
                format!("`kind` is {}, but a kind cluster config must say `kind: Cluster`", shown(other)),
                format!("set `kind: Cluster` and `apiVersion: {API_VERSION}`"),
            ))
        }
    }
    match raw.api_version.as_deref() {
        Some(API_VERSION) => {}
        other => {
            return Err(Error::config(
                path,
                key_line(&text, "apiVersion"),
                format!("`apiVersion` is {}, but kind reads `{API_VERSION}`", shown(other)),
                format!("set `apiVersion: {API_VERSION}`"),
            ))
        }
    }
    let cluster_name = raw.name.clone().unwrap_or_else(|| "kind".to_string());
    let mut nodes = Vec::new();
    let raw_nodes = if raw.nodes.is_empty() {
        vec![RawNode {
            role: Some("control-plane".into()),
            image: None,
            labels: BTreeMap::new(),
            extra_mounts: None,
            extra_port_mappings: Vec::new(),
            kubeadm_config_patches: None,
            kubeadm_config_patches_json6902: None,
        }]
    } else {
        raw.nodes
    };
    let mut workers = 0;
    let mut control_planes = 0;
    for raw_node in raw_nodes {
        let role = raw_node.role.unwrap_or_else(|| "control-plane".to_string());
        let node_name = match role.as_str() {
            "control-plane" => {
                control_planes += 1;
                suffix(&cluster_name, "control-plane", control_planes)
            }
            "worker" => {
                workers += 1;
                suffix(&cluster_name, "worker", workers)
            }
            other => {
                return Err(Error::config(
                    path,
                    value_line(&text, "role", other),
                    format!("node role `{other}` is not one kind knows"),
                    "use `role: control-plane` or `role: worker`",
                ))
            }
        };
        let mut port_mappings = Vec::new();
        for mapping in raw_node.extra_port_mappings {
            let protocol = mapping.protocol.unwrap_or_else(|| "TCP".to_string());
            if !matches!(protocol.as_str(), "TCP" | "UDP" | "SCTP") {
                return Err(Error::config(
                    path,
                    value_line(&text, "protocol", &protocol),
                    format!("port mapping protocol `{protocol}` is not TCP, UDP or SCTP"),
                    "use `protocol: TCP` (the default)",
                ));
            }
            let listen_address = mapping.listen_address.unwrap_or_else(|| "0.0.0.0".to_string());
            if listen_address.parse::<std::net::IpAddr>().is_err() {
                return Err(Error::config(
                    path,
                    value_line(&text, "listenAddress", &listen_address),
                    format!("listenAddress `{listen_address}` is not an IP address"),
                    "use `listenAddress: 127.0.0.1` (only this machine) or an address of one of its interfaces",
                ));
            }
            let host_port = mapping.host_port.unwrap_or(0);
            let taken =
                nodes.iter().flat_map(|node: &KindNode| node.port_mappings.iter()).chain(port_mappings.iter()).any(
                    |other: &PortMapping| {
                        host_port != 0
                            && other.host_port == host_port
                            && other.protocol == protocol
                            && (other.listen_address == listen_address
                                || other.listen_address == "0.0.0.0"
                                || listen_address == "0.0.0.0")
                    },
                );
            if taken {
                let lines = value_lines(&text, "hostPort", &host_port.to_string());
                let shown: Vec<String> = lines.iter().map(ToString::to_string).collect();
                return Err(Error::config(
                    path,
                    lines.last().copied(),
                    format!(
                        "hostPort {host_port} ({protocol}) is mapped more than once{}: Docker can bind it only once",
                        if shown.len() > 1 { format!(" (lines {})", shown.join(" and ")) } else { String::new() }
                    ),
                    "give each extraPortMappings entry its own hostPort",
                ));
            }
            port_mappings.push(PortMapping {
                node: node_name.clone(),
                container_port: mapping.container_port,
                host_port,
                listen_address,
                protocol,
            });
        }
        nodes.push(KindNode { role, labels: raw_node.labels, port_mappings });
    }
    if control_planes == 0 {
        return Err(Error::config(
            path,
            key_line(&text, "nodes"),
            "the cluster has no control-plane node",
            "add `- role: control-plane` as the first entry of `nodes`",
        ));
    }
    Ok(KindCluster { path: path.to_path_buf(), text, name: raw.name, nodes })
}

/// Every line where `key: value` is written.
fn value_lines(text: &str, key: &str, value: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let line = line.trim_start().trim_start_matches("- ");
            line.strip_prefix(key)
                .and_then(|rest| rest.strip_prefix(':'))
                .is_some_and(|rest| rest.trim().trim_matches(['"', '\'']) == value)
        })
        .map(|(index, _)| index + 1)
        .collect()
}

/// kind names nodes `<cluster>-control-plane`, `<cluster>-control-plane2`, `<cluster>-worker`, …
fn suffix(cluster: &str, role: &str, index: usize) -> String {
    if index == 1 {
        format!("{cluster}-{role}")
    } else {
        format!("{cluster}-{role}{index}")
    }
}

fn shown(value: Option<&str>) -> String {
    match value {
        Some(value) => format!("`{value}`"),
        None => "missing".to_string(),
    }
}

/// 1-based line of the first `key:` in the text (good enough to point a person at it).
pub fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let trimmed = line.trim_start().trim_start_matches("- ");
            trimmed.starts_with(&format!("{key}:"))
        })
        .map(|index| index + 1)
}

fn value_line(text: &str, key: &str, value: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let trimmed = line.trim_start().trim_start_matches("- ");
            trimmed.starts_with(&format!("{key}:")) && trimmed.contains(value)
        })
        .map(|index| index + 1)
        .or_else(|| key_line(text, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<KindCluster, Error> {
        parse(Path::new("kind/cluster.yaml"), text.to_string())
    }

    #[test]
    fn reads_nodes_and_ports() {
        let cluster = parse_text(
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: local-hands\nnodes:\n- role: control-plane\n  labels: {ingress-ready: \"true\"}\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 80\n    listenAddress: 127.0.0.1\n  - containerPort: 443\n    hostPort: 443\n- role: worker\n",
        )
        .unwrap();
        let ports: Vec<_> = cluster.port_mappings().collect();
        assert_eq!(ports.len(), 2);
        assert_eq!(ports[0].listen_address, "127.0.0.1");
        assert_eq!(ports[1].listen_address, "0.0.0.0");
        assert_eq!(ports[0].node, "local-hands-control-plane");
        assert_eq!(cluster.nodes[1].role, "worker");
        assert_eq!(cluster.nodes[0].labels["ingress-ready"], "true");
    }

    #[test]
    fn errors_name_the_line_and_fix() {
        let cases = [
            ("kind: Pod\napiVersion: kind.x-k8s.io/v1alpha4\n", 1, "kind: Cluster"),
            ("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha3\n", 2, "v1alpha4"),
            ("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: master\n", 4, "control-plane"),
            ("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodse: []\n", 3, "did you mean `nodes`"),
            (
                "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: worker\n  extraPortMapings: []\n",
                5,
                "extraPortMappings",
            ),
            ("kind: Cluster\n  bad: [\n", 2, "YAML"),
            ("# nothing yet\n\n", 0, "the file is empty"),
            (
                "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 8080\n  - containerPort: 443\n    hostPort: 8080\n",
                9,
                "give each extraPortMappings entry its own hostPort",
            ),
            (
                "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 8080\n    listenAddress: localhost\n",
                8,
                "use `listenAddress: 127.0.0.1`",
            ),
            (
                "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 8080\n- role: worker\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 8080\n    listenAddress: 127.0.0.1\n",
                11,
                "(lines 7 and 11)",
            ),
        ];
        for (text, line, fix) in cases {
            let error = parse_text(text).unwrap_err();
            assert!(error.to_string().contains(fix), "{text}: {error}");
            let shown = error.to_string();
            let location =
                if line == 0 { "kind/cluster.yaml:".to_string() } else { format!("kind/cluster.yaml:{line}:") };
            assert!(shown.starts_with(&location), "{shown}");
            assert!(shown.contains(fix), "{shown}");
            assert_eq!(error.exit_code(), 2);
        }
    }
}
