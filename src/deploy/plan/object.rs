//! One Kubernetes object as ohdev carries it: the user's JSON, untouched, plus where it was written.
//!
//! Why `serde_json::Value` and not typed structs: the set mixes built-in kinds with custom resources we
//! know nothing about, and server-side apply wants the user's fields exactly as written. The accessors
//! give the few fields ordering and validation need; everything else stays opaque.

use std::fmt;
use std::path::PathBuf;

use serde_json::Value;

/// Where an object was written: the file, the document's position in it (0-based; shown 1-based) and
/// the line of the document's first content line when known. For an object a renderer printed
/// (`kustomize:`, `command:` entries), `file` is the renderer's label, e.g. `kustomize:overlays/dev`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRef {
    pub file: PathBuf,
    pub doc_index: usize,
    pub line: Option<usize>,
}

/// What a rendered source's label starts with (`kustomize:overlays/dev`, `command:helm`): such a
/// `file` is not a path but the name of the renderer whose output held the object.
const RENDERED_PREFIXES: [&str; 2] = ["kustomize:", "command:"];

impl SourceRef {
    /// The renderer's label (`kustomize:overlays/dev`) when the object came from one, not a file.
    pub fn rendered_by(&self) -> Option<&str> {
        let text = self.file.to_str()?;
        RENDERED_PREFIXES.iter().any(|prefix| text.starts_with(prefix)).then_some(text)
    }
}

impl fmt::Display for SourceRef {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(label) = self.rendered_by() {
            return match self.line {
                Some(line) => {
                    write!(formatter, "{label} (document {}, line {line} of its output)", self.doc_index + 1)
                }
                None => write!(formatter, "{label} (document {} of its output)", self.doc_index + 1),
            };
        }
        match self.line {
            Some(line) => write!(formatter, "{}:{line} (document {})", self.file.display(), self.doc_index + 1),
            None => write!(formatter, "{} (document {})", self.file.display(), self.doc_index + 1),
        }
    }
}

/// Identity of an object in the set: two objects with the same key would overwrite each other.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ObjectKey {
    /// `Namespace/openhands` for cluster-scoped objects, `ConfigMap openhands/settings` for namespaced ones.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(formatter, "{} {namespace}/{}", self.kind, self.name),
            None => write!(formatter, "{}/{}", self.kind, self.name),
        }
    }
}

/// One Kubernetes object and where it came from.
#[derive(Clone, PartialEq)]
pub struct Object {
    pub source: SourceRef,
    pub value: Value,
}

impl fmt::Debug for Object {
    /// Secret payloads are redacted: values must never reach output, even through `{:?}` in a test failure.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.value.clone();
        if self.kind() == "Secret" {
            if let Some(map) = shown.as_object_mut() {
                for field in ["data", "stringData"] {
                    if let Some(Value::Object(entries)) = map.get_mut(field) {
                        entries.values_mut().for_each(|value| *value = Value::from("<redacted>"));
                    }
                }
            }
        }
        formatter.debug_struct("Object").field("source", &self.source).field("value", &shown).finish()
    }
}

impl Object {
    pub fn new(source: SourceRef, value: Value) -> Self {
        Object { source, value }
    }
    /// A top-level string field, or `""`. Looked up with `get`, not a JSON pointer: these accessors
    /// run many times for every object of the set.
    fn field(&self, name: &str) -> &str {
        self.value.get(name).and_then(Value::as_str).unwrap_or("")
    }
    /// A string field of `metadata`, or `""`.
    fn metadata_field(&self, name: &str) -> &str {
        self.value.get("metadata").and_then(|metadata| metadata.get(name)).and_then(Value::as_str).unwrap_or("")
    }
    pub fn api_version(&self) -> &str {
        self.field("apiVersion")
    }
    pub fn kind(&self) -> &str {
        self.field("kind")
    }
    /// API group: `apps` for `apps/v1`, empty for the core group (`v1`).
    pub fn group(&self) -> &str {
        self.api_version().rsplit_once('/').map_or("", |(group, _)| group)
    }
    pub fn version(&self) -> &str {
        let api_version = self.api_version();
        api_version.rsplit_once('/').map_or(api_version, |(_, version)| version)
    }
    pub fn name(&self) -> &str {
        self.metadata_field("name")
    }
    /// `None` for cluster-scoped objects (after `normalize`) and for objects that name no namespace.
    pub fn namespace(&self) -> Option<&str> {
        Some(self.metadata_field("namespace")).filter(|namespace| !namespace.is_empty())
    }
    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            kind: self.kind().to_string(),
            namespace: self.namespace().map(str::to_string),
            name: self.name().to_string(),
        }
    }
    pub fn labels(&self) -> Option<&serde_json::Map<String, Value>> {
        self.value.get("metadata")?.get("labels")?.as_object()
    }
    pub fn annotation(&self, name: &str) -> Option<&str> {
        self.value.get("metadata")?.get("annotations")?.get(name)?.as_str()
    }
}
