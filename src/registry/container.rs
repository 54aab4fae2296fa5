//! ohdev's own registry container, through the Engine API: found before anything changes (what
//! answers on the port? is the image there?), then created or started only when needed. A registry
//! that already answers on the port is used as it is, whoever started it; something else on the
//! port stops ohdev with exit 2.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{ContainerCreateBody, HostConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum};
use bollard::query_parameters::{CreateContainerOptionsBuilder, ListContainersOptionsBuilder};
use bollard::Docker;

use super::client::{Client, Probe};
use crate::config::registry::{RegistryConfig, CONTAINER_PORT};
use crate::error::Error;
use crate::names::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use crate::tools::docker::describe;

/// The label on ohdev's registry container; its value is the host port.
pub const REGISTRY_LABEL: &str = "dev.ohdev.registry";

/// What is on the registry's port, found before anything changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A registry answers; `container` is the Docker container publishing the port, if it is one.
    Running { container: Option<Running> },
    /// Nothing answers; ohdev's stopped container of that name exists and will be started.
    Stopped { container: String },
    /// Nothing answers and there is no container: it will be created from `registry.image`.
    Absent,
}

/// A container that publishes the registry's port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub name: String,
    /// The port the registry listens on inside the container (what the nodes connect to).
    pub private_port: u16,
    /// Carries ohdev's labels.
    pub ours: bool,
}

/// Look at the port and Docker; changes nothing. Bad input (exit 2): something that is not a
/// registry holds the port, `create: false` with no registry there, or the image is missing.
pub async fn find(docker: &Docker, config: &RegistryConfig, file: &std::path::Path) -> Result<Found, Error> {
    let client = Client::new(&config.host);
    match client.probe().await {
        Probe::Registry { .. } => {
            // Only a loopback registry can be a container published on this machine's port.
            let container = if config.is_loopback() { publisher(docker, config.port).await? } else { None };
            return Ok(Found::Running { container });
        }
        Probe::NotRegistry { status, server } => {
            return Err(port_taken(
                config,
                file,
                &format!(
                    "it answers HTTP {status}{} to `GET /v2/`",
                    server.map(|server| format!(" (server {server})")).unwrap_or_default()
                ),
            ));
        }
        Probe::Nothing { cause } => {
            if config.is_loopback() && std::net::TcpListener::bind(("127.0.0.1", config.port)).is_err() {
                return Err(port_taken(config, file, &format!("it does not speak HTTP ({cause})")));
            }
        }
    }
    if !config.create {
        return Err(Error::Input {
            message: format!(
                "no registry answers at {} (`registry.create` is false in {}, so ohdev does not start one)",
                config.host,
                file.display()
            ),
            fix: format!(
                "start the registry that should serve {}, or remove `create: false` to let ohdev run one",
                config.host
            ),
        });
    }
    let name = config.container_name();
    match docker.inspect_container(&name, None).await {
        Ok(_) => return Ok(Found::Stopped { container: name }),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
        Err(error) => {
            return Err(Error::work(format!("inspecting Docker container {name} failed: {}", describe(&error)), None))
        }
    }
    match docker.inspect_image(&config.image).await {
        Ok(_) => Ok(Found::Absent),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Err(Error::Input {
            message: format!(
                "the registry image `{}` (registry.image in {}) is not in Docker, and ohdev pulls nothing",
                config.image,
                file.display()
            ),
            fix: format!(
                "`docker pull {}` once (it needs network access), or set `registry.image` to a registry image Docker has (`docker images`)",
                config.image
            ),
        }),
        Err(error) => Err(Error::work(format!("inspecting image {} failed: {}", config.image, describe(&error)), None)),
    }
}

fn port_taken(config: &RegistryConfig, file: &std::path::Path, what: &str) -> Error {
    Error::Input {
        message: format!(
            "port {} (registry.host `{}` in {}) is taken by something that is not a registry: {what}",
            config.port,
            config.host,
            file.display()
        ),
        fix: format!(
            "stop what listens there (`ss -ltnp 'sport = :{}'` shows it), or choose a free port in `registry.host`",
            config.port
        ),
    }
}

/// The running container that publishes `port` on the host, if any.
pub async fn publisher(docker: &Docker, port: u16) -> Result<Option<Running>, Error> {
    let mut filters = HashMap::new();
    filters.insert("publish".to_string(), vec![port.to_string()]);
    let options = ListContainersOptionsBuilder::default().filters(&filters).build();
    let containers = docker
        .list_containers(Some(options))
        .await
        .map_err(|error| Error::work(format!("listing Docker containers failed: {}", describe(&error)), None))?;
    Ok(containers.into_iter().find_map(|container| {
        let private_port =
            container.ports.iter().flatten().find(|binding| binding.public_port == Some(port))?.private_port;
        let name = container.names.iter().flatten().next()?.trim_start_matches('/').to_string();
        let ours = container.labels.as_ref().is_some_and(|labels| {
            labels.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY_VALUE)
                && labels.contains_key(REGISTRY_LABEL)
        });
        Some(Running { name, private_port, ours })
    }))
}

/// What ohdev creates: labelled, restarted with Docker, bound to loopback only, deletes enabled
/// (so `ohdev gc` can remove tags).
pub fn container_body(config: &RegistryConfig) -> ContainerCreateBody {
    let container_port = format!("{CONTAINER_PORT}/tcp");
    let mut bindings = HashMap::new();
    bindings.insert(
        container_port.clone(),
        Some(vec![PortBinding { host_ip: Some("127.0.0.1".to_string()), host_port: Some(config.port.to_string()) }]),
    );
    let mut labels = HashMap::new();
    labels.insert(MANAGED_BY_LABEL.to_string(), MANAGED_BY_VALUE.to_string());
    labels.insert(REGISTRY_LABEL.to_string(), config.port.to_string());
    ContainerCreateBody {
        image: Some(config.image.clone()),
        env: Some(vec!["REGISTRY_STORAGE_DELETE_ENABLED=true".to_string()]),
        labels: Some(labels),
        exposed_ports: Some(vec![container_port]),
        host_config: Some(HostConfig {
            port_bindings: Some(bindings),
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::ALWAYS),
                maximum_retry_count: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Make the registry answer: use what runs, start what is stopped, create what is absent; then wait
/// until `/v2/` answers. Returns the container that serves it (None: not a container ohdev can see).
pub async fn ensure(docker: &Docker, config: &RegistryConfig, found: &Found) -> Result<(Option<Running>, bool), Error> {
    let name = config.container_name();
    let changed = match found {
        Found::Running { container } => return Ok((container.clone(), false)),
        Found::Stopped { container } => {
            docker.start_container(container, None).await.map_err(|error| {
                Error::work(format!("starting the registry container {container} failed: {}", describe(&error)), None)
            })?;
            true
        }
        Found::Absent => {
            let options = CreateContainerOptionsBuilder::default().name(&name).build();
            docker.create_container(Some(options), container_body(config)).await.map_err(|error| {
                Error::work(format!("creating the registry container {name} failed: {}", describe(&error)), None)
            })?;
            docker.start_container(&name, None).await.map_err(|error| {
                Error::work(
                    format!("starting the registry container {name} failed: {}", describe(&error)),
                    Some(format!("`docker logs {name}` says why; `docker rm -f {name}` removes it")),
                )
            })?;
            true
        }
    };
    let client = Client::new(&config.host);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if client.probe().await.is_registry() {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            return Err(Error::work(
                format!(
                    "the registry container {name} started, but nothing answers at http://{}/v2/ after 20s",
                    config.host
                ),
                Some(format!("`docker logs {name}` says why")),
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok((Some(Running { name, private_port: CONTAINER_PORT, ours: true }), changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_container_is_labelled_bound_to_loopback_and_restarted() {
        let config = RegistryConfig::new("localhost:5123", true, "ohdev-test/registry:x").unwrap();
        let body = container_body(&config);
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["Image"], "ohdev-test/registry:x");
        assert_eq!(json["Env"], serde_json::json!(["REGISTRY_STORAGE_DELETE_ENABLED=true"]));
        assert_eq!(json["Labels"]["app.kubernetes.io/managed-by"], "ohdev");
        assert_eq!(json["Labels"]["dev.ohdev.registry"], "5123");
        assert_eq!(json["ExposedPorts"], serde_json::json!({"5000/tcp": {}}));
        assert_eq!(
            json["HostConfig"]["PortBindings"]["5000/tcp"],
            serde_json::json!([{"HostIp": "127.0.0.1", "HostPort": "5123"}])
        );
        assert_eq!(json["HostConfig"]["RestartPolicy"]["Name"], "always");
    }
}
