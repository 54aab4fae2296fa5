//! The manifest set: every object ohdev will apply, read and checked before anything touches the cluster.
//!
//! Why a separate, pure step: a half-applied environment is worse than none, so every file is parsed,
//! every object validated, namespaces defaulted and duplicates found first. Each object remembers where
//! it came from, so every later error can point at a file, a document and a line.

use std::collections::hash_map::{Entry, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use super::object::{Object, ObjectKey, SourceRef};
pub use super::scope::{Scope, ScopeOrigin, ScopeTable};
use super::yaml::ReadError;

/// Everything that can be wrong with the manifests themselves. Each message says where and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum DeployInputError {
    #[error("manifest path {} does not exist: fix or remove it under `manifests:` in ohdev.yaml", path.display())]
    PathNotFound { path: PathBuf },
    #[error("manifest directory {} holds no *.yaml, *.yml or *.json file: add manifests or remove it from `manifests:`", path.display())]
    EmptyDirectory { path: PathBuf },
    #[error("cannot read manifest {}: {error}", path.display())]
    Read { path: PathBuf, error: std::io::Error },
    #[error("{source_ref}: {described} has `{field}: {written}`, which is not a string: write the {field} as text (quote it if it looks like a number)")]
    NotAString { source_ref: SourceRef, described: String, field: &'static str, written: String },
    #[error("manifest path {} is a symbolic link loop (it leads back to {}): point the link somewhere else or remove it", path.display(), target.display())]
    SymlinkLoop { path: PathBuf, target: PathBuf },
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
    // Directories already walked, by their real path: a link back up the tree is a loop, named as
    // one (walking it would never end).
    let mut walked = std::collections::HashSet::new();
    while let Some(directory) = pending.pop() {
        let real = std::fs::canonicalize(&directory).unwrap_or_else(|_| directory.clone());
        if !walked.insert(real.clone()) {
            let parent = directory.parent().and_then(|parent| std::fs::canonicalize(parent).ok()).unwrap_or_default();
            if parent.starts_with(&real) {
                return Err(DeployInputError::SymlinkLoop { path: directory, target: real });
            }
            // A second link to a directory already read: its files are in the set once.
            continue;
        }
        let entries =
            std::fs::read_dir(&directory).map_err(|error| DeployInputError::Read { path: directory.clone(), error })?;
        for entry in entries.flatten() {
            let entry_path = entry.path();
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if file_name.starts_with('.') {
                continue;
            }
            if let Err(error) = std::fs::metadata(&entry_path) {
                if error.raw_os_error() == Some(libc::ELOOP) {
                    let target = std::fs::read_link(&entry_path).unwrap_or_default();
                    return Err(DeployInputError::SymlinkLoop { path: entry_path, target });
                }
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

/// One YAML document's own text and where it sits in the file: serde_yaml reports line `n` of `text`,
/// which is line `n + line_offset` of the file. Not padded to the file's lines: padding every document
/// with the lines before it made parsing quadratic in the number of documents.
struct DocumentText {
    text: String,
    line_offset: usize,
    content_line: Option<usize>,
}

impl DocumentText {
    /// A document whose `---` is on line `index + 1` of the file. Every document after the file's first
    /// line gets one blank line in front: serde_yaml and libyaml leave a position at line 1 column 1
    /// out of their messages, and with the blank line every position is written out, as it was when
    /// the document's text was the whole file up to it.
    fn starting_at(index: usize) -> Self {
        let padding = index.min(1);
        DocumentText { text: "\n".repeat(padding), line_offset: index - padding, content_line: None }
    }
}

/// Splits at `---` lines ourselves (rather than serde_yaml's multi-document reader) to know where each
/// document starts, and to report every broken document rather than stop at the first. A leading chunk
/// with no content before the first `---` is not counted as a document. One document at a time: only
/// the one being parsed is held, not a copy of the whole file.
fn split_documents(text: &str) -> Documents<'_> {
    Documents {
        lines: text.lines().enumerate(),
        current: Some(DocumentText::starting_at(0)),
        first_separator_seen: false,
    }
}

struct Documents<'t> {
    lines: std::iter::Enumerate<std::str::Lines<'t>>,
    /// The document being gathered; `None` once the last one was handed out.
    current: Option<DocumentText>,
    first_separator_seen: bool,
}

impl Iterator for Documents<'_> {
    type Item = DocumentText;

    fn next(&mut self) -> Option<DocumentText> {
        let current = self.current.as_mut()?;
        for (index, line) in self.lines.by_ref() {
            let rest = line.strip_prefix("---").filter(|rest| rest.is_empty() || rest.starts_with([' ', '\t']));
            let (body, finished) = match rest {
                Some(rest) => {
                    let finished = std::mem::replace(current, DocumentText::starting_at(index));
                    let counted = self.first_separator_seen || finished.content_line.is_some();
                    self.first_separator_seen = true;
                    (rest, counted.then_some(finished))
                }
                None if line == "..." => ("", None),
                None => (line, None),
            };
            let trimmed = body.trim();
            if current.content_line.is_none() && !trimmed.is_empty() && !trimmed.starts_with('#') {
                current.content_line = Some(index + 1);
            }
            current.text.push_str(body);
            current.text.push('\n');
            if finished.is_some() {
                return finished;
            }
        }
        let last = self.current.take()?;
        (self.first_separator_seen || last.content_line.is_some()).then_some(last)
    }
}

/// Parses one file's text into objects: empty documents skipped, `kind: List` (and `*List` with `items`)
/// flattened, required fields checked. `file` is only used to say where things are.
pub fn parse_documents(file: &Path, text: &str) -> Result<Vec<Object>, InputErrors> {
    let mut errors = Vec::new();
    let mut objects = Vec::new();
    for (doc_index, document) in split_documents(text).enumerate() {
        let source_ref = SourceRef { file: file.to_path_buf(), doc_index, line: document.content_line };
        let value = match parse_yaml(&document.text, document.line_offset) {
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

/// Parses one document's text; an error carries its message and line as lines of the file (`line_offset`
/// added to every line serde_yaml reports in `text`).
fn parse_yaml(text: &str, line_offset: usize) -> Result<Value, (String, Option<usize>)> {
    let error = match super::yaml::read(text) {
        Ok(value) => return Ok(value),
        Err(ReadError::Other(message)) => return Err((message, None)),
        Err(ReadError::Yaml(error)) => error,
    };
    match crate::config::yaml_error::duplicate_key(text, &error) {
        Some((key, lines)) => {
            let lines: Vec<usize> = lines.iter().map(|line| line + line_offset).collect();
            let shown: Vec<String> = lines.iter().map(ToString::to_string).collect();
            Err((
                format!(
                    "`{key}` is set more than once in the same mapping (lines {}): keep one of them",
                    shown.join(" and ")
                ),
                lines.last().copied(),
            ))
        }
        None => {
            let location = error.location().map(|location| (location.line(), location.column()));
            Err((
                lines_in_file(&error.to_string(), location, line_offset),
                location.map(|(line, _)| line + line_offset),
            ))
        }
    }
}

/// serde_yaml's message with its positions (`at line L column C`) moved down by `offset` lines. A message
/// holds at most two: the problem's, at `location`, which ends the message or is followed by `, <context>`,
/// and libyaml's context position, which ends it. Only those are rewritten: the rest of the message may
/// quote the document (a duplicate key's name), and a quoted `at line 3 column 1` stays as written.
fn lines_in_file(message: &str, location: Option<(usize, usize)>, offset: usize) -> String {
    /// One ` at line L column C` in the message: the byte range of `L`, the position, where it ends.
    #[derive(PartialEq)]
    struct Mark {
        digits: std::ops::Range<usize>,
        position: (usize, usize),
        end: usize,
    }
    const AT_LINE: &str = " at line ";
    if offset == 0 {
        return message.to_string();
    }
    let marks: Vec<Mark> = message
        .match_indices(AT_LINE)
        .filter_map(|(start, _)| {
            let line_start = start + AT_LINE.len();
            let rest = &message[line_start..];
            let line_digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let column_text = rest[line_digits..].strip_prefix(" column ")?;
            let column_digits = column_text.bytes().take_while(u8::is_ascii_digit).count();
            let position = (rest[..line_digits].parse().ok()?, column_text[..column_digits].parse().ok()?);
            let end = message.len() - column_text.len() + column_digits;
            Some(Mark { digits: line_start..line_start + line_digits, position, end })
        })
        .collect();
    let last = marks.last().filter(|mark| mark.end == message.len());
    let mut rewrite: Vec<&Mark> = last.into_iter().collect();
    if last.is_none_or(|last| Some(last.position) != location) {
        let problem = marks.iter().find(|mark| {
            Some(mark.position) == location && message[mark.end..].starts_with(", ") && Some(*mark) != last
        });
        rewrite.extend(problem);
    }
    rewrite.sort_by_key(|mark| mark.digits.start);
    let mut shifted = String::with_capacity(message.len() + 8);
    let mut copied = 0;
    for mark in rewrite {
        shifted.push_str(&message[copied..mark.digits.start]);
        shifted.push_str(&(mark.position.0 + offset).to_string());
        copied = mark.digits.end;
    }
    shifted.push_str(&message[copied..]);
    shifted
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
    // A field read as text that is not text would silently read as absent (`namespace: 5` would
    // put the object in the default namespace).
    for (field, pointer) in [
        ("metadata.namespace", "/metadata/namespace"),
        ("metadata.name", "/metadata/name"),
        ("kind", "/kind"),
        ("apiVersion", "/apiVersion"),
    ] {
        if let Some(written) = value.pointer(pointer).filter(|found| !found.is_string() && !found.is_null()) {
            let kind = value.get("kind").and_then(Value::as_str).unwrap_or("the object");
            return Err(DeployInputError::NotAString {
                source_ref: source_ref.clone(),
                described: kind.to_string(),
                field,
                written: written.to_string(),
            });
        }
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
    let mut seen: HashMap<ObjectKey, usize> = HashMap::with_capacity(objects.len());
    let mut errors = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        match seen.entry(object.key()) {
            Entry::Occupied(first) => errors.push(DeployInputError::Duplicate {
                key: first.key().clone(),
                first: objects[*first.get()].source.clone(),
                second: object.source.clone(),
            }),
            Entry::Vacant(vacant) => {
                vacant.insert(index);
            }
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
