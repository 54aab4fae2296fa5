//! What ohdev applied, kept in state under `deploy`: enough to prune objects that left the
//! manifests and to tear down in reverse dependency order. No object contents (and so no Secret
//! values) are stored.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::plan::graph::Plan;
use super::plan::manifest::Object;
use super::plan::resource::ResourceNames;

pub const STATE_KEY: &str = "deploy";

impl crate::state::Section for Applied {
    const KEY: &'static str = STATE_KEY;
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Applied {
    #[serde(default)]
    pub cluster: String,
    #[serde(default)]
    pub objects: Vec<AppliedObject>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct AppliedObject {
    pub level: usize,
    pub kind: String,
    pub resource: String,
    pub namespace: Option<String>,
    pub name: String,
    /// blake3 of the rendered object, to re-apply only what changed. None for Secrets: a hash of a
    /// low-entropy secret could be guessed, so Secrets are always re-applied instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

impl AppliedObject {
    pub fn label(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{} {namespace}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }

    pub fn delete_args(&self) -> Vec<String> {
        let mut args = vec!["delete".to_string(), self.resource.clone(), self.name.clone()];
        if let Some(namespace) = &self.namespace {
            args.push("--namespace".to_string());
            args.push(namespace.clone());
        }
        args.push("--ignore-not-found".to_string());
        args.push("--wait=false".to_string());
        args
    }
}

pub fn from_plan(cluster: &str, objects: &[Object], plan: &Plan) -> Applied {
    let resources = ResourceNames::new(objects);
    let mut applied: Vec<AppliedObject> = plan
        .objects()
        .map(|planned| {
            let object = &objects[planned.index];
            AppliedObject {
                level: planned.level,
                kind: object.kind().to_string(),
                resource: resources.of(object),
                namespace: object.namespace().map(str::to_string),
                name: object.name().to_string(),
                hash: content_hash(object),
            }
        })
        .collect();
    applied.sort();
    Applied { cluster: cluster.to_string(), objects: applied }
}

pub fn content_hash(object: &Object) -> Option<String> {
    if object.kind() == "Secret" {
        return None;
    }
    let bytes = serde_json::to_vec(&object.value).ok()?;
    Some(blake3::hash(&bytes).to_hex()[..32].to_string())
}

/// Kind, namespace and name: what identifies a recorded object. The lookups below hash these, so that
/// comparing two records of 100,000 objects is not 100,000 × 100,000 comparisons.
type Identity<'a> = (&'a str, Option<&'a str>, &'a str);

fn identity(object: &AppliedObject) -> Identity<'_> {
    (&object.kind, object.namespace.as_deref(), &object.name)
}

/// Indexes (into `objects`) whose rendered content is exactly what was applied before.
pub fn unchanged(before: &Applied, objects: &[Object]) -> std::collections::BTreeSet<usize> {
    let applied: HashSet<(Identity, &str)> =
        before.objects.iter().filter_map(|old| old.hash.as_deref().map(|hash| (identity(old), hash))).collect();
    objects
        .iter()
        .enumerate()
        .filter(|(_, object)| {
            content_hash(object).is_some_and(|hash| {
                applied.contains(&((object.kind(), object.namespace(), object.name()), hash.as_str()))
            })
        })
        .map(|(index, _)| index)
        .collect()
}

/// What to record before applying `now`: every object (an interrupted apply still leaves ohdev
/// knowing what it may have created), but each keeps the hash of what was applied before, so a
/// failed or interrupted apply is retried by the next run instead of being taken as done.
pub fn provisional(before: &Applied, now: &Applied) -> Applied {
    // The hash of the first record of each object before, when it was this cluster's.
    let mut hashes: HashMap<Identity, Option<&str>> = HashMap::new();
    if before.cluster == now.cluster {
        for old in &before.objects {
            hashes.entry(identity(old)).or_insert(old.hash.as_deref());
        }
    }
    let mut pending = now.clone();
    for object in &mut pending.objects {
        object.hash = hashes.get(&identity(object)).copied().flatten().map(str::to_string);
    }
    pending
}

/// Objects in `before` that `now` no longer has.
pub fn orphans(before: &Applied, now: &Applied) -> Vec<AppliedObject> {
    let kept: HashSet<Identity> = now.objects.iter().map(identity).collect();
    before.objects.iter().filter(|old| !kept.contains(&identity(old))).cloned().collect()
}

/// `objects` without those in `gone` (by identity).
pub fn without(objects: &mut Vec<AppliedObject>, gone: &[AppliedObject]) {
    let gone: HashSet<Identity> = gone.iter().map(identity).collect();
    objects.retain(|object| !gone.contains(&identity(object)));
}

/// Reverse dependency order: the deepest level first, so nothing is deleted before what needs it.
pub fn teardown_order(applied: &Applied) -> Vec<AppliedObject> {
    let mut objects = applied.objects.clone();
    objects.sort_by(|left, right| right.level.cmp(&left.level).then_with(|| left.cmp(right)));
    objects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::plan::manifest::SourceRef;

    fn applied(cluster: &str, objects: &[(&str, Option<&str>, &str, Option<&str>)]) -> Applied {
        Applied {
            cluster: cluster.into(),
            objects: objects
                .iter()
                .map(|(kind, namespace, name, hash)| AppliedObject {
                    level: 0,
                    kind: kind.to_string(),
                    resource: String::new(),
                    namespace: namespace.map(str::to_string),
                    name: name.to_string(),
                    hash: hash.map(str::to_string),
                })
                .collect(),
        }
    }

    fn object(kind: &str, namespace: Option<&str>, name: &str) -> Object {
        let mut value = serde_json::json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}});
        if let Some(namespace) = namespace {
            value["metadata"]["namespace"] = namespace.into();
        }
        Object { source: SourceRef { file: "m.yaml".into(), doc_index: 0, line: None }, value }
    }

    #[test]
    fn unchanged_means_the_same_object_with_the_same_content() {
        let objects = [
            object("ConfigMap", Some("a"), "same"),
            object("ConfigMap", Some("a"), "edited"),
            object("ConfigMap", Some("b"), "same"),
            object("Secret", Some("a"), "secret"),
            object("Namespace", None, "a"),
        ];
        let hash = |index: usize| content_hash(&objects[index]).unwrap();
        let before = applied(
            "c",
            &[
                ("ConfigMap", Some("a"), "same", Some(&hash(0))),
                ("ConfigMap", Some("a"), "edited", Some("old")),
                // The same content under another namespace is another object.
                ("ConfigMap", Some("c"), "same", Some(&hash(2))),
                ("Secret", Some("a"), "secret", None),
                ("Namespace", None, "a", Some("old")),
                ("Namespace", None, "a", Some(&hash(4))),
            ],
        );
        assert_eq!(unchanged(&before, &objects).into_iter().collect::<Vec<_>>(), [0, 4]);
    }

    #[test]
    fn provisional_keeps_the_first_hash_recorded_on_the_same_cluster() {
        let before =
            applied("c", &[("A", None, "x", Some("1")), ("A", None, "x", Some("2")), ("B", Some("n"), "y", None)]);
        let now = applied(
            "c",
            &[("A", None, "x", Some("new")), ("B", Some("n"), "y", Some("new")), ("C", None, "z", Some("new"))],
        );
        let hashes: Vec<Option<String>> =
            provisional(&before, &now).objects.into_iter().map(|object| object.hash).collect();
        assert_eq!(hashes, [Some("1".to_string()), None, None]);
        let elsewhere = applied("other", &[("A", None, "x", Some("new"))]);
        assert_eq!(provisional(&before, &elsewhere).objects[0].hash, None);
    }

    #[test]
    fn orphans_and_forgetting_go_by_kind_namespace_and_name() {
        let before = applied(
            "c",
            &[("A", None, "x", None), ("A", Some("n"), "x", None), ("B", None, "x", None), ("A", None, "y", None)],
        );
        let now = applied("c", &[("A", None, "x", Some("h")), ("B", None, "x", None)]);
        let names = |objects: &[AppliedObject]| objects.iter().map(AppliedObject::label).collect::<Vec<_>>();
        assert_eq!(names(&orphans(&before, &now)), ["A n/x", "A/y"]);
        let mut recorded = before.objects.clone();
        without(&mut recorded, &now.objects);
        assert_eq!(names(&recorded), ["A n/x", "A/y"]);
    }
}
