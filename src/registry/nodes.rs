//! Wiring kind to ohdev's registry, the way kind documents it (`kind-with-registry.sh`): the
//! registry container joins the Docker network `kind`, and every node's containerd learns through
//! `/etc/containerd/certs.d/<host>/hosts.toml` that `<host>` is served by that container. Each step
//! looks first and changes only what differs, so a second run changes nothing.

use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::NetworkConnectRequest;
use bollard::Docker;
use futures_util::StreamExt;

use crate::error::Error;
use crate::tools::docker::describe;

/// The Docker network kind puts its nodes on.
pub const KIND_NETWORK: &str = "kind";
/// Where containerd (kind ≥ 0.27 by default) reads per-registry host configuration.
pub const CERTS_DIR: &str = "/etc/containerd/certs.d";
/// The first kind release whose nodes read `certs.d` without a `containerdConfigPatches` entry.
pub const CONFIG_PATH_DEFAULT_SINCE: (u64, u64) = (0, 27);

/// The `containerdConfigPatches` entry an older kind needs in cluster.yaml.
pub const CONTAINERD_PATCH: &str = "containerdConfigPatches:
  - |-
    [plugins.\"io.containerd.grpc.v1.cri\".registry]
      config_path = \"/etc/containerd/certs.d\"";

/// `hosts.toml` for `<host>`: pull from the registry container by its name on the `kind` network.
pub fn hosts_toml(host: &str, container: &str, port: u16) -> String {
    format!("# written by ohdev: {host} is the registry container {container} on the kind network\n[host.\"http://{container}:{port}\"]\n  capabilities = [\"pull\", \"resolve\"]\n")
}

/// The file on a node for `host` (`localhost:5001` → `/etc/containerd/certs.d/localhost:5001/hosts.toml`).
pub fn hosts_toml_path(host: &str) -> String {
    format!("{CERTS_DIR}/{host}/hosts.toml")
}

/// Whether a kind older than 0.27 is missing the patch that makes containerd read `certs.d`.
pub fn needs_containerd_patch(kind_version: &str, cluster_yaml: &str) -> bool {
    !crate::tools::docker::version_at_least(kind_version, CONFIG_PATH_DEFAULT_SINCE)
        && !cluster_yaml.contains(CERTS_DIR)
}

/// Connect `container` to the `kind` network when the network exists and it is not on it yet.
/// Returns whether anything changed.
pub async fn connect_to_kind_network(docker: &Docker, container: &str) -> Result<bool, Error> {
    match docker.inspect_network(KIND_NETWORK, None).await {
        Ok(_) => {}
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => return Ok(false),
        Err(error) => {
            return Err(Error::work(
                format!("inspecting Docker network {KIND_NETWORK} failed: {}", describe(&error)),
                None,
            ))
        }
    }
    let inspected = docker.inspect_container(container, None).await.map_err(|error| {
        Error::work(format!("inspecting Docker container {container} failed: {}", describe(&error)), None)
    })?;
    let connected = inspected
        .network_settings
        .and_then(|settings| settings.networks)
        .is_some_and(|networks| networks.contains_key(KIND_NETWORK));
    if connected {
        return Ok(false);
    }
    docker
        .connect_network(
            KIND_NETWORK,
            NetworkConnectRequest { container: container.to_string(), endpoint_config: None },
        )
        .await
        .map_err(|error| {
            Error::work(
                format!(
                    "connecting the registry container {container} to the Docker network {KIND_NETWORK} failed: {}",
                    describe(&error)
                ),
                Some(format!("`docker network connect {KIND_NETWORK} {container}`")),
            )
        })?;
    Ok(true)
}

/// Write `hosts.toml` for `host` on `node` unless it already says exactly `content`. Returns
/// whether it wrote.
pub async fn write_hosts_toml(docker: &Docker, node: &str, host: &str, content: &str) -> Result<bool, Error> {
    let path = hosts_toml_path(host);
    let (code, current) = exec(docker, node, vec!["cat".into(), path.clone()]).await?;
    if code == Some(0) && current == content {
        return Ok(false);
    }
    let directory = format!("{CERTS_DIR}/{host}");
    // The content is an argument, never part of the script: nothing here is a shell string built from data.
    let script =
        "mkdir -p \"$1\" && printf '%s' \"$2\" > \"$1/hosts.toml.tmp\" && mv \"$1/hosts.toml.tmp\" \"$1/hosts.toml\"";
    let argv = vec!["sh".into(), "-c".into(), script.into(), "sh".into(), directory, content.to_string()];
    let (code, output) = exec(docker, node, argv).await?;
    if code != Some(0) {
        return Err(Error::work(
            format!(
                "writing {path} on kind node {node} failed (exit {}): {}",
                code.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
                output.trim()
            ),
            Some(format!("`docker exec {node} ls -la {CERTS_DIR}` shows what is there")),
        ));
    }
    Ok(true)
}

/// Run `argv` in `container`; its exit code and combined output.
async fn exec(docker: &Docker, container: &str, argv: Vec<String>) -> Result<(Option<i64>, String), Error> {
    let shown = argv.join(" ");
    let failed = |error: bollard::errors::Error| {
        Error::work(format!("`docker exec {container} {shown}` failed: {}", describe(&error)), None)
    };
    let created = docker
        .create_exec(
            container,
            CreateExecOptions::<String> {
                cmd: Some(argv),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .map_err(failed)?;
    let mut text = String::new();
    if let StartExecResults::Attached { mut output, .. } = docker.start_exec(&created.id, None).await.map_err(failed)? {
        while let Some(chunk) = output.next().await {
            text.push_str(&chunk.map_err(failed)?.to_string());
        }
    }
    let inspected = docker.inspect_exec(&created.id).await.map_err(failed)?;
    Ok((inspected.exit_code, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_toml_names_the_container_on_the_kind_network() {
        assert_eq!(
            hosts_toml("localhost:5001", "ohdev-registry", 5000),
            "# written by ohdev: localhost:5001 is the registry container ohdev-registry on the kind network\n[host.\"http://ohdev-registry:5000\"]\n  capabilities = [\"pull\", \"resolve\"]\n"
        );
        assert_eq!(hosts_toml_path("localhost:5001"), "/etc/containerd/certs.d/localhost:5001/hosts.toml");
    }

    #[test]
    fn an_old_kind_needs_the_patch_unless_cluster_yaml_has_it() {
        let plain = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n";
        assert!(needs_containerd_patch("v0.26.0", plain));
        assert!(!needs_containerd_patch("v0.27.0", plain));
        assert!(!needs_containerd_patch("v0.30.1", plain));
        assert!(!needs_containerd_patch("v0.20.0", &format!("{plain}{CONTAINERD_PATCH}\n")));
    }
}
