//! The Docker Engine through bollard (never by parsing `docker` CLI output).

use std::time::Duration;

use bollard::Docker;

use crate::error::Error;

/// Where bollard will connect, for messages.
pub fn endpoint() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".to_string())
}

#[derive(Debug, Clone)]
pub struct EngineInfo {
    pub version: String,
    pub api_version: String,
    pub os: String,
    pub root_dir: Option<String>,
}

/// A bollard error as a person can read it: bollard wraps connection failures as "Error in the hyper
/// legacy client: client error (Connect)", which says nothing; the innermost cause ("Connection
/// refused", "No such file or directory") does.
pub fn describe(error: &bollard::errors::Error) -> String {
    let top = error.to_string();
    let mut innermost: Option<String> = None;
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        innermost = Some(cause.to_string());
        source = cause.source();
    }
    match innermost {
        Some(cause) if top.contains("hyper") || top.contains("client error") => cause,
        Some(cause) if !top.contains(&cause) => format!("{top}: {cause}"),
        _ => top,
    }
    .replace("hyper legacy client", "Docker client")
}

/// Connect (DOCKER_HOST or the default socket) and negotiate the API version: one round trip
/// (`/version`), which also proves the daemon answers.
pub async fn connect() -> Result<Docker, Error> {
    let unreachable = |cause: String| Error::DockerUnreachable { endpoint: endpoint(), cause };
    let docker = Docker::connect_with_defaults().map_err(|error| unreachable(describe(&error)))?;
    tokio::time::timeout(Duration::from_secs(10), docker.negotiate_version())
        .await
        .map_err(|_| unreachable("no answer within 10s".to_string()))?
        .map_err(|error| unreachable(describe(&error)))
}

/// Version, API version and OS (one round trip); `root_dir` is filled by [`engine_root_dir`].
pub async fn engine_info(docker: &Docker) -> Result<EngineInfo, Error> {
    let version = docker.version().await.map_err(|error| {
        Error::work(format!("asking the Docker daemon for its version failed: {}", describe(&error)), None)
    })?;
    Ok(EngineInfo {
        version: version.version.unwrap_or_else(|| "unknown".into()),
        api_version: version.api_version.unwrap_or_else(|| "unknown".into()),
        os: version.os.unwrap_or_else(|| "linux".into()),
        root_dir: None,
    })
}

/// Where the daemon keeps images (for the disk check).
pub async fn engine_root_dir(docker: &Docker) -> Option<String> {
    docker.info().await.ok().and_then(|info| info.docker_root_dir)
}

/// BuildKit through the API needs a Linux daemon speaking API ≥ 1.39 (Docker 18.09).
pub fn supports_buildkit(info: &EngineInfo) -> bool {
    info.os == "linux" && version_at_least(&info.api_version, (1, 39))
}

/// `1.41` ≥ (1, 39)
pub fn version_at_least(version: &str, minimum: (u64, u64)) -> bool {
    let mut parts = version.trim_start_matches('v').split(['.', '-', '+']);
    let major = parts.next().and_then(|part| part.parse::<u64>().ok());
    let minor = parts.next().and_then(|part| part.parse::<u64>().ok()).unwrap_or(0);
    match major {
        Some(major) => (major, minor) >= minimum,
        None => false,
    }
}

/// Names of the Docker containers that are nodes of kind cluster `name` (kind labels them).
pub async fn kind_node_containers(docker: &Docker, name: &str) -> Result<Vec<String>, Error> {
    let mut filters = std::collections::HashMap::new();
    filters.insert("label".to_string(), vec![format!("io.x-k8s.kind.cluster={name}")]);
    let options =
        bollard::query_parameters::ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
    let containers = docker
        .list_containers(Some(options))
        .await
        .map_err(|error| Error::work(format!("listing Docker containers failed: {}", describe(&error)), None))?;
    Ok(containers
        .into_iter()
        .flat_map(|container| container.names.unwrap_or_default())
        .map(|name| name.trim_start_matches('/').to_string())
        .collect())
}

/// What a command run inside a container (`docker exec`) did.
#[derive(Debug, Clone)]
pub struct ExecOutput {
    pub exit_code: i64,
    pub stdout: String,
    pub stderr: String,
}

/// Run `argv` (no shell) in the running container `container` through the Engine API, wait at most
/// `timeout`, and return its exit code and output. `Ok(None)`: no such container.
pub async fn exec(
    docker: &Docker,
    container: &str,
    argv: &[&str],
    timeout: Duration,
) -> Result<Option<ExecOutput>, Error> {
    use bollard::container::LogOutput;
    use bollard::exec::{CreateExecOptions, StartExecResults};
    use futures_util::StreamExt;

    let shown = argv.join(" ");
    let failed = |error: bollard::errors::Error| {
        Error::work(format!("`docker exec {container} {shown}` failed: {}", describe(&error)), None)
    };
    let options = CreateExecOptions {
        cmd: Some(argv.iter().map(|arg| arg.to_string()).collect::<Vec<String>>()),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        ..Default::default()
    };
    let created = match docker.create_exec(container, options).await {
        Ok(created) => created,
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => return Ok(None),
        Err(error) => return Err(failed(error)),
    };
    let run = async {
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        if let StartExecResults::Attached { mut output, .. } =
            docker.start_exec(&created.id, None).await.map_err(failed)?
        {
            while let Some(chunk) = output.next().await {
                match chunk.map_err(failed)? {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        stdout.extend_from_slice(&message)
                    }
                    LogOutput::StdErr { message } => stderr.extend_from_slice(&message),
                    LogOutput::StdIn { .. } => {}
                }
            }
        }
        let inspected = docker.inspect_exec(&created.id).await.map_err(failed)?;
        Ok::<ExecOutput, Error>(ExecOutput {
            exit_code: inspected.exit_code.unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(result) => result.map(Some),
        Err(_) => Err(Error::work(
            format!("`docker exec {container} {shown}` did not finish within {}s", timeout.as_secs()),
            None,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::version_at_least;

    #[test]
    fn versions() {
        assert!(version_at_least("1.41", (1, 39)));
        assert!(version_at_least("v0.27.0", (0, 20)));
        assert!(!version_at_least("v0.19.0", (0, 20)));
        assert!(version_at_least("v1.32.4-dispatcher", (1, 27)));
        assert!(!version_at_least("garbage", (1, 0)));
    }
}
