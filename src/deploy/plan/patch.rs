//! `patches:` from ohdev.yaml: a small RFC 6902 subset (add, replace, remove; `-` appends to an array)
//! applied to the objects a patch targets, after loading and before images are substituted.
//!
//! Why in ohdev and not in the manifests: some manifests come from upstream releases (ingress-nginx,
//! metrics-server) and are used unchanged; the few local adjustments (e.g. `--kubelet-insecure-tls` for
//! kind) live in ohdev.yaml where a reader sees them.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use super::manifest::{Object, ObjectKey, SourceRef};

/// One `patches:` entry of ohdev.yaml (deserializable, so the config module can embed it).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    pub target: PatchTarget,
    pub ops: Vec<PatchOperation>,
}

/// Which objects a patch applies to; without `namespace` it matches the name in every namespace.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchTarget {
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

impl fmt::Display for PatchTarget {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(formatter, "{} {namespace}/{}", self.kind, self.name),
            None => write!(formatter, "{}/{}", self.kind, self.name),
        }
    }
}

/// The RFC 6902 subset ohdev supports. `path` is a JSON pointer; `-` as the last token appends to an array.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
pub enum PatchOperation {
    Add { path: String, value: Value },
    Replace { path: String, value: Value },
    Remove { path: String },
}

impl PatchOperation {
    fn describe(&self) -> String {
        match self {
            PatchOperation::Add { path, .. } => format!("add {path}"),
            PatchOperation::Replace { path, .. } => format!("replace {path}"),
            PatchOperation::Remove { path } => format!("remove {path}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("patches[{index}] targets {target}, which is not in the manifest set: fix `target:` in ohdev.yaml (kind and name are case-sensitive)")]
    PatchMatchesNothing { index: usize, target: PatchTarget },
    #[error("patches[{index}] leaves {object} from {source_ref} without {field}: every object needs apiVersion, kind and metadata.name: fix the ops in ohdev.yaml")]
    LeavesObjectIncomplete { index: usize, object: ObjectKey, source_ref: SourceRef, field: &'static str },
    #[error("patches[{index}].ops[{operation_index}] ({operation}) on {object} from {source_ref}: {problem}: fix the path in ohdev.yaml")]
    PatchFailed {
        index: usize,
        operation_index: usize,
        operation: String,
        object: ObjectKey,
        source_ref: SourceRef,
        problem: String,
    },
}

/// Applies every patch to every object it targets, in order. A patch that targets nothing is an error:
/// it is almost always a typo, and silently skipping it would deploy something other than intended.
pub fn apply_patches(objects: &mut [Object], patches: &[Patch]) -> Result<(), PatchError> {
    for (index, patch) in patches.iter().enumerate() {
        let mut matched = false;
        for object in objects.iter_mut().filter(|object| targets(&patch.target, object)) {
            matched = true;
            let key = object.key();
            for (operation_index, operation) in patch.ops.iter().enumerate() {
                apply_operation(&mut object.value, operation).map_err(|problem| PatchError::PatchFailed {
                    index,
                    operation_index,
                    operation: operation.describe(),
                    object: object.key(),
                    source_ref: object.source.clone(),
                    problem,
                })?;
            }
            // kubectl would refuse the object; say which patch did it instead.
            let lost =
                [("apiVersion", object.api_version()), ("kind", object.kind()), ("metadata.name", object.name())]
                    .into_iter()
                    .find(|(_, value)| value.is_empty());
            if let Some((field, _)) = lost {
                return Err(PatchError::LeavesObjectIncomplete {
                    index,
                    object: key,
                    source_ref: object.source.clone(),
                    field,
                });
            }
        }
        if !matched {
            return Err(PatchError::PatchMatchesNothing { index, target: patch.target.clone() });
        }
    }
    Ok(())
}

fn targets(target: &PatchTarget, object: &Object) -> bool {
    object.kind() == target.kind
        && object.name() == target.name
        && target.namespace.as_deref().is_none_or(|namespace| object.namespace() == Some(namespace))
}

fn parse_pointer(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("`{path}` is not a JSON pointer (it must start with `/`)"));
    };
    Ok(rest.split('/').map(|token| token.replace("~1", "/").replace("~0", "~")).collect())
}

fn array_index(token: &str, length: usize, allow_end: bool) -> Result<usize, String> {
    let valid = !token.is_empty()
        && token.bytes().all(|byte| byte.is_ascii_digit())
        && (token == "0" || !token.starts_with('0'));
    let index: usize = if valid {
        token.parse().map_err(|_| format!("index {token} is too large"))?
    } else {
        return Err(format!("`{token}` is not an array index"));
    };
    let limit = if allow_end { length } else { length.saturating_sub(1) };
    if index > limit || (!allow_end && length == 0) {
        return Err(format!("index {index} is out of range (the array has {length} items)"));
    }
    Ok(index)
}

fn apply_operation(document: &mut Value, operation: &PatchOperation) -> Result<(), String> {
    let (path, value) = match operation {
        PatchOperation::Add { path, value } | PatchOperation::Replace { path, value } => (path, Some(value)),
        PatchOperation::Remove { path } => (path, None),
    };
    let tokens = parse_pointer(path)?;
    let Some((last, parents)) = tokens.split_last() else {
        return Err("the whole object cannot be patched; name a field".to_string());
    };
    let mut parent = &mut *document;
    let mut walked = String::new();
    for token in parents {
        let next = match parent {
            Value::Object(map) => map.get_mut(token.as_str()),
            Value::Array(items) => {
                let length = items.len();
                items.get_mut(array_index(token, length, false)?)
            }
            _ => None,
        };
        walked.push('/');
        walked.push_str(token);
        parent = next.ok_or_else(|| format!("{walked} does not exist"))?;
    }
    let missing = || format!("{path} does not exist");
    match (parent, operation) {
        (Value::Object(map), PatchOperation::Add { .. }) => {
            map.insert(last.clone(), value.cloned().unwrap_or(Value::Null));
        }
        (Value::Object(map), PatchOperation::Replace { .. }) => {
            let slot = map.get_mut(last.as_str()).ok_or_else(missing)?;
            *slot = value.cloned().unwrap_or(Value::Null);
        }
        (Value::Object(map), PatchOperation::Remove { .. }) => {
            map.remove(last.as_str()).ok_or_else(missing)?;
        }
        (Value::Array(items), PatchOperation::Add { .. }) => {
            let index = if last == "-" { items.len() } else { array_index(last, items.len(), true)? };
            items.insert(index, value.cloned().unwrap_or(Value::Null));
        }
        (Value::Array(items), PatchOperation::Replace { .. }) => {
            let index = array_index(last, items.len(), false)?;
            items[index] = value.cloned().unwrap_or(Value::Null);
        }
        (Value::Array(items), PatchOperation::Remove { .. }) => {
            let index = array_index(last, items.len(), false)?;
            items.remove(index);
        }
        (other, _) => {
            let found = if other.is_string() { "a string" } else { "not an object or array" };
            return Err(format!("{} is {found}", if walked.is_empty() { "the object" } else { &walked }));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;
