//! The one-line fix suggested under a diagnosis. Kept apart from classification because it is where
//! ohdev's own conventions come in: `ohdev.local/<name>` tags mean "ohdev builds this image", and
//! missing Secret keys usually mean a `secrets:` entry in ohdev.yaml.

use serde_json::Value;

use super::failure::FailureReason;
use crate::json::text;

/// The container's spec (from `containers` or `initContainers`).
fn container_spec<'p>(pod: &'p Value, container: &str) -> Option<&'p Value> {
    ["/spec/containers", "/spec/initContainers"]
        .iter()
        .flat_map(|pointer| pod.pointer(pointer).and_then(Value::as_array).into_iter().flatten())
        .find(|spec| text(spec, "/name") == container)
}

/// `ohdev.local/app:0123…` (or `localhost:5001/app:0123…` from a registry) → `app`.
fn logical_image(image: &str) -> Option<&str> {
    crate::names::built_image_name(image)
}

pub(super) fn hint(
    reason: &FailureReason,
    message: &str,
    pod: Option<&Value>,
    container: Option<&str>,
) -> Option<String> {
    let spec = pod.zip(container).and_then(|(pod, container)| container_spec(pod, container));
    let image = spec.map(|spec| text(spec, "/image")).unwrap_or("");
    match reason {
        FailureReason::ErrImageNeverPull | FailureReason::ImagePullBackOff => Some(match logical_image(image) {
            Some(name) => format!("image {image} is not in the cluster: run `ohdev rebuild {name}`"),
            None if *reason == FailureReason::ErrImageNeverPull => {
                format!("image {image} is not in the cluster and imagePullPolicy is Never: build it with ohdev (`images:` in ohdev.yaml, then `image: <name>` in the manifest)")
            }
            None => format!("the node cannot pull {image}: check the name and tag, or build it with ohdev (`images:` in ohdev.yaml) so it is loaded into kind"),
        }),
        FailureReason::CreateContainerConfigError => Some(config_error_hint(message)),
        FailureReason::OomKilled => {
            let limit = spec.map(|spec| text(spec, "/resources/limits/memory")).filter(|limit| !limit.is_empty());
            Some(match limit {
                Some(limit) => format!("the container used more than its memory limit ({limit}): raise resources.limits.memory in the manifest"),
                None => "the container ran out of memory: set or raise resources.limits.memory in the manifest, or give Docker more memory".to_string(),
            })
        }
        FailureReason::CrashLoopBackOff => Some("the container keeps exiting: read its last log lines; `ohdev logs` follows it across restarts".to_string()),
        FailureReason::Unschedulable => Some(unschedulable_hint(message)),
        FailureReason::ReadinessProbeFailed => Some("the readiness probe fails: check its path and port against what the app listens on, and the app's log lines".to_string()),
        FailureReason::NoPods => Some("no pod was created: look at the events above (quota, admission policy, or a missing ServiceAccount)".to_string()),
        FailureReason::Other(_) | FailureReason::Unknown => None,
    }
}

/// Kubelet messages: `couldn't find key K in Secret ns/name`, `secret "name" not found`, and the same
/// for ConfigMaps; `container has runAsNonRoot and image will run as root`.
fn config_error_hint(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("couldn't find key ") {
        let mut words = rest.split_whitespace();
        let key = words.next().unwrap_or("");
        let kind = words.nth(1).unwrap_or("");
        let name = words.next().unwrap_or("").rsplit('/').next().unwrap_or("");
        return if kind == "Secret" {
            format!("Secret {name} has no key {key}: add {key} to `keys:` of secrets.{name} in ohdev.yaml and its value to that entry's env file (or the environment), then run `ohdev up`")
        } else {
            format!("{kind} {name} has no key {key}: add it to the {kind}'s data in the manifests")
        };
    }
    for (kind, quoted) in [("Secret", "secret \""), ("ConfigMap", "configmap \"")] {
        if let Some(rest) = message.strip_prefix(quoted) {
            let name = rest.split('"').next().unwrap_or("");
            return match kind {
                "Secret" => {
                    format!("Secret {name} does not exist: add it under `secrets:` in ohdev.yaml (or to the manifests)")
                }
                _ => format!("ConfigMap {name} does not exist: add it to the manifests"),
            };
        }
    }
    if message.contains("runAsNonRoot") {
        return "the image runs as root but the pod requires non-root: add a numeric USER to the Dockerfile or set securityContext.runAsUser".to_string();
    }
    "the container's configuration names something that is missing: see the message above".to_string()
}

fn unschedulable_hint(message: &str) -> String {
    if message.contains("Insufficient cpu") || message.contains("Insufficient memory") {
        "the nodes lack CPU or memory for the pod's requests: lower resources.requests or give Docker more resources"
            .to_string()
    } else if message.contains("PersistentVolumeClaim") || message.contains("persistentvolumeclaim") {
        "the pod's volume claim cannot be bound: check its storageClassName (kind provides `standard`)".to_string()
    } else if message.contains("taint") || message.contains("affinity") || message.contains("selector") {
        "no node matches the pod's nodeSelector, affinity or tolerations: compare them with the kind nodes' labels and taints".to_string()
    } else {
        "the scheduler found no node for the pod: see its message above".to_string()
    }
}
