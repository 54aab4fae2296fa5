//! Real node containers (`FAKE_KUBE_NODE_IMAGE`): one `docker run` per node, named and labelled
//! like kind's, on the Docker network `kind`, so tests can check what ohdev does *inside* nodes
//! (`docker exec`, files under `/etc/containerd/certs.d`, `crictl`). Only the name, labels and
//! network are kind's; the image is whatever small image the test gives (busybox in ohdev's tests).

use std::process::{Command, Stdio};

const NETWORK: &str = "kind";

fn docker(docker_bin: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(docker_bin)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running {docker_bin}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "command \"{docker_bin} {}\" failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The `kind` network, created like kind does when it is missing (parallel creators: the loser's
/// "already exists" is fine).
fn ensure_network(docker_bin: &str) -> Result<(), String> {
    if docker(docker_bin, &["network", "inspect", NETWORK]).is_ok() {
        return Ok(());
    }
    match docker(docker_bin, &["network", "create", NETWORK]) {
        Ok(_) => Ok(()),
        Err(_) if docker(docker_bin, &["network", "inspect", NETWORK]).is_ok() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Start one container per `(name, role)`; on failure remove the ones already started.
pub fn start(docker_bin: &str, cluster: &str, nodes: &[(String, String)], image: &str) -> Result<(), String> {
    ensure_network(docker_bin)?;
    let mut started: Vec<String> = Vec::new();
    for (name, role) in nodes {
        let cluster_label = format!("io.x-k8s.kind.cluster={cluster}");
        let role_label = format!("io.x-k8s.kind.role={role}");
        let args = [
            "run",
            "-d",
            "--name",
            name,
            "--hostname",
            name,
            "--network",
            NETWORK,
            "--label",
            &cluster_label,
            "--label",
            &role_label,
            image,
            "sleep",
            "2147483647",
        ];
        if let Err(e) = docker(docker_bin, &args) {
            remove(docker_bin, &started);
            return Err(e);
        }
        started.push(name.clone());
    }
    Ok(())
}

/// `docker rm -f` (a container that is already gone is fine).
pub fn remove(docker_bin: &str, names: &[String]) {
    if names.is_empty() {
        return;
    }
    let mut args = vec!["rm", "-f"];
    args.extend(names.iter().map(String::as_str));
    let _ = docker(docker_bin, &args);
}
