//! Rewrites the loaded objects before they are planned: logical image names, `${image:NAME}`
//! placeholders, and the `app.kubernetes.io/managed-by: ohdev` label (patches: see `patch`, re-exported
//! here).
//!
//! Why: manifests name images logically (`image: app`) so that the exact, content-addressed tag is put in
//! at deploy time; a rebuild then changes the pod template (a rollout) and an unchanged image does not.
//! The label is how `down` and `status` find what ohdev applied, so no object may escape it.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde_json::Value;

use super::manifest::{Object, ObjectKey, SourceRef};
pub use super::patch::{apply_patches, Patch};

/// The label every applied object carries.
pub use crate::names::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};

#[derive(Debug, thiserror::Error)]
pub enum SubstituteError {
    #[error("{source_ref}: {object} uses ${{image:{name}}} at {pointer}, but ohdev.yaml has no image `{name}` (known: {}): fix the name or add it under `images:`", if known.is_empty() { "none".to_string() } else { known.join(", ") })]
    UnknownImagePlaceholder {
        source_ref: SourceRef,
        object: ObjectKey,
        pointer: String,
        name: String,
        known: Vec<String>,
    },
}

/// Something worth telling the user that does not stop the deploy.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageWarning {
    pub source_ref: SourceRef,
    pub object: ObjectKey,
    /// JSON pointer of the field, e.g. `/spec/template/spec/containers/0/image`.
    pub pointer: String,
    pub image: String,
    pub logical_name: String,
    pub problem: ImageProblem,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageProblem {
    /// `app:latest`, `ohdev.local/app` …: kubelet pulls `:latest` and untagged images from a registry.
    LatestOrUntagged,
    /// `imagePullPolicy: Always` next to a kind-loaded tag: kubelet pulls, and no registry has it.
    PullPolicyAlways,
    /// A bare name that is not an image in ohdev.yaml but close to one (`image: ap` for `app`): it
    /// would be pulled from Docker Hub.
    UnknownName,
}

impl fmt::Display for ImageWarning {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (source_ref, object, pointer, image, name) =
            (&self.source_ref, &self.object, &self.pointer, &self.image, &self.logical_name);
        match self.problem {
            ImageProblem::LatestOrUntagged => write!(
                formatter,
                "{source_ref}: {object} uses image `{image}` at {pointer}; ohdev loads that image into kind, but with `:latest` or no tag the kubelet tries to pull it from a registry (ImagePullBackOff): write `image: {name}` so ohdev puts in the exact built tag"
            ),
            ImageProblem::UnknownName => write!(
                formatter,
                "{source_ref}: {object} uses image `{image}` at {pointer}, which is not an image in ohdev.yaml, so the kubelet would pull docker.io/library/{image}: did you mean `image: {name}`?"
            ),
            ImageProblem::PullPolicyAlways => write!(
                formatter,
                "{source_ref}: {object} sets imagePullPolicy: Always for image `{image}` at {pointer}; ohdev loads that image into kind and no registry has it: remove imagePullPolicy or set IfNotPresent"
            ),
        }
    }
}

/// Replaces `image: NAME` (any field called `image` whose whole value is a logical name, in pod templates
/// and custom resources alike) and `${image:NAME}` inside any string with the exact tag from `images`
/// (logical name → tag). Values that are not logical names are left alone. Returns warnings about
/// references that would make the kubelet pull a kind-loaded image from a registry.
pub fn substitute_images(
    objects: &mut [Object],
    images: &BTreeMap<String, String>,
) -> Result<Vec<ImageWarning>, SubstituteError> {
    let mut warnings = Vec::new();
    let mut pointer = String::new();
    for object in objects.iter_mut() {
        let object_key = object.key();
        let Object { source, value } = object;
        let mut walker = ImageWalker { images, object_key, source_ref: source, warnings: Vec::new() };
        pointer.clear();
        walker.walk(value, &mut pointer)?;
        warnings.append(&mut walker.warnings);
    }
    Ok(warnings)
}

struct ImageWalker<'a> {
    images: &'a BTreeMap<String, String>,
    object_key: ObjectKey,
    source_ref: &'a SourceRef,
    warnings: Vec<ImageWarning>,
}

impl ImageWalker<'_> {
    fn walk(&mut self, value: &mut Value, pointer: &mut String) -> Result<(), SubstituteError> {
        let length = pointer.len();
        match value {
            Value::Object(map) => {
                if let Some(Value::String(image)) = map.get_mut("image") {
                    if let Some(tag) = self.images.get(image.as_str()) {
                        *image = tag.clone();
                    }
                }
                for (key, child) in map.iter_mut() {
                    pointer.push('/');
                    for character in key.chars() {
                        match character {
                            '~' => pointer.push_str("~0"),
                            '/' => pointer.push_str("~1"),
                            other => pointer.push(other),
                        }
                    }
                    self.walk(child, pointer)?;
                    pointer.truncate(length);
                }
                if let Some(Value::String(image)) = map.get("image") {
                    let always = map.get("imagePullPolicy").and_then(Value::as_str) == Some("Always");
                    self.check_reference(image, &format!("{pointer}/image"), always);
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter_mut().enumerate() {
                    let _ = write!(pointer, "/{index}");
                    self.walk(child, pointer)?;
                    pointer.truncate(length);
                }
            }
            Value::String(text) if text.contains("${image:") => *text = self.replace_placeholders(text, pointer)?,
            _ => {}
        }
        Ok(())
    }

    fn replace_placeholders(&self, text: &str, pointer: &str) -> Result<String, SubstituteError> {
        let mut result = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${image:") {
            let after = &rest[start + "${image:".len()..];
            let Some(end) = after.find('}') else { break };
            let name = &after[..end];
            let tag = self.images.get(name).ok_or_else(|| SubstituteError::UnknownImagePlaceholder {
                source_ref: self.source_ref.clone(),
                object: self.object_key.clone(),
                pointer: pointer.to_string(),
                name: name.to_string(),
                known: self.images.keys().cloned().collect(),
            })?;
            result.push_str(&rest[..start]);
            result.push_str(tag);
            rest = &after[end + 1..];
        }
        result.push_str(rest);
        Ok(result)
    }

    fn check_reference(&mut self, image: &str, pointer: &str, pull_always: bool) {
        let bare = !image.is_empty() && !image.contains(['/', ':', '@', '.']);
        if bare && !self.images.contains_key(image) {
            let known: Vec<String> = self.images.keys().cloned().collect();
            if let Some(nearest) = crate::config::yaml_error::nearest(image, &known) {
                self.warnings.push(ImageWarning {
                    source_ref: self.source_ref.clone(),
                    object: self.object_key.clone(),
                    pointer: pointer.to_string(),
                    image: image.to_string(),
                    logical_name: nearest.to_string(),
                    problem: ImageProblem::UnknownName,
                });
                return;
            }
        }
        let (repository, tag, pinned) = split_reference(image);
        for (name, built) in self.images {
            let (built_repository, _, _) = split_reference(built);
            let mut warn = |problem| {
                self.warnings.push(ImageWarning {
                    source_ref: self.source_ref.clone(),
                    object: self.object_key.clone(),
                    pointer: pointer.to_string(),
                    image: image.to_string(),
                    logical_name: name.clone(),
                    problem,
                })
            };
            if image == built && pull_always {
                warn(ImageProblem::PullPolicyAlways);
            } else if !pinned
                && (repository == name || repository == built_repository)
                && tag.is_none_or(|tag| tag == "latest")
            {
                warn(ImageProblem::LatestOrUntagged);
            }
        }
    }
}

/// `registry:5000/team/app:1.0@sha256:…` → (`registry:5000/team/app`, Some(`1.0`), pinned by digest).
fn split_reference(image: &str) -> (&str, Option<&str>, bool) {
    let (name, pinned) = match image.split_once('@') {
        Some((name, _digest)) => (name, true),
        None => (image, false),
    };
    let last_slash = name.rfind('/').map_or(0, |slash| slash + 1);
    match name[last_slash..].rfind(':') {
        Some(colon) => (&name[..last_slash + colon], Some(&name[last_slash + colon + 1..]), pinned),
        None => (name, None, pinned),
    }
}

/// Sets `metadata.labels["app.kubernetes.io/managed-by"] = "ohdev"` on every object.
pub fn label_managed_by(objects: &mut [Object]) {
    for object in objects {
        let Some(metadata) = object.value.get_mut("metadata").and_then(Value::as_object_mut) else {
            continue;
        };
        let labels = metadata.entry("labels").or_insert_with(|| Value::Object(Default::default()));
        if !labels.is_object() {
            *labels = Value::Object(Default::default());
        }
        if let Some(labels) = labels.as_object_mut() {
            labels.insert(MANAGED_BY_LABEL.to_string(), Value::from(MANAGED_BY_VALUE));
        }
    }
}

#[cfg(test)]
#[path = "substitute_tests.rs"]
mod tests;
