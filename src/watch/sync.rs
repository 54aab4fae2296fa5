//! Live update: copy changed files into every running container of the image instead of
//! rebuilding, through `kubectl exec -i … -- tar -x -C <dest>` (deletions with `rm -f`), then
//! the rule's optional `run:` command.

use std::collections::BTreeMap;

use serde_json::Value;

use super::route::SyncFile;
use crate::error::Error;
use crate::names::MANAGED_BY_SELECTOR;
use crate::tools::kubectl::Kubectl;

#[derive(Debug, PartialEq, Eq)]
pub enum SyncOutcome {
    /// Files copied into this many containers.
    Synced(usize),
    /// The container has no `tar`: a rebuild is needed instead.
    NoTar,
    /// No running container uses the image (yet): a rebuild deploys the change.
    NoContainers,
}

/// (namespace, pod, container) of running containers whose image is this ohdev image (as
/// `ohdev.local/<image>:…` or from a registry, `<host>/<image>:<content tag>`).
pub fn containers_of(pods: &Value, image: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for pod in pods["items"].as_array().into_iter().flatten() {
        if pod["status"]["phase"] != "Running" || pod["metadata"]["deletionTimestamp"].is_string() {
            continue;
        }
        let namespace = pod["metadata"]["namespace"].as_str().unwrap_or("default").to_string();
        let name = pod["metadata"]["name"].as_str().unwrap_or_default().to_string();
        for container in pod["spec"]["containers"].as_array().into_iter().flatten() {
            if container["image"].as_str().and_then(crate::names::built_image_name) == Some(image) {
                out.push((namespace.clone(), name.clone(), container["name"].as_str().unwrap_or_default().to_string()));
            }
        }
    }
    out
}

fn tar_of(files: &[&SyncFile]) -> Result<Vec<u8>, Error> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Deterministic);
    for file in files {
        builder.append_path_with_name(&file.path, &file.relative).map_err(|error| {
            Error::work(format!("cannot read {} for live sync: {error}", file.path.display()), None)
        })?;
    }
    builder.into_inner().map_err(|error| Error::work(format!("cannot build the sync archive: {error}"), None))
}

fn lacks_tar(stderr: &str, code: Option<i32>) -> bool {
    code == Some(126)
        || code == Some(127)
        || stderr.contains("executable file not found")
        || stderr.contains("tar: not found")
}

pub async fn sync(kubectl: &Kubectl, image: &str, files: &[SyncFile]) -> Result<SyncOutcome, Error> {
    let pods = kubectl.get_json(["pods", "--all-namespaces", "--selector", MANAGED_BY_SELECTOR]).await?;
    let containers = containers_of(&pods, image);
    if containers.is_empty() {
        return Ok(SyncOutcome::NoContainers);
    }
    // Group by destination: one tar stream per rule destination.
    let mut by_dest: BTreeMap<&str, Vec<&SyncFile>> = BTreeMap::new();
    for file in files {
        by_dest.entry(file.dest.as_str()).or_default().push(file);
    }
    for (namespace, pod, container) in &containers {
        for (dest, group) in &by_dest {
            let present: Vec<&SyncFile> = group.iter().copied().filter(|file| file.path.exists()).collect();
            let deleted: Vec<&SyncFile> = group.iter().copied().filter(|file| !file.path.exists()).collect();
            if !present.is_empty() {
                let archive = tar_of(&present)?;
                let output = kubectl
                    .invocation([
                        "exec",
                        "-i",
                        pod.as_str(),
                        "--container",
                        container.as_str(),
                        "--namespace",
                        namespace.as_str(),
                        "--",
                        "tar",
                        "-x",
                        "-C",
                        dest,
                    ])
                    .stdin(archive)
                    .run_unchecked()
                    .await?;
                if !output.success() {
                    if lacks_tar(&output.stderr, output.code) {
                        return Ok(SyncOutcome::NoTar);
                    }
                    return Err(Error::work(
                        format!("live sync into {namespace}/{pod} ({container}) failed: {}", output.stderr.trim()),
                        None,
                    ));
                }
            }
            if !deleted.is_empty() {
                let mut args: Vec<String> = [
                    "exec",
                    pod.as_str(),
                    "--container",
                    container.as_str(),
                    "--namespace",
                    namespace.as_str(),
                    "--",
                    "rm",
                    "-f",
                ]
                .iter()
                .map(|arg| arg.to_string())
                .collect();
                args.extend(deleted.iter().map(|file| format!("{}/{}", dest.trim_end_matches('/'), file.relative)));
                kubectl.invocation(args).run().await?;
            }
            if let Some(run) = group.first().map(|file| &file.run).filter(|run| !run.is_empty()) {
                let mut args: Vec<String> =
                    ["exec", pod.as_str(), "--container", container.as_str(), "--namespace", namespace.as_str(), "--"]
                        .iter()
                        .map(|arg| arg.to_string())
                        .collect();
                args.extend(run.iter().cloned());
                kubectl.invocation(args).run().await?;
            }
        }
    }
    Ok(SyncOutcome::Synced(containers.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_running_containers_of_the_image() {
        let pods = serde_json::json!({"items": [
            {"metadata": {"name": "app-1", "namespace": "oh"}, "status": {"phase": "Running"},
             "spec": {"containers": [{"name": "app", "image": "ohdev.local/app:abc"}, {"name": "side", "image": "busybox"}]}},
            {"metadata": {"name": "app-0", "namespace": "oh"}, "status": {"phase": "Pending"},
             "spec": {"containers": [{"name": "app", "image": "ohdev.local/app:abc"}]}},
            {"metadata": {"name": "web-1", "namespace": "oh"}, "status": {"phase": "Running"},
             "spec": {"containers": [{"name": "web", "image": "ohdev.local/application:abc"}]}},
            {"metadata": {"name": "app-2", "namespace": "oh"}, "status": {"phase": "Running"},
             "spec": {"containers": [{"name": "app", "image": "localhost:5001/app:0123456789abcdef"}]}}
        ]});
        assert_eq!(
            containers_of(&pods, "app"),
            [
                ("oh".to_string(), "app-1".to_string(), "app".to_string()),
                ("oh".to_string(), "app-2".to_string(), "app".to_string())
            ]
        );
    }

    #[test]
    fn missing_tar_is_recognised() {
        assert!(lacks_tar("OCI runtime exec failed: exec failed: unable to start container process: exec: \"tar\": executable file not found in $PATH", Some(126)));
        assert!(!lacks_tar("tar: short read", Some(2)));
    }
}
