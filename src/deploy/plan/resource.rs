//! How Kubernetes names a kind's resource: the plural that admission rules match (`ingresses`) and the
//! fully qualified name kubectl accepts (`deployments.v1.apps`). One place, because the webhook edges
//! and every kubectl call must agree on it.

use serde_json::Value;

use super::manifest::{Object, ObjectKey};

/// Resource name of a built-in kind as admission rules spell it: `Ingress` → `ingresses`,
/// `NetworkPolicy` → `networkpolicies`. Custom resources use their CRD's `spec.names.plural` instead.
pub fn plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower == "endpoints" {
        return lower;
    }
    if ["s", "x", "ch", "sh"].iter().any(|suffix| lower.ends_with(suffix)) {
        return format!("{lower}es");
    }
    if let Some(stem) = lower.strip_suffix('y') {
        if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) {
            return format!("{stem}ies");
        }
    }
    format!("{lower}s")
}

/// How kubectl names an object's resource type: `deployments.v1.apps`, `services`, `widgets.v1.example.com`.
pub fn resource_name(object: &Object, objects: &[Object]) -> String {
    let plural_name = objects
        .iter()
        .find(|candidate| {
            candidate.kind() == "CustomResourceDefinition"
                && candidate.value.pointer("/spec/group").and_then(Value::as_str) == Some(object.group())
                && candidate.value.pointer("/spec/names/kind").and_then(Value::as_str) == Some(object.kind())
        })
        .and_then(|crd| crd.value.pointer("/spec/names/plural").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| plural(object.kind()));
    if object.group().is_empty() {
        plural_name
    } else {
        format!("{plural_name}.{}.{}", object.version(), object.group())
    }
}

/// `--namespace NS` for a namespaced object, nothing for a cluster-scoped one.
pub fn namespace_args(key: &ObjectKey) -> Vec<String> {
    match &key.namespace {
        Some(namespace) => vec!["--namespace".to_string(), namespace.clone()],
        None => Vec::new(),
    }
}
