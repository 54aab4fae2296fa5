//! Images from a local registry, as a kind node gets them: a reference whose host is a loopback
//! registry (`localhost:<port>`, `127.0.0.1:<port>`), or the `hostFromContainerRuntime` that
//! ConfigMap `kube-public/local-registry-hosting` advertises (mapped to its `host`), is pulled only
//! when that registry answers `HEAD /v2/<repo>/manifests/<tag>` with 200. With real node containers
//! (`FAKE_KUBE_NODE_IMAGE`) the node must also have `/etc/containerd/certs.d/<host>/hosts.toml`:
//! without it containerd on a kind node dials its own loopback, where no registry runs.
//! A successful pull is remembered (`$FAKE_KUBE_STATE/pulls.txt`) and, with node containers, added
//! to the node's `crictl` stand-in list (`/var/lib/crictl-images`, one `ref size` per line).
//! Only loopback addresses are ever contacted.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::images;
use crate::state::{Cluster, Node};
use serde_json::Value;

const ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

/// The KEP-1755 ConfigMap's `hostFromContainerRuntime` → `host`, when the cluster has one.
fn advertised(cluster: &Cluster) -> Option<(String, String)> {
    let index = cluster.find("", "ConfigMap", "kube-public", "local-registry-hosting")?;
    let text = cluster.objects[index].body.pointer("/data/localRegistryHosting.v1")?.as_str()?;
    let doc: serde_yaml::Value = serde_yaml::from_str(text).ok()?;
    let host = doc.get("host")?.as_str()?.to_string();
    let runtime = doc.get("hostFromContainerRuntime").and_then(|v| v.as_str()).unwrap_or(&host).to_string();
    Some((runtime, host))
}

/// `localhost:5001` / `127.0.0.1:5001` → the loopback socket address.
fn loopback(host: &str) -> Option<SocketAddr> {
    let (name, port) = host.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let ip = match name {
        "localhost" => std::net::Ipv4Addr::LOCALHOST,
        other => other.parse::<std::net::Ipv4Addr>().ok().filter(|ip| ip.is_loopback())?,
    };
    Some(SocketAddr::from((ip, port)))
}

/// The registry host a reference is pulled from, the address to ask, the repository and the tag.
struct Target {
    host: String,
    address: SocketAddr,
    repository: String,
    reference: String,
}

fn target(cluster: &Cluster, image: &str) -> Option<Target> {
    let full = images::normalize(image);
    let (host, rest) = full.split_once('/')?;
    let asked = match advertised(cluster) {
        Some((runtime, pushed)) if runtime == host => pushed,
        _ => host.to_string(),
    };
    let address = loopback(&asked)?;
    let (repository, reference) = match rest.split_once('@') {
        Some((repository, digest)) => (repository.to_string(), digest.to_string()),
        None => {
            let (repository, tag) = rest.rsplit_once(':')?;
            (repository.to_string(), tag.to_string())
        }
    };
    Some(Target { host: host.to_string(), address, repository, reference })
}

/// The status code of `HEAD /v2/<repo>/manifests/<ref>`, or why there is none.
fn head_manifest(target: &Target) -> Result<u16, String> {
    let mut stream = TcpStream::connect_timeout(&target.address, Duration::from_secs(2))
        .map_err(|e| format!("dial tcp {}: connect: {e}", target.address))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!(
        "HEAD /v2/{}/manifests/{} HTTP/1.1\r\nHost: {}\r\nAccept: {ACCEPT}\r\nConnection: close\r\n\r\n",
        target.repository, target.reference, target.address
    );
    stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace().nth(1).and_then(|code| code.parse().ok()).ok_or_else(|| "no HTTP answer".to_string())
}

fn state_dir() -> Option<PathBuf> {
    std::env::var_os("FAKE_KUBE_STATE").map(PathBuf::from)
}

fn docker_bin() -> String {
    std::env::var("FAKE_KUBE_DOCKER").unwrap_or_else(|_| "docker".into())
}

fn pulled_before(node: &str, image: &str) -> bool {
    let Some(dir) = state_dir() else { return false };
    let line = format!("{node} {image}");
    std::fs::read_to_string(dir.join("pulls.txt")).is_ok_and(|text| text.lines().any(|l| l == line))
}

fn remember_pull(cluster: &Cluster, node: &str, image: &str) {
    if let Some(dir) = state_dir() {
        if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("pulls.txt")) {
            let _ = writeln!(file, "{node} {image}");
        }
    }
    if cluster.node_containers {
        let line = format!("{} 1000", images::normalize(image));
        let script = "grep -qxF \"$1\" /var/lib/crictl-images 2>/dev/null || echo \"$1\" >> /var/lib/crictl-images";
        let _ = Command::new(docker_bin())
            .args(["exec", node, "sh", "-c", script, "sh", &line])
            .stdin(Stdio::null())
            .output();
    }
}

fn node_has_hosts_toml(node: &str, host: &str) -> bool {
    let path = format!("/etc/containerd/certs.d/{host}/hosts.toml");
    Command::new(docker_bin())
        .args(["exec", node, "test", "-s", &path])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// None: not a local-registry image (the other rules apply). Some(Ok): the node gets it.
/// Some(Err(message)): the kubelet's ErrImagePull message.
pub fn pull(cluster: &Cluster, node: Option<&Node>, container: &Value) -> Option<Result<(), String>> {
    let image = container.get("image").and_then(Value::as_str).unwrap_or("");
    let target = target(cluster, image)?;
    let node_name = node.map(|n| n.name.as_str()).unwrap_or("");
    if pulled_before(node_name, image) {
        return Some(Ok(()));
    }
    let failed = |why: String| Some(Err(format!("Failed to pull image \"{image}\": rpc error: code = {why}")));
    if cluster.node_containers && !node_has_hosts_toml(node_name, &target.host) {
        return failed(format!(
            "Unknown desc = failed to pull and unpack image \"{}\": failed to resolve reference \"{}\": failed to do request: Head \"https://{}/v2/{}/manifests/{}\": dial tcp 127.0.0.1:{}: connect: connection refused",
            images::normalize(image),
            images::normalize(image),
            target.host,
            target.repository,
            target.reference,
            target.address.port()
        ));
    }
    match head_manifest(&target) {
        Ok(200) => {
            remember_pull(cluster, node_name, image);
            Some(Ok(()))
        }
        Ok(404) => failed(format!(
            "NotFound desc = failed to pull and unpack image \"{0}\": failed to resolve reference \"{0}\": {0}: not found",
            images::normalize(image)
        )),
        Ok(code) => failed(format!(
            "Unknown desc = failed to resolve reference \"{}\": unexpected status from HEAD request: {code}",
            images::normalize(image)
        )),
        Err(e) => failed(format!(
            "Unknown desc = failed to resolve reference \"{}\": failed to do request: {e}",
            images::normalize(image)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_registries_are_checked() {
        assert_eq!(loopback("localhost:5001"), Some(SocketAddr::from(([127, 0, 0, 1], 5001))));
        assert_eq!(loopback("127.0.0.1:5001"), Some(SocketAddr::from(([127, 0, 0, 1], 5001))));
        assert_eq!(loopback("10.0.0.1:5000"), None);
        assert_eq!(loopback("registry.example:5000"), None);
        assert_eq!(loopback("localhost"), None);
        let cluster = Cluster::default();
        assert!(target(&cluster, "nginx:1").is_none());
        assert!(target(&cluster, "ohdev.local/app:1").is_none());
        let t = target(&cluster, "localhost:5001/app:abc").expect("loopback");
        assert_eq!((t.repository.as_str(), t.reference.as_str()), ("app", "abc"));
    }
}
