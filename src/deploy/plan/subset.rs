//! A part of the environment: `ohdev up NAME…`, `rebuild NAME…`, `watch NAME…` and `plan NAME…`.
//!
//! A name is an image (`app`), a workload (`Deployment/web`, `Deployment/shop/web`, or a bare `web`
//! when only one workload has that name) or any object written as `Kind/name`. The subset is what
//! the named things need: an object's dependencies in the plan (its namespace, the ConfigMaps,
//! Secrets, PVCs and ServiceAccounts it references, its CRD, an admission webhook's Deployment…),
//! the objects that run a named image, and the images those objects run. Everything else is left as
//! it is: not built, not applied, not pruned. Pure: data in, data out.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::graph::Plan;
use super::manifest::{Object, ObjectKey};

/// Kinds a bare name may stand for: what runs containers.
const WORKLOAD_KINDS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"];

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subset {
    /// The names as given (for messages).
    pub names: Vec<String>,
    /// Named images and the images the selected objects run (their `depends_on` is added by
    /// `image::select`).
    pub images: BTreeSet<String>,
    /// The selected objects and everything they depend on.
    pub objects: BTreeSet<ObjectKey>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SubsetError {
    #[error("`{name}` is neither an image in ohdev.yaml nor an object of the manifests")]
    Unknown { name: String, suggestion: Option<String>, known: Vec<String> },
    #[error("`{name}` names more than one object: {}", candidates.join(", "))]
    Ambiguous { name: String, candidates: Vec<String> },
}

impl SubsetError {
    /// What to type instead.
    pub fn fix(&self) -> String {
        match self {
            SubsetError::Unknown { suggestion, known, .. } => {
                let shown: Vec<&str> = known.iter().take(12).map(String::as_str).collect();
                let list = if known.is_empty() {
                    "name an image (see `images:` in ohdev.yaml) or a workload (`ohdev plan` lists the objects)"
                        .to_string()
                } else {
                    format!(
                        "images and workloads: {}{}",
                        shown.join(", "),
                        if known.len() > shown.len() { ", … (`ohdev plan` lists every object)" } else { "" }
                    )
                };
                match suggestion {
                    Some(suggestion) => format!("did you mean `{suggestion}`? {list}"),
                    None => list,
                }
            }
            SubsetError::Ambiguous { candidates, .. } => format!("name one of them: {}", candidates.join(", ")),
        }
    }
}

/// `Kind/name` as people write it, with the namespace when it has one (`Deployment/shop/web`).
fn written(key: &ObjectKey) -> String {
    match &key.namespace {
        Some(namespace) => format!("{}/{namespace}/{}", key.kind, key.name),
        None => format!("{}/{}", key.kind, key.name),
    }
}

enum Named {
    Image(String),
    Object(ObjectKey),
}

fn resolve(name: &str, images: &BTreeSet<String>, keys: &[ObjectKey]) -> Result<Named, SubsetError> {
    if images.contains(name) {
        return Ok(Named::Image(name.to_string()));
    }
    let parts: Vec<&str> = name.split('/').collect();
    let matches: Vec<&ObjectKey> = match parts.as_slice() {
        [kind, object] => {
            keys.iter().filter(|key| key.kind.eq_ignore_ascii_case(kind) && key.name == *object).collect()
        }
        [kind, namespace, object] => keys
            .iter()
            .filter(|key| {
                key.kind.eq_ignore_ascii_case(kind)
                    && key.namespace.as_deref() == Some(*namespace)
                    && key.name == *object
            })
            .collect(),
        _ => keys.iter().filter(|key| WORKLOAD_KINDS.contains(&key.kind.as_str()) && key.name == name).collect(),
    };
    match matches.as_slice() {
        [key] => Ok(Named::Object((*key).clone())),
        [] => {
            let mut known: Vec<String> = images.iter().cloned().collect();
            known.extend(
                keys.iter()
                    .filter(|key| WORKLOAD_KINDS.contains(&key.kind.as_str()))
                    .map(|key| format!("{}/{}", key.kind, key.name)),
            );
            let mut candidates = known.clone();
            candidates.extend(keys.iter().map(|key| format!("{}/{}", key.kind, key.name)));
            candidates.extend(
                keys.iter().filter(|key| WORKLOAD_KINDS.contains(&key.kind.as_str())).map(|key| key.name.clone()),
            );
            let suggestion = crate::suggest::nearest(name, &candidates).map(str::to_string);
            Err(SubsetError::Unknown { name: name.to_string(), suggestion, known })
        }
        several => {
            let mut candidates: Vec<String> = several.iter().map(|key| written(key)).collect();
            candidates.sort();
            Err(SubsetError::Ambiguous { name: name.to_string(), candidates })
        }
    }
}

/// Does any string in `value` hold one of `tags`? Returns the images whose tag it holds.
fn images_in(value: &Value, tags: &BTreeMap<String, String>, found: &mut BTreeSet<String>) {
    match value {
        Value::String(text) => {
            for (image, tag) in tags {
                if text.contains(tag.as_str()) {
                    found.insert(image.clone());
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| images_in(item, tags, found)),
        Value::Object(map) => map.values().for_each(|item| images_in(item, tags, found)),
        _ => {}
    }
}

/// The subset `names` mean, for a set rendered with `tags` (image → its tag, distinct per image)
/// and planned as `plan`.
pub fn select(
    names: &[String],
    tags: &BTreeMap<String, String>,
    objects: &[Object],
    plan: &Plan,
) -> Result<Subset, SubsetError> {
    let image_names: BTreeSet<String> = tags.keys().cloned().collect();
    let keys: Vec<ObjectKey> = objects.iter().map(Object::key).collect();
    let uses: Vec<BTreeSet<String>> = objects
        .iter()
        .map(|object| {
            let mut found = BTreeSet::new();
            images_in(&object.value, tags, &mut found);
            found
        })
        .collect();
    let mut images = BTreeSet::new();
    let mut pending: Vec<ObjectKey> = Vec::new();
    for name in names {
        match resolve(name, &image_names, &keys)? {
            Named::Image(image) => {
                pending.extend(
                    keys.iter().zip(&uses).filter(|(_, used)| used.contains(&image)).map(|(key, _)| key.clone()),
                );
                images.insert(image);
            }
            Named::Object(key) => pending.push(key),
        }
    }
    let after: BTreeMap<&ObjectKey, Vec<&ObjectKey>> = plan
        .objects()
        .map(|planned| (&planned.key, planned.after.iter().map(|dependency| &dependency.key).collect()))
        .collect();
    let mut selected = BTreeSet::new();
    while let Some(key) = pending.pop() {
        if !selected.insert(key.clone()) {
            continue;
        }
        if let Some(dependencies) = after.get(&key) {
            pending.extend(dependencies.iter().map(|dependency| (*dependency).clone()));
        }
    }
    for (key, used) in keys.iter().zip(&uses) {
        if selected.contains(key) {
            images.extend(used.iter().cloned());
        }
    }
    Ok(Subset { names: names.to_vec(), images, objects: selected })
}

/// The objects of the subset, in their order.
pub fn restrict(objects: Vec<Object>, subset: &Subset) -> Vec<Object> {
    objects.into_iter().filter(|object| subset.objects.contains(&object.key())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::plan::graph;
    use crate::deploy::plan::manifest;

    const SET: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config, namespace: app}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: app}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: app}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers: [{name: web, image: ohdev.local/web:0000, envFrom: [{configMapRef: {name: web-config}}]}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: worker-config, namespace: app}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: app}
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers: [{name: w, image: ohdev.local/worker:0000, envFrom: [{configMapRef: {name: worker-config}}]}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: web, namespace: other}
spec:
  template:
    spec:
      containers: [{name: j, image: busybox}]
      restartPolicy: Never
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
";

    fn set() -> (Vec<Object>, Plan, BTreeMap<String, String>) {
        let objects = manifest::parse_documents(std::path::Path::new("m.yaml"), SET).unwrap();
        let objects = manifest::normalize(objects, "app").unwrap();
        let plan = graph::plan(&objects).unwrap();
        let tags = [("web", "ohdev.local/web:0000"), ("worker", "ohdev.local/worker:0000")]
            .into_iter()
            .map(|(name, tag)| (name.to_string(), tag.to_string()))
            .collect();
        (objects, plan, tags)
    }

    fn names(subset: &Subset) -> Vec<String> {
        subset.objects.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_workload_brings_what_it_depends_on_and_the_image_it_runs() {
        let (objects, plan, tags) = set();
        let subset = select(&["Deployment/worker".into()], &tags, &objects, &plan).unwrap();
        assert_eq!(names(&subset), ["ConfigMap app/worker-config", "Deployment app/worker", "Namespace/app"]);
        assert_eq!(subset.images.iter().collect::<Vec<_>>(), ["worker"]);
        let restricted = restrict(objects, &subset);
        assert_eq!(restricted.len(), 3);
    }

    #[test]
    fn an_image_brings_the_objects_that_run_it() {
        let (objects, plan, tags) = set();
        let subset = select(&["web".into()], &tags, &objects, &plan).unwrap();
        assert_eq!(
            names(&subset),
            ["ConfigMap app/web-config", "Deployment app/web", "Namespace/app", "ServiceAccount app/web"]
        );
        assert_eq!(subset.images.iter().collect::<Vec<_>>(), ["web"]);
    }

    #[test]
    fn unknown_and_ambiguous_names_say_what_to_type() {
        let (objects, plan, mut tags) = set();
        let error = select(&["wroker".into()], &tags, &objects, &plan).unwrap_err();
        assert_eq!(error.to_string(), "`wroker` is neither an image in ohdev.yaml nor an object of the manifests");
        assert_eq!(
            error.fix(),
            "did you mean `worker`? images and workloads: web, worker, Deployment/web, Deployment/worker, Job/web"
        );
        let error = select(&["Deployment/wbe".into()], &tags, &objects, &plan).unwrap_err();
        assert!(error.fix().starts_with("did you mean `Deployment/web`? "), "{}", error.fix());
        // A bare name that two workloads share, once it is not an image.
        tags.remove("web");
        let error = select(&["web".into()], &tags, &objects, &plan).unwrap_err();
        assert_eq!(error.to_string(), "`web` names more than one object: Deployment/app/web, Job/other/web");
        let subset = select(&["job/other/web".into()], &tags, &objects, &plan).unwrap();
        assert_eq!(names(&subset), ["Job other/web", "Namespace/other"]);
    }
}
