//! What ohdev applied, kept in state under `deploy`: enough to prune objects that left the
//! manifests and to tear down in reverse dependency order. No object contents (and so no Secret
//! values) are stored.

use serde::{Deserialize, Serialize};

use super::plan::graph::Plan;
use super::plan::manifest::Object;
use super::plan::resource::resource_name;

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
    let mut applied: Vec<AppliedObject> = plan
        .objects()
        .map(|planned| {
            let object = &objects[planned.index];
            AppliedObject {
                level: planned.level,
                kind: object.kind().to_string(),
                resource: resource_name(object, objects),
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

/// Indexes (into `objects`) whose rendered content is exactly what was applied before.
pub fn unchanged(before: &Applied, objects: &[Object]) -> std::collections::BTreeSet<usize> {
    objects
        .iter()
        .enumerate()
        .filter(|(_, object)| {
            let hash = content_hash(object);
            hash.is_some()
                && before.objects.iter().any(|old| {
                    old.kind == object.kind()
                        && old.namespace.as_deref() == object.namespace()
                        && old.name == object.name()
                        && old.hash == hash
                })
        })
        .map(|(index, _)| index)
        .collect()
}

/// What to record before applying `now`: every object (an interrupted apply still leaves ohdev
/// knowing what it may have created), but each keeps the hash of what was applied before, so a
/// failed or interrupted apply is retried by the next run instead of being taken as done.
pub fn provisional(before: &Applied, now: &Applied) -> Applied {
    let mut pending = now.clone();
    for object in &mut pending.objects {
        object.hash = before
            .objects
            .iter()
            .filter(|_| before.cluster == now.cluster)
            .find(|old| old.kind == object.kind && old.namespace == object.namespace && old.name == object.name)
            .and_then(|old| old.hash.clone());
    }
    pending
}

/// Objects in `before` that `now` no longer has.
pub fn orphans(before: &Applied, now: &Applied) -> Vec<AppliedObject> {
    before
        .objects
        .iter()
        .filter(|old| {
            !now.objects
                .iter()
                .any(|new| new.kind == old.kind && new.namespace == old.namespace && new.name == old.name)
        })
        .cloned()
        .collect()
}

/// Reverse dependency order: the deepest level first, so nothing is deleted before what needs it.
pub fn teardown_order(applied: &Applied) -> Vec<AppliedObject> {
    let mut objects = applied.objects.clone();
    objects.sort_by(|left, right| right.level.cmp(&left.level).then_with(|| left.cmp(right)));
    objects
}
