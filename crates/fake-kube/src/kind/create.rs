//! `kind create cluster`: validates the config like kind, checks host ports like Docker would,
//! prints kind's progress lines (stderr) and records the cluster with its nodes.

use super::config::{self, KindConfig};
use super::kubeconfig;
use crate::app::Ctx;
use crate::flags::Parsed;
use crate::state::{Cluster, Node};
use crate::util::{hash, time};
use std::collections::BTreeMap;

pub const NODE_IMAGE: &str =
    "kindest/node:v1.32.2@sha256:f226345927d7e348497136874b6d207e0b32cc52154ad8323129352923a3142f";
const NODE_IMAGE_SHORT: &str = "kindest/node:v1.32.2";

/// Parses a Go duration like `5m`, `90s`, `1m30s`, `500ms` into milliseconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    if s == "0" {
        return Some(0);
    }
    let mut total = 0.0;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let ms = match &rest[..unit_len] {
            "ms" => 1.0,
            "s" => 1000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += n * ms;
    }
    Some(total as u64)
}

/// Formats milliseconds like Go's `time.Duration.String()` (whole seconds and up only).
pub fn format_duration(ms: u64) -> String {
    if ms < 1000 {
        return if ms == 0 { "0s".into() } else { format!("{ms}ms") };
    }
    let s = ms / 1000;
    let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
    if h > 0 {
        format!("{h}h{m}m{sec}s")
    } else if m > 0 {
        format!("{m}m{sec}s")
    } else {
        format!("{sec}s")
    }
}

fn port_in_use(p: &config::PortMapping) -> Option<String> {
    if p.host_port == 0 {
        return None;
    }
    let addr = format!("{}:{}", p.listen_address, p.host_port);
    let busy = if p.protocol.eq_ignore_ascii_case("UDP") {
        std::net::UdpSocket::bind(&addr).is_err()
    } else {
        std::net::TcpListener::bind(&addr).is_err()
    };
    busy.then_some(addr)
}

fn node_labels(name: &str, role: &str, extra: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    for (k, v) in [
        ("beta.kubernetes.io/arch", "amd64"),
        ("beta.kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", "amd64"),
        ("kubernetes.io/os", "linux"),
    ] {
        l.insert(k.to_string(), v.to_string());
    }
    l.insert("kubernetes.io/hostname".into(), name.into());
    if role == "control-plane" {
        l.insert("node-role.kubernetes.io/control-plane".into(), String::new());
        l.insert("node.kubernetes.io/exclude-from-external-load-balancers".into(), String::new());
    }
    l.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    l
}

pub fn run(ctx: &mut Ctx, p: &Parsed) -> i32 {
    let config_path = p.get("config").unwrap_or("");
    let (text, cfg): (String, Result<KindConfig, String>) = if config_path.is_empty() {
        (String::new(), Ok(config::default_config()))
    } else if config_path == "-" {
        let t = ctx.stdin.text().to_string();
        (t.clone(), config::parse(&t))
    } else {
        match std::fs::read_to_string(config_path) {
            Ok(t) => (t.clone(), config::parse(&t)),
            Err(_) => {
                (String::new(), Err(format!("error reading file: open {config_path}: no such file or directory")))
            }
        }
    };
    let cfg = match cfg {
        Ok(c) => c,
        Err(e) => return ctx.fail(1, &format!("ERROR: failed to create cluster: {e}")),
    };
    let name = p
        .get("name")
        .filter(|n| !n.is_empty())
        .map(String::from)
        .or_else(|| ctx.env.kind_cluster_name.clone())
        .or_else(|| cfg.name.clone())
        .unwrap_or_else(|| "kind".into());
    let wait = match p.get("wait").map(|w| (w, parse_duration(w))) {
        Some((w, None)) => {
            return ctx.fail(
                1,
                &format!("ERROR: invalid argument \"{w}\" for \"--wait\" flag: time: invalid duration \"{w}\""),
            )
        }
        Some((_, Some(ms))) => ms,
        None => 0,
    };
    let exists = match ctx.store.load() {
        Ok(s) => s.clusters.contains_key(&name),
        Err(e) => return ctx.fail(3, &format!("fake-kube: state: {e}")),
    };
    if exists {
        return ctx.fail(
            1,
            &format!("ERROR: failed to create cluster: node(s) already exist for a cluster with the name \"{name}\""),
        );
    }
    let named = config::node_names(&name, &cfg.nodes);
    ctx.warn(&format!("Creating cluster \"{name}\" ...\n"));
    let step = |ctx: &mut Ctx, s: &str| ctx.warn(&format!(" • {s}  ...\n ✓ {s}\n"));
    step(ctx, &format!("Ensuring node image ({NODE_IMAGE_SHORT}) 🖼"));
    let boxes = vec!["📦"; named.len()].join(" ");
    ctx.warn(&format!(" • Preparing nodes {boxes}  ...\n"));
    for (node_name, spec) in &named {
        if let Some(addr) = spec.ports.iter().find_map(port_in_use) {
            ctx.warn(&format!(" ✗ Preparing nodes {boxes}\n"));
            let id = hash::hex64(&format!("endpoint/{node_name}"));
            let proto = if spec.ports.iter().any(|p| p.protocol.eq_ignore_ascii_case("UDP")) { "udp4" } else { "tcp4" };
            return ctx.fail(
                1,
                &format!(
                    "ERROR: failed to create cluster: command \"docker run --name {node_name} --hostname {node_name} --label io.x-k8s.kind.role={} ... {NODE_IMAGE}\" failed with error: exit status 125\nCommand Output: docker: Error response from daemon: driver failed programming external connectivity on endpoint {node_name} ({id}): Error starting userland proxy: listen {proto} {addr}: bind: address already in use.",
                    spec.role
                ),
            );
        }
    }
    ctx.warn(&format!(" ✓ Preparing nodes {boxes}\n"));
    step(ctx, "Writing configuration 📜");
    step(ctx, "Starting control-plane 🕹️");
    step(ctx, "Installing CNI 🔌");
    step(ctx, "Installing StorageClass 💾");
    if named.iter().any(|(_, s)| s.role == "worker") {
        step(ctx, "Joining worker nodes 🚜");
    }
    if wait > 0 {
        ctx.warn(&format!(" • Waiting ≤ {} for control-plane = Ready ⏳  ...\n ✓ Waiting ≤ {} for control-plane = Ready ⏳\n • Ready after 0s 💚\n", format_duration(wait), format_duration(wait)));
    }
    let mut cluster = Cluster { name: name.clone(), config: text, created: time::now(), ..Default::default() };
    cluster.nodes = named
        .iter()
        .map(|(n, s)| Node {
            name: n.clone(),
            role: s.role.clone(),
            labels: if s.role == "external-load-balancer" {
                BTreeMap::new()
            } else {
                node_labels(n, &s.role, &s.labels)
            },
            images: BTreeMap::new(),
        })
        .collect();
    crate::kubectl::bootstrap::seed(&mut cluster);
    let containers: Vec<(String, String)> = named.iter().map(|(n, s)| (n.clone(), s.role.clone())).collect();
    if let Some(image) = ctx.env.node_image.clone() {
        if let Err(e) = super::containers::start(&ctx.env.docker_bin, &name, &containers, &image) {
            return ctx.fail(1, &format!("ERROR: failed to create cluster: {e}"));
        }
        cluster.node_containers = true;
    }
    let started = cluster.node_containers;
    let saved = ctx.store.transact(|s| {
        if s.clusters.contains_key(&name) {
            return false;
        }
        s.clusters.insert(name.clone(), cluster);
        true
    });
    match saved {
        Ok(true) => {}
        Ok(false) => {
            if started {
                let names: Vec<String> = containers.iter().map(|(n, _)| n.clone()).collect();
                super::containers::remove(&ctx.env.docker_bin, &names);
            }
            return ctx.fail(
                1,
                &format!(
                    "ERROR: failed to create cluster: node(s) already exist for a cluster with the name \"{name}\""
                ),
            );
        }
        Err(e) => return ctx.fail(3, &format!("fake-kube: state: {e}")),
    }
    let kubeconfig = p.get("kubeconfig").filter(|k| !k.is_empty());
    if let Some(path) = kubeconfig {
        if let Err(e) = kubeconfig::write(std::path::Path::new(path), &name, true) {
            return ctx.fail(1, &format!("ERROR: failed to create cluster: {e}"));
        }
    }
    let sample = match kubeconfig {
        Some(path) => format!("kubectl cluster-info --context kind-{name} --kubeconfig {path}"),
        None => format!("kubectl cluster-info --context kind-{name}"),
    };
    ctx.warn(&format!("Set kubectl context to \"kind-{name}\"\nYou can now use your cluster with:\n\n{sample}\n\nHave a nice day! 👋\n"));
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_round_trip() {
        assert_eq!(parse_duration("5m"), Some(300_000));
        assert_eq!(parse_duration("1m30s"), Some(90_000));
        assert_eq!(parse_duration("500ms"), Some(500));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(format_duration(300_000), "5m0s");
        assert_eq!(format_duration(3_600_000), "1h0m0s");
        assert_eq!(format_duration(30_000), "30s");
    }
}
