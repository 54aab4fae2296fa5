//! The manifest set: every object ohdev will apply, read and checked before anything touches the cluster.
//!
//! Why a separate, pure step: a half-applied environment is worse than none, so every file is parsed,
//! every object validated, namespaces defaulted and duplicates found first. Each object remembers where
//! it came from, so every later error can point at a file, a document and a line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use super::object::{Object, ObjectKey, SourceRef};
pub use super::scope::{Scope, ScopeOrigin, ScopeTable};

/// Everything that can be wrong with the manifests themselves. Each message says where and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum DeployInputError {
    #[error("manifest path {} does not exist: fix or remove it under `manifests:` in ohdev.yaml", path.display())]
    PathNotFound { path: PathBuf },
    #[error("manifest directory {} holds no *.yaml, *.yml or *.json file: add manifests or remove it from `manifests:`", path.display())]
    EmptyDirectory { path: PathBuf },
    #[error("cannot read manifest {}: {error}", path.display())]
    Read { path: PathBuf, error: std::io::Error },
    #[error("{source_ref}: invalid YAML: {message}")]
    Yaml { source_ref: SourceRef, message: String },
    #[error("{source_ref}: the document is {found}, not a Kubernetes object: write a mapping with apiVersion, kind and metadata.name")]
    NotAnObject { source_ref: SourceRef, found: &'static str },
    #[error("{source_ref}: {described} has no {}: every object needs apiVersion, kind and metadata.name (generateName does not work with apply)", fields.join(", "))]
    MissingFields { source_ref: SourceRef, described: String, fields: Vec<&'static str> },
    #[error("{key} is defined twice: in {first} and in {second}: remove one of them or rename it")]
    Duplicate { key: ObjectKey, first: SourceRef, second: SourceRef },
}

/// All input errors found in one pass, so the user fixes them in one round.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct InputErrors(pub Vec<DeployInputError>);

/// Reads the `manifests:` entries: files as they are, directories recursively (`*.yaml`, `*.yml`, `*.json`,
/// hidden entries skipped, sorted by path so the set is the same on every machine).
pub fn load(paths: &[PathBuf]) -> Result<Vec<Object>, InputErrors> {
    let mut errors = Vec::new();
    let mut objects = Vec::new();
    for path in paths {
        let files = match manifest_files(path) {
            Ok(files) => files,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(text) => match parse_documents(&file, &text) {
                    Ok(parsed) => objects.extend(parsed),
                    Err(InputErrors(found)) => errors.extend(found),
                },
                Err(error) => errors.push(DeployInputError::Read { path: file, error }),
            }
        }
    }
    if errors.is_empty() {
        Ok(objects)
    } else {
        Err(InputErrors(errors))
    }
}

fn manifest_files(path: &Path) -> Result<Vec<PathBuf>, DeployInputError> {
    let metadata = std::fs::metadata(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => DeployInputError::PathNotFound { path: path.to_path_buf() },
        _ => DeployInputError::Read { path: path.to_path_buf(), error },
    })?;
    if !metadata.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(directory) = pending.pop() {
        let entries =
            std::fs::read_dir(&directory).map_err(|error| DeployInputError::Read { path: directory.clone(), error })?;
        for entry in entries.flatten() {
            let entry_path = entry.path();
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if file_name.starts_with('.') {
                continue;
            }
            if entry_path.is_dir() {
                pending.push(entry_path);
            } else if [".yaml", ".yml", ".json"].iter().any(|suffix| file_name.ends_with(suffix)) {
                files.push(entry_path);
            }
        }
    }
    if files.is_empty() {
        return Err(DeployInputError::EmptyDirectory { path: path.to_path_buf() });
    }
    files.sort();
    Ok(files)
}

/// One YAML document's text, padded with blank lines so the parser reports lines of the whole file.
struct DocumentText {
    padded: String,
    content_line: Option<usize>,
}

/// Splits at `---` lines ourselves (rather than serde_yaml's multi-document reader) to know where each
/// document starts. A leading chunk with no content before the first `---` is not counted as a document.
fn split_documents(text: &str) -> Vec<DocumentText> {
    let mut documents = Vec::new();
    let mut current = DocumentText { padded: String::new(), content_line: None };
    let mut first_separator_seen = false;
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let rest = line.strip_prefix("---").filter(|rest| rest.is_empty() || rest.starts_with([' ', '\t']));
        let body = match rest {
            Some(rest) => {
                if first_separator_seen || current.content_line.is_some() {
                    documents.push(current);
                }
                first_separator_seen = true;
                current = DocumentText { padded: "\n".repeat(index), content_line: None };
                rest
            }
            None if line == "..." => "",
            None => line,
        };
        let trimmed = body.trim();
        if current.content_line.is_none() && !trimmed.is_empty() && !trimmed.starts_with('#') {
            current.content_line = Some(line_number);
        }
        current.padded.push_str(body);
        current.padded.push('\n');
    }
    if first_separator_seen || current.content_line.is_some() {
        documents.push(current);
    }
    documents
}

/// Parses one file's text into objects: empty documents skipped, `kind: List` (and `*List` with `items`)
/// flattened, required fields checked. `file` is only used to say where things are.
pub fn parse_documents(file: &Path, text: &str) -> Result<Vec<Object>, InputErrors> {
    let mut errors = Vec::new();
    let mut objects = Vec::new();
    for (doc_index, document) in split_documents(text).into_iter().enumerate() {
        let source_ref = SourceRef { file: file.to_path_buf(), doc_index, line: document.content_line };
        let value = match parse_yaml(&document.padded) {
            Ok(value) => value,
            Err((message, line)) => {
                errors.push(DeployInputError::Yaml {
                    source_ref: SourceRef { line: line.or(source_ref.line), ..source_ref },
                    message,
                });
                continue;
            }
        };
        let is_list = value.get("kind").and_then(Value::as_str).is_some_and(|kind| kind.ends_with("List"))
            && value.get("items").is_some_and(Value::is_array);
        let candidates = match value {
            Value::Object(mut map) if is_list => match map.remove("items") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            other => vec![other],
        };
        for candidate in candidates.into_iter().filter(|candidate| !candidate.is_null()) {
            match check_object(candidate, &source_ref) {
                Ok(object) => objects.push(object),
                Err(error) => errors.push(error),
            }
        }
    }
    if errors.is_empty() {
        Ok(objects)
    } else {
        Err(InputErrors(errors))
    }
}

fn parse_yaml(text: &str) -> Result<Value, (String, Option<usize>)> {
    let mut yaml: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|error| match crate::config::yaml_error::duplicate_key(text, &error) {
            Some((key, lines)) => {
                let shown: Vec<String> = lines.iter().map(ToString::to_string).collect();
                (
                    format!(
                        "`{key}` is set more than once in the same mapping (lines {}): keep one of them",
                        shown.join(" and ")
                    ),
                    lines.last().copied(),
                )
            }
            None => (error.to_string(), error.location().map(|location| location.line())),
        })?;
    yaml.apply_merge().map_err(|error| (error.to_string(), None))?;
    serde_json::to_value(&yaml).map_err(|error| (error.to_string(), None))
}

fn check_object(value: Value, source_ref: &SourceRef) -> Result<Object, DeployInputError> {
    let found = match &value {
        Value::Object(_) => None,
        Value::Array(_) => Some("a list"),
        Value::String(_) => Some("a string"),
        Value::Number(_) | Value::Bool(_) | Value::Null => Some("a scalar"),
    };
    if let Some(found) = found {
        return Err(DeployInputError::NotAnObject { source_ref: source_ref.clone(), found });
    }
    let object = Object::new(source_ref.clone(), value);
    let mut fields = Vec::new();
    for (field, present) in [
        ("apiVersion", !object.api_version().is_empty()),
        ("kind", !object.kind().is_empty()),
        ("metadata.name", !object.name().is_empty()),
    ] {
        if !present {
            fields.push(field);
        }
    }
    if fields.is_empty() {
        return Ok(object);
    }
    let described = match (object.kind(), object.name()) {
        ("", "") => "the object".to_string(),
        ("", name) => format!("the object named {name}"),
        (kind, "") => format!("the {kind}"),
        (kind, name) => format!("{kind}/{name}"),
    };
    Err(DeployInputError::MissingFields { source_ref: source_ref.clone(), described, fields })
}

/// Applies scopes and the default namespace, then rejects duplicates (naming both places).
/// Cluster-scoped objects lose a stray `metadata.namespace` (the API server ignores it too), so their
/// key is the same wherever they were written. Generated objects (Secrets) belong in `objects` already.
pub fn normalize(mut objects: Vec<Object>, default_namespace: &str) -> Result<Vec<Object>, InputErrors> {
    let scopes = ScopeTable::new(&objects);
    for object in &mut objects {
        let (scope, _) = scopes.resolve(object);
        let Some(metadata) = object.value.get_mut("metadata").and_then(Value::as_object_mut) else {
            continue;
        };
        match scope {
            Scope::Cluster => {
                metadata.remove("namespace");
            }
            Scope::Namespaced => {
                let named =
                    metadata.get("namespace").and_then(Value::as_str).is_some_and(|namespace| !namespace.is_empty());
                if !named {
                    metadata.insert("namespace".to_string(), Value::from(default_namespace));
                }
            }
        }
    }
    let mut seen: BTreeMap<ObjectKey, SourceRef> = BTreeMap::new();
    let mut errors = Vec::new();
    for object in &objects {
        if let Some(first) = seen.get(&object.key()) {
            errors.push(DeployInputError::Duplicate {
                key: object.key(),
                first: first.clone(),
                second: object.source.clone(),
            });
        } else {
            seen.insert(object.key(), object.source.clone());
        }
    }
    if errors.is_empty() {
        Ok(objects)
    } else {
        Err(InputErrors(errors))
    }
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
