//! Image pulls as a real cluster shows them. Far from its registry a node may pull for minutes:
//! that is progress, shown as "pulling <image>", not a failure and not time toward the deadline.
//! A pull that fails is a registry question: which registry the image names, and which login ohdev
//! pushed there with (its source, never its values), next to the kubelet's own message.
//!
//! Pure: the wait loop hands in what kubectl returned.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::json::text;

fn items(value: &Value) -> &[Value] {
    value.get("items").unwrap_or(value).as_array().map_or(&[], Vec::as_slice)
}

/// `Pulling image "X"` → `X` (the kubelet's words, also with a trailing note).
fn quoted_image(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('"')?;
    Some(rest.split('"').next()?.to_string())
}

/// The image a pod of the workload is still pulling: the pod waits in `ContainerCreating` (or has
/// no container status yet), and its events say `Pulling image "X"` with no `Pulled` for X since.
/// `pods` are the workload's current pods, `events` its namespace's (`kubectl get -o json`).
pub fn pulling(pods: &Value, events: &Value) -> Option<String> {
    for pod in items(pods) {
        let name = text(pod, "/metadata/name");
        let statuses: Vec<&Value> =
            pod.pointer("/status/containerStatuses").and_then(Value::as_array).into_iter().flatten().collect();
        let creating = statuses.is_empty()
            || statuses.iter().any(|status| text(status, "/state/waiting/reason") == "ContainerCreating");
        if !creating || text(pod, "/status/phase") != "Pending" {
            continue;
        }
        let own: Vec<&Value> = items(events)
            .iter()
            .filter(|event| text(event, "/involvedObject/kind") == "Pod" && text(event, "/involvedObject/name") == name)
            .collect();
        let pulled: Vec<String> = own
            .iter()
            .filter(|event| text(event, "/reason") == "Pulled")
            .filter_map(|event| {
                let message = text(event, "/message");
                quoted_image(message, "Successfully pulled image ")
                    .or_else(|| quoted_image(message, "Container image "))
            })
            .collect();
        let still = own
            .iter()
            .filter(|event| text(event, "/reason") == "Pulling")
            .filter_map(|event| quoted_image(text(event, "/message"), "Pulling image "))
            .find(|image| !pulled.contains(image));
        if still.is_some() {
            return still;
        }
    }
    None
}

/// The registry host of an image reference, as a container runtime reads it: the first path
/// component when it has a `.` or a `:` or is `localhost`; else Docker Hub.
pub fn registry_host(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => first.to_string(),
        _ => "docker.io".to_string(),
    }
}

/// The hint under a failed pull of `image` from a registry ohdev pushed to in this run (`logins`:
/// registry host → where ohdev's login came from): the registry, the login's source, and that the
/// node pulls with its own credentials. `None` for any other image (the general hint stays).
pub fn pull_failure_hint(image: &str, logins: &BTreeMap<String, String>) -> Option<String> {
    let host = registry_host(image);
    let source = logins.get(&host)?;
    Some(format!(
        "the node could not pull {image} from the registry {host}; ohdev pushed it there, credentials used: {source}. The node pulls with its own: if the registry wants a login, give the pods an imagePullSecret (or the nodes a registry login), then `ohdev up`; the kubelet's message is above"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(phase: &str, waiting: Option<&str>) -> Value {
        let statuses = match waiting {
            Some(reason) => json!([{"name": "app", "state": {"waiting": {"reason": reason}}}]),
            None => json!([{"name": "app", "state": {"running": {}}}]),
        };
        json!({"metadata": {"name": "p"}, "status": {"phase": phase, "containerStatuses": statuses}})
    }

    fn event(reason: &str, message: &str) -> Value {
        json!({"involvedObject": {"kind": "Pod", "name": "p"}, "reason": reason, "message": message})
    }

    #[test]
    fn a_pod_still_pulling_names_its_image_until_pulled() {
        let pods = json!({"items": [pod("Pending", Some("ContainerCreating"))]});
        let pulling_only = json!({"items": [event("Pulling", "Pulling image \"reg.example/app:1\"")]});
        assert_eq!(pulling(&pods, &pulling_only).as_deref(), Some("reg.example/app:1"));
        let pulled = json!({"items": [
            event("Pulling", "Pulling image \"reg.example/app:1\""),
            event("Pulled", "Successfully pulled image \"reg.example/app:1\" in 1.5s (1.5s including waiting)")
        ]});
        assert_eq!(pulling(&pods, &pulled), None);
        // Running, or failing to pull, is not "pulling".
        assert_eq!(pulling(&json!({"items": [pod("Running", None)]}), &pulling_only), None);
        assert_eq!(pulling(&json!({"items": [pod("Pending", Some("ErrImagePull"))]}), &pulling_only), None);
        // No Pulling event: not known to be pulling.
        assert_eq!(pulling(&pods, &json!({"items": []})), None);
    }

    #[test]
    fn registry_hosts_and_hints_name_the_login_source_only() {
        assert_eq!(registry_host("127.0.0.1:5000/app:1"), "127.0.0.1:5000");
        assert_eq!(registry_host("europe-docker.pkg.dev/team/dev/app:1"), "europe-docker.pkg.dev");
        assert_eq!(registry_host("localhost/app"), "localhost");
        assert_eq!(registry_host("nginx:1"), "docker.io");
        assert_eq!(registry_host("library/nginx"), "docker.io");
        let logins = BTreeMap::from([(
            "127.0.0.1:5000".to_string(),
            "the `auths` entry \"127.0.0.1:5000\" in /h/.docker/config.json".to_string(),
        )]);
        let hint = pull_failure_hint("127.0.0.1:5000/app:1", &logins).unwrap();
        assert!(hint.starts_with("the node could not pull 127.0.0.1:5000/app:1 from the registry 127.0.0.1:5000; ohdev pushed it there, credentials used: the `auths` entry"), "{hint}");
        assert_eq!(pull_failure_hint("reg.example/app:1", &logins), None, "not a registry ohdev pushed to");
    }
}
