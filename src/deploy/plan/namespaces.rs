//! Every namespace the set uses must exist when its objects are applied. kind starts with the
//! built-in ones; the configured default `namespace:` is created by ohdev when no manifest creates it
//! (as `helm --create-namespace` does, labelled managed-by ohdev so `down` removes it); any other
//! namespace that nothing creates is bad input, found before anything is applied.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use super::manifest::{Object, SourceRef};
use crate::names::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};

/// Namespaces every cluster has from the start.
pub const BUILT_IN_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Namespaces the objects live in that no manifest creates and that are not built in.
#[derive(Debug, PartialEq, Eq)]
pub struct MissingNamespaces(pub BTreeMap<String, Vec<String>>);

impl fmt::Display for MissingNamespaces {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (namespace, users)) in self.0.iter().enumerate() {
            if index > 0 {
                formatter.write_str("\n")?;
            }
            let shown: Vec<&str> = users.iter().take(5).map(String::as_str).collect();
            let more = if users.len() > shown.len() {
                format!(" and {} more", users.len() - shown.len())
            } else {
                String::new()
            };
            write!(
                formatter,
                "namespace `{namespace}` is used by {}{more}, but no manifest creates it: add a Namespace object \
                 named `{namespace}` to the manifests, or move those objects to a namespace that exists",
                shown.join(", ")
            )?;
        }
        Ok(())
    }
}

/// Add the default namespace when objects use it and no manifest creates it; refuse any other
/// namespace that nothing creates.
pub fn ensure_namespaces(
    objects: &mut Vec<Object>,
    default_namespace: &str,
    config_file: &Path,
) -> Result<(), MissingNamespaces> {
    let created: BTreeSet<String> =
        objects.iter().filter(|object| object.kind() == "Namespace").map(|object| object.name().to_string()).collect();
    let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for object in objects.iter() {
        let Some(namespace) = object.namespace() else { continue };
        if created.contains(namespace) || BUILT_IN_NAMESPACES.contains(&namespace) {
            continue;
        }
        missing.entry(namespace.to_string()).or_default().push(format!("{} ({})", object.key(), object.source));
    }
    if missing.remove(default_namespace).is_some() {
        objects.push(Object {
            source: SourceRef { file: config_file.to_path_buf(), doc_index: 0, line: None },
            value: serde_json::json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": default_namespace, "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE}},
            }),
        });
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(MissingNamespaces(missing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: &str, namespace: Option<&str>, name: &str) -> Object {
        let mut metadata = serde_json::json!({"name": name});
        if let Some(namespace) = namespace {
            metadata["namespace"] = namespace.into();
        }
        Object {
            source: SourceRef { file: "m.yaml".into(), doc_index: 0, line: Some(1) },
            value: serde_json::json!({"apiVersion": "v1", "kind": kind, "metadata": metadata}),
        }
    }

    #[test]
    fn the_default_namespace_is_added_once_and_labelled() {
        let mut objects = vec![object("ConfigMap", Some("openhands"), "a"), object("Service", Some("openhands"), "b")];
        ensure_namespaces(&mut objects, "openhands", Path::new("ohdev.yaml")).unwrap();
        let namespaces: Vec<&Object> = objects.iter().filter(|object| object.kind() == "Namespace").collect();
        assert_eq!(namespaces.len(), 1);
        assert_eq!(namespaces[0].name(), "openhands");
        assert_eq!(namespaces[0].value["metadata"]["labels"][MANAGED_BY_LABEL], MANAGED_BY_VALUE);
        assert_eq!(namespaces[0].source.file, Path::new("ohdev.yaml"));
    }

    #[test]
    fn created_and_built_in_namespaces_need_nothing() {
        let mut objects = vec![
            object("Namespace", None, "app"),
            object("ConfigMap", Some("app"), "a"),
            object("ConfigMap", Some("kube-system"), "b"),
            object("ClusterRole", None, "c"),
        ];
        ensure_namespaces(&mut objects, "openhands", Path::new("ohdev.yaml")).unwrap();
        assert_eq!(objects.len(), 4, "nothing added");
    }

    #[test]
    fn another_missing_namespace_names_its_objects_and_the_fix() {
        let mut objects =
            vec![object("ConfigMap", Some("elsewhere"), "a"), object("ConfigMap", Some("openhands"), "b")];
        let error = ensure_namespaces(&mut objects, "openhands", Path::new("ohdev.yaml")).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("namespace `elsewhere` is used by ConfigMap elsewhere/a (m.yaml:1 (document 1))"),
            "{text}"
        );
        assert!(text.contains("add a Namespace object named `elsewhere`"), "{text}");
        assert!(!text.contains("openhands"), "the default namespace is created, not missing: {text}");
    }
}
