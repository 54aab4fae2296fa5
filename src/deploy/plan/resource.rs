//! How Kubernetes names a kind's resource: the plural that admission rules match (`ingresses`) and the
//! fully qualified name kubectl accepts (`deployments.v1.apps`). One place, because the webhook edges
//! and every kubectl call must agree on it.

use std::collections::HashMap;

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
/// For one object; for many, [`ResourceNames`] reads the set once.
pub fn resource_name(object: &Object, objects: &[Object]) -> String {
    ResourceNames::new(objects).of(object)
}

/// The CRDs of a set, by group and kind, for naming the resources of many objects without scanning
/// the set for each.
pub struct ResourceNames<'a> {
    /// The `spec.names.plural` of the first CRD for each (group, kind), if it has one.
    plurals: HashMap<(&'a str, &'a str), Option<&'a str>>,
}

impl<'a> ResourceNames<'a> {
    pub fn new(objects: &'a [Object]) -> Self {
        let mut plurals = HashMap::new();
        for crd in objects.iter().filter(|candidate| candidate.kind() == "CustomResourceDefinition") {
            let (Some(group), Some(kind)) = (
                crd.value.pointer("/spec/group").and_then(Value::as_str),
                crd.value.pointer("/spec/names/kind").and_then(Value::as_str),
            ) else {
                continue;
            };
            plurals.entry((group, kind)).or_insert(crd.value.pointer("/spec/names/plural").and_then(Value::as_str));
        }
        ResourceNames { plurals }
    }

    /// [`resource_name`] of `object` in the set this was made from.
    pub fn of(&self, object: &Object) -> String {
        // The map's keys live as long as the set; a shared map may be read with shorter-lived ones.
        let plurals: &HashMap<(&str, &str), Option<&str>> = &self.plurals;
        let plural_name = match plurals.get(&(object.group(), object.kind())) {
            Some(Some(plural)) => plural.to_string(),
            _ => plural(object.kind()),
        };
        if object.group().is_empty() {
            plural_name
        } else {
            format!("{plural_name}.{}.{}", object.version(), object.group())
        }
    }
}

/// `--namespace NS` for a namespaced object, nothing for a cluster-scoped one.
pub fn namespace_args(key: &ObjectKey) -> Vec<String> {
    match &key.namespace {
        Some(namespace) => vec!["--namespace".to_string(), namespace.clone()],
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::plan::manifest::SourceRef;

    fn object(value: serde_json::Value) -> Object {
        Object { source: SourceRef { file: "m.yaml".into(), doc_index: 0, line: None }, value }
    }

    #[test]
    fn resources_are_named_from_the_first_crd_of_a_group_and_kind() {
        let crd = |group: &str, kind: &str, plural: Option<&str>| {
            let mut names = serde_json::json!({"kind": kind});
            if let Some(plural) = plural {
                names["plural"] = plural.into();
            }
            object(serde_json::json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": format!("{kind}.{group}")}, "spec": {"group": group, "names": names}}))
        };
        let objects = [
            crd("example.com", "Widget", Some("widgetz")),
            crd("example.com", "Widget", Some("later")),
            crd("example.com", "Gadget", None),
            crd("example.com", "Gizmo", Some("gizmoz")),
            object(serde_json::json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})),
            object(serde_json::json!({"apiVersion": "example.com/v2", "kind": "Gadget", "metadata": {"name": "g"}})),
            object(serde_json::json!({"apiVersion": "other.io/v1", "kind": "Gizmo", "metadata": {"name": "z"}})),
            object(serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}})),
            object(serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}})),
        ];
        let resources = ResourceNames::new(&objects);
        let names: Vec<String> = objects[4..].iter().map(|object| resources.of(object)).collect();
        assert_eq!(
            names,
            [
                "widgetz.v1.example.com",
                "gadgets.v2.example.com",
                "gizmos.v1.other.io",
                "deployments.v1.apps",
                "services"
            ]
        );
        for object in &objects {
            assert_eq!(resource_name(object, &objects), resources.of(object));
        }
    }
}
