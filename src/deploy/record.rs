//! What ohdev applied, kept in state under `deploy`: enough to prune objects that left the
//! manifests and to tear down in reverse dependency order. No object contents (and so no Secret
//! values) are stored.

use serde::{Deserialize, Serialize};

use super::apply::resource_name;
use super::graph::Plan;
use super::manifest::Object;

pub const STATE_KEY: &str = "deploy";

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
            }
        })
        .collect();
    applied.sort();
    Applied {
        cluster: cluster.to_string(),
        objects: applied,
    }
}

/// Objects in `before` that `now` no longer has.
pub fn orphans(before: &Applied, now: &Applied) -> Vec<AppliedObject> {
    before
        .objects
        .iter()
        .filter(|old| !now.objects.iter().any(|new| new.kind == old.kind && new.namespace == old.namespace && new.name == old.name))
        .cloned()
        .collect()
}

/// Reverse dependency order: the deepest level first, so nothing is deleted before what needs it.
pub fn teardown_order(applied: &Applied) -> Vec<AppliedObject> {
    let mut objects = applied.objects.clone();
    objects.sort_by(|left, right| right.level.cmp(&left.level).then_with(|| left.cmp(right)));
    objects
}
