//! The vocabulary of the deploy graph: an [`Edge`] between two objects of the set, its [`Reason`], and
//! the [`Index`] that finds objects by identity. Its own module so that `edges` (the built-in rules)
//! and `webhooks` (admission-webhook rules) share it without depending on each other.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::manifest::Object;
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

/// Finds objects in the set by identity. The maps borrow their keys from the objects, so a lookup
/// builds nothing: `find` runs several times for every object of the set.
pub struct Index<'a> {
    pub objects: &'a [Object],
    by_key: HashMap<(&'a str, Option<&'a str>, &'a str), usize>,
    crd_by_group_kind: HashMap<(&'a str, &'a str), usize>,
    /// Each kind in the set by its lower-case spelling, as first written.
    kinds: HashMap<String, &'a str>,
}

impl<'a> Index<'a> {
    pub fn new(objects: &'a [Object]) -> Self {
        let mut by_key = HashMap::with_capacity(objects.len());
        let mut crd_by_group_kind = HashMap::new();
        let mut seen_kinds = HashSet::new();
        let mut kinds = HashMap::new();
        for (index, object) in objects.iter().enumerate() {
            let kind = object.kind();
            by_key.insert((kind, object.namespace(), object.name()), index);
            if kind == "CustomResourceDefinition" {
                crd_by_group_kind
                    .insert((text(&object.value, "/spec/group"), text(&object.value, "/spec/names/kind")), index);
            }
            if seen_kinds.insert(kind) {
                kinds.entry(kind.to_ascii_lowercase()).or_insert(kind);
            }
        }
        Index { objects, by_key, crd_by_group_kind, kinds }
    }

    pub fn find(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<usize> {
        // The map's keys live as long as the objects; a shared map may be read with shorter-lived ones.
        let by_key: &HashMap<(&str, Option<&str>, &str), usize> = &self.by_key;
        by_key.get(&(kind, namespace, name)).copied()
    }

    /// The CustomResourceDefinition in the set that defines this object's kind.
    pub fn crd_of(&self, object: &Object) -> Option<usize> {
        let crd_by_group_kind: &HashMap<(&str, &str), usize> = &self.crd_by_group_kind;
        if crd_by_group_kind.is_empty() {
            return None;
        }
        crd_by_group_kind.get(&(object.group(), object.kind())).copied()
    }

    /// The kind of the first object in the set whose kind is `kind` but for ASCII case.
    pub fn kind_like(&self, kind: &str) -> Option<&'a str> {
        self.kinds.get(&kind.to_ascii_lowercase()).copied()
    }
}
