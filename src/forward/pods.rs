//! Which pod a forward goes to, decided from kubectl's JSON: the target's label selector, a ready
//! pod among those it selects (not one being deleted; the newest first, as a rollout's new pod is
//! the one that stays), and for a Service the container port its `port` leads to. Pure.

use serde_json::Value;

use crate::config::ForwardKind;

/// The `kubectl get -l` form of the selector that finds the target's pods.
pub fn selector(kind: ForwardKind, target: &str, object: &Value) -> Result<String, String> {
    let mut parts = Vec::new();
    match kind {
        ForwardKind::Pod => return Err(format!("{target} is a pod: it has no selector")),
        ForwardKind::Service => {
            for (key, value) in object.pointer("/spec/selector").and_then(Value::as_object).into_iter().flatten() {
                parts.push(format!("{key}={}", value.as_str().unwrap_or_default()));
            }
        }
        ForwardKind::Deployment | ForwardKind::StatefulSet => {
            let selector = object.pointer("/spec/selector");
            let labels = selector.and_then(|selector| selector.get("matchLabels")).and_then(Value::as_object);
            for (key, value) in labels.into_iter().flatten() {
                parts.push(format!("{key}={}", value.as_str().unwrap_or_default()));
            }
            let expressions = selector.and_then(|selector| selector.get("matchExpressions")).and_then(Value::as_array);
            for expression in expressions.into_iter().flatten() {
                let key = expression["key"].as_str().unwrap_or_default();
                let values: Vec<&str> =
                    expression["values"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                parts.push(match expression["operator"].as_str().unwrap_or_default() {
                    "In" => format!("{key} in ({})", values.join(",")),
                    "NotIn" => format!("{key} notin ({})", values.join(",")),
                    "Exists" => key.to_string(),
                    "DoesNotExist" => format!("!{key}"),
                    other => return Err(format!("{target}'s selector has an operator kubectl does not know: {other}")),
                });
            }
        }
    }
    if parts.is_empty() {
        return Err(format!(
            "{target} has no selector, so no pod belongs to it; forward to one of its pods' workloads instead"
        ));
    }
    Ok(parts.join(","))
}

/// Running, Ready and not being deleted: a pod that can take a forward now.
pub fn is_ready(pod: &Value) -> bool {
    let ready = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|conditions| conditions.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"));
    ready
        && pod.pointer("/status/phase").and_then(Value::as_str) == Some("Running")
        && pod.pointer("/metadata/deletionTimestamp").is_none()
}

/// A ready pod of a `kubectl get pods -o json` list: the newest (creation time, then name).
pub fn pick(list: &Value) -> Option<&Value> {
    let items = list["items"].as_array()?;
    items.iter().filter(|pod| is_ready(pod)).max_by(|a, b| {
        let key = |pod: &Value| {
            (
                pod.pointer("/metadata/creationTimestamp").and_then(Value::as_str).unwrap_or_default().to_string(),
                pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string(),
            )
        };
        key(a).cmp(&key(b))
    })
}

pub fn name(pod: &Value) -> String {
    pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string()
}

/// The pod's port for the forward's `remote`: for a Service, the `targetPort` of its port
/// `remote` (a number, or the name of a container port of the pod), as `kubectl port-forward
/// svc/…` does; otherwise `remote` itself.
pub fn pod_port(kind: ForwardKind, service: &Value, pod: &Value, remote: u16) -> u16 {
    if kind != ForwardKind::Service {
        return remote;
    }
    let ports = service.pointer("/spec/ports").and_then(Value::as_array);
    let Some(port) = ports.into_iter().flatten().find(|port| port["port"].as_u64() == Some(u64::from(remote))) else {
        return remote;
    };
    match &port["targetPort"] {
        Value::Number(number) => number.as_u64().and_then(|n| u16::try_from(n).ok()).unwrap_or(remote),
        Value::String(named) => {
            let containers = pod.pointer("/spec/containers").and_then(Value::as_array);
            containers
                .into_iter()
                .flatten()
                .flat_map(|container| container["ports"].as_array().into_iter().flatten())
                .find(|container_port| container_port["name"].as_str() == Some(named.as_str()))
                .and_then(|container_port| container_port["containerPort"].as_u64())
                .and_then(|n| u16::try_from(n).ok())
                .unwrap_or(remote)
        }
        _ => remote,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(name: &str, created: &str, ready: bool, deleting: bool) -> Value {
        let mut pod = json!({
            "metadata": {"name": name, "creationTimestamp": created},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]},
            "spec": {"containers": [{"name": "main", "ports": [{"name": "http", "containerPort": 8080}]}]}
        });
        if deleting {
            pod["metadata"]["deletionTimestamp"] = json!("2026-12-03T10:00:00Z");
        }
        pod
    }

    #[test]
    fn selectors_read_like_kubectl_reads_them() {
        let deployment = json!({"spec": {"selector": {
        "matchLabels": {"app": "web", "tier": "front"},
        "matchExpressions": [
            {"key": "track", "operator": "In", "values": ["stable", "canary"]},
            {"key": "legacy", "operator": "DoesNotExist"},
            {"key": "zone", "operator": "Exists"},
            {"key": "env", "operator": "NotIn", "values": ["prod"]}
        ]}}});
        assert_eq!(
            selector(ForwardKind::Deployment, "Deployment/web", &deployment).unwrap(),
            "app=web,tier=front,track in (stable,canary),!legacy,zone,env notin (prod)"
        );
        let service = json!({"spec": {"selector": {"app": "web"}}});
        assert_eq!(selector(ForwardKind::Service, "Service/web", &service).unwrap(), "app=web");
        let headless = json!({"spec": {}});
        assert!(selector(ForwardKind::Service, "Service/x", &headless).unwrap_err().contains("has no selector"));
    }

    #[test]
    fn the_newest_ready_pod_that_is_not_being_deleted_is_picked() {
        let list = json!({"items": [
            pod("web-old", "2026-12-03T09:00:00Z", true, false),
            pod("web-new", "2026-12-03T10:00:00Z", true, false),
            pod("web-starting", "2026-12-03T11:00:00Z", false, false),
            pod("web-going", "2026-12-03T12:00:00Z", true, true),
        ]});
        assert_eq!(pick(&list).map(name).as_deref(), Some("web-new"));
        let none_ready = json!({"items": [pod("a", "t", false, false), pod("b", "t", true, true)]});
        assert!(pick(&none_ready).is_none());
        assert!(pick(&json!({"items": []})).is_none());
    }

    #[test]
    fn a_service_port_leads_to_its_target_port() {
        let service = json!({"spec": {"ports": [
            {"port": 80, "targetPort": 8080},
            {"port": 81, "targetPort": "http"},
            {"port": 82, "targetPort": "nope"}
        ]}});
        let pod = pod("web", "t", true, false);
        assert_eq!(pod_port(ForwardKind::Service, &service, &pod, 80), 8080);
        assert_eq!(pod_port(ForwardKind::Service, &service, &pod, 81), 8080, "a named port: the container's");
        assert_eq!(pod_port(ForwardKind::Service, &service, &pod, 82), 82);
        assert_eq!(pod_port(ForwardKind::Service, &service, &pod, 9999), 9999, "not a port of the Service");
        assert_eq!(pod_port(ForwardKind::Deployment, &service, &pod, 80), 80);
    }
}
