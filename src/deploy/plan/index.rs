//! The vocabulary of the deploy graph: an [`Edge`] between two objects of the set, its [`Reason`], and
//! the [`Index`] that finds objects by identity. Its own module so that `edges` (the built-in rules)
//! and `webhooks` (admission-webhook rules) share it without depending on each other.

use std::collections::HashMap;
use std::fmt;

use super::manifest::{Object, ObjectKey};
use crate::json::text;

/// Why an object waits for another one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    Namespace,
    Crd,
    ServiceAccount,
    Role,
    ConfigMap,
    Secret,
    PersistentVolumeClaim,
    /// The name of the webhook (not of its configuration object).
    AdmissionWebhook(String),
    DependsOnAnnotation,
}

impl fmt::Display for Reason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Namespace => formatter.write_str("namespace"),
            Reason::Crd => formatter.write_str("crd"),
            Reason::ServiceAccount => formatter.write_str("service account"),
            Reason::Role => formatter.write_str("role"),
            Reason::ConfigMap => formatter.write_str("config map"),
            Reason::Secret => formatter.write_str("secret"),
            Reason::PersistentVolumeClaim => formatter.write_str("pvc"),
            Reason::AdmissionWebhook(name) => write!(formatter, "admission webhook {name}"),
            Reason::DependsOnAnnotation => formatter.write_str("depends-on annotation"),
        }
    }
}

/// `objects[dependency]` must be applied (and ready) before `objects[dependent]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub dependency: usize,
    pub dependent: usize,
    pub reason: Reason,
}

/// Finds objects in the set by identity.
pub struct Index<'a> {
    pub objects: &'a [Object],
    by_key: HashMap<ObjectKey, usize>,
    crd_by_group_kind: HashMap<(String, String), usize>,
}

impl<'a> Index<'a> {
    pub fn new(objects: &'a [Object]) -> Self {
        let by_key = objects.iter().enumerate().map(|(index, object)| (object.key(), index)).collect();
        let crd_by_group_kind = objects
            .iter()
            .enumerate()
            .filter(|(_, object)| object.kind() == "CustomResourceDefinition")
            .map(|(index, crd)| {
                ((text(&crd.value, "/spec/group").to_string(), text(&crd.value, "/spec/names/kind").to_string()), index)
            })
            .collect();
        Index { objects, by_key, crd_by_group_kind }
    }

    pub fn find(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<usize> {
        let key =
            ObjectKey { kind: kind.to_string(), namespace: namespace.map(str::to_string), name: name.to_string() };
        self.by_key.get(&key).copied()
    }

    /// The CustomResourceDefinition in the set that defines this object's kind.
    pub fn crd_of(&self, object: &Object) -> Option<usize> {
        self.crd_by_group_kind.get(&(object.group().to_string(), object.kind().to_string())).copied()
    }
}
