//! Names the API server would refuse, found before anything is applied: `Demo_Config`, a
//! 300-character name, a Service called `my.service`. Kubernetes checks names per kind: most objects
//! need a DNS-1123 subdomain, Namespaces and Services a DNS-1123 label, RBAC objects only a path
//! segment (`system:aggregate-to-admin` is a valid ClusterRole). The namespace an object names must
//! be a DNS-1123 label too, and labels and annotations (the object's and its pod template's) must be
//! well-formed strings: the API server refuses the object otherwise, after earlier objects were applied.

use std::fmt;

use super::manifest::Object;
use crate::names::{is_dns_label, is_dns_subdomain};

/// Objects whose names the cluster would refuse.
#[derive(Debug, PartialEq, Eq)]
pub struct InvalidNames(pub Vec<String>);

impl fmt::Display for InvalidNames {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0.join("\n"))
    }
}

enum Rule {
    Label,
    Subdomain,
    PathSegment,
}

fn rule_for(kind: &str) -> Rule {
    match kind {
        "Namespace" | "Service" => Rule::Label,
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => Rule::PathSegment,
        _ => Rule::Subdomain,
    }
}

pub fn check_names(objects: &[Object]) -> Result<(), InvalidNames> {
    let mut invalid = Vec::new();
    for object in objects {
        let name = object.name();
        let (valid, what) = match rule_for(object.kind()) {
            Rule::Label => (
                is_dns_label(name),
                "lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit",
            ),
            Rule::Subdomain => (
                is_dns_subdomain(name),
                "lower-case letters, digits, '-' and '.', at most 253 characters, starting and ending with a letter or digit",
            ),
            Rule::PathSegment => (
                !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '%']),
                "any name without '/' or '%' (and not `.` or `..`)",
            ),
        };
        if !valid {
            invalid.push(format!(
                "{}: {} has the name `{}`, which the cluster refuses: a {} name must use {what}",
                object.source,
                object.kind(),
                shorten(name),
                object.kind()
            ));
        }
        if let Some(namespace) = object.namespace().filter(|namespace| !is_dns_label(namespace)) {
            invalid.push(format!(
                "{}: {} {} is in namespace `{}`, which is not a valid namespace name: use lower-case letters, digits \
                 and '-', at most 63 characters, starting and ending with a letter or digit",
                object.source,
                object.kind(),
                shorten(name),
                shorten(namespace)
            ));
        }
        for (what, pointer) in METADATA_MAPS {
            let Some(entries) = object.value.pointer(pointer) else { continue };
            let Some(entries) = entries.as_object() else {
                invalid.push(format!(
                    "{}: {} {} has {pointer} that is not a mapping: write `key: value` lines",
                    object.source,
                    object.kind(),
                    shorten(name)
                ));
                continue;
            };
            for (key, value) in entries {
                if let Some(problem) = entry_problem(what, key, value) {
                    invalid.push(format!(
                        "{}: {} {} has {what} `{}` at {pointer}, which the cluster refuses: {problem}",
                        object.source,
                        object.kind(),
                        shorten(name),
                        shorten(key)
                    ));
                }
            }
        }
    }
    if invalid.is_empty() {
        Ok(())
    } else {
        Err(InvalidNames(invalid))
    }
}

/// Where an object carries labels and annotations the API server validates: its own and its pods'.
const METADATA_MAPS: [(&str, &str); 6] = [
    ("label", "/metadata/labels"),
    ("label", "/spec/template/metadata/labels"),
    ("label", "/spec/jobTemplate/spec/template/metadata/labels"),
    ("annotation", "/metadata/annotations"),
    ("annotation", "/spec/template/metadata/annotations"),
    ("annotation", "/spec/jobTemplate/spec/template/metadata/annotations"),
];

fn shorten(text: &str) -> String {
    if text.chars().count() > 70 {
        format!("{}… ({} characters)", text.chars().take(60).collect::<String>(), text.chars().count())
    } else {
        text.to_string()
    }
}

/// A label's name part or value: at most 63 letters, digits, '-', '_' or '.', starting and ending
/// with a letter or digit.
fn is_label_name(text: &str) -> bool {
    text.len() <= 63
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && text.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && text.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Why the API server would refuse this label or annotation (`what`), if it would. Both have the
/// same key syntax and string values; a label value is also limited like a key's name part.
fn entry_problem(what: &str, key: &str, value: &serde_json::Value) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if !is_label_name(name) || prefix.is_some_and(|prefix| !is_dns_subdomain(prefix)) {
        let article = if what == "annotation" { "an" } else { "a" };
        return Some(format!(
            "{article} {what} key is an optional DNS-subdomain prefix and `/`, then at most 63 letters, digits, '-', '_' or \
             '.', starting and ending with a letter or digit"
        ));
    }
    match value {
        serde_json::Value::String(text) if what != "label" || text.is_empty() || is_label_name(text) => None,
        serde_json::Value::String(_) => Some(
            "a label value is empty or at most 63 letters, digits, '-', '_' or '.', starting and ending with a \
             letter or digit"
                .to_string(),
        ),
        _ => Some(format!(
            "the value `{value}` is not a string: quote it (`\"{}\"`)",
            value.to_string().trim_matches('"')
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::plan::manifest::SourceRef;

    fn object(kind: &str, name: &str) -> Object {
        Object {
            source: SourceRef { file: "m.yaml".into(), doc_index: 0, line: Some(3) },
            value: serde_json::json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}),
        }
    }

    #[test]
    fn names_are_checked_per_kind() {
        let long = "a".repeat(300);
        let table = [
            ("ConfigMap", "app-config", true),
            ("ConfigMap", "app.config", true),
            ("ConfigMap", "Demo_Config", false),
            ("ConfigMap", long.as_str(), false),
            ("Secret", "openhands_secrets", false),
            ("Service", "web", true),
            ("Service", "my.service", false),
            ("Namespace", "Openhands", false),
            ("ClusterRole", "system:aggregate-to-admin", true),
            ("ClusterRole", "a/b", false),
            ("Widget", "w-1", true),
        ];
        for (kind, name, valid) in table {
            assert_eq!(check_names(&[object(kind, name)]).is_ok(), valid, "{kind} {name}");
        }
    }

    fn with_metadata(kind: &str, mut value: serde_json::Value) -> Object {
        value["apiVersion"] = "v1".into();
        value["kind"] = kind.into();
        Object { source: SourceRef { file: "m.yaml".into(), doc_index: 0, line: Some(3) }, value }
    }

    #[test]
    fn namespaces_and_labels_are_checked() {
        let long = "x".repeat(64);
        let table = [
            (serde_json::json!({"metadata": {"name": "a", "namespace": "team-a"}}), None),
            (
                serde_json::json!({"metadata": {"name": "a", "namespace": "Team_A"}}),
                Some("is in namespace `Team_A`, which is not a valid namespace name"),
            ),
            (
                serde_json::json!({"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "web", "tier": "", "v": "1.2_x"}}}),
                None,
            ),
            (
                serde_json::json!({"metadata": {"name": "a", "labels": {"team name": "a"}}}),
                Some("has label `team name` at /metadata/labels"),
            ),
            (
                serde_json::json!({"metadata": {"name": "a", "labels": {"Bad_Prefix/x": "a"}}}),
                Some("a label key is an optional DNS-subdomain prefix"),
            ),
            (serde_json::json!({"metadata": {"name": "a", "labels": {"a/b/c": "a"}}}), Some("has label `a/b/c`")),
            (
                serde_json::json!({"metadata": {"name": "a", "labels": {"tier": long}}}),
                Some("a label value is empty or at most 63"),
            ),
            (
                serde_json::json!({"metadata": {"name": "a", "labels": {"version": 1}}}),
                Some("the value `1` is not a string: quote it (`\"1\"`)"),
            ),
            (
                serde_json::json!({"metadata": {"name": "a", "labels": ["x"]}}),
                Some("has /metadata/labels that is not a mapping"),
            ),
            (serde_json::json!({"metadata": {"name": "a", "annotations": {"note": "Any text: even spaces!"}}}), None),
            (serde_json::json!({"metadata": {"name": "a", "annotations": ["x"]}}), Some("has /metadata/annotations that is not a mapping")),
            (
                serde_json::json!({"metadata": {"name": "a"}, "spec": {"template": {"metadata": {"annotations": {"prometheus.io/port": 8080}}}}}),
                Some("has annotation `prometheus.io/port` at /spec/template/metadata/annotations, which the cluster refuses: the value `8080` is not a string: quote it (`\"8080\"`)"),
            ),
            (serde_json::json!({"metadata": {"name": "a", "annotations": {"bad key": "x"}}}), Some("an annotation key")),
            (
                serde_json::json!({"metadata": {"name": "a"}, "spec": {"template": {"metadata": {"labels": {"-x": "y"}}}}}),
                Some("has label `-x` at /spec/template/metadata/labels"),
            ),
            (
                serde_json::json!({"metadata": {"name": "a"}, "spec": {"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"x": "y-"}}}}}}}),
                Some("at /spec/jobTemplate/spec/template/metadata/labels"),
            ),
        ];
        for (value, expected) in table {
            let result = check_names(&[with_metadata("Deployment", value.clone())]);
            match expected {
                None => assert!(result.is_ok(), "{value}: {result:?}"),
                Some(expected) => {
                    let text = result.unwrap_err().to_string();
                    assert!(text.starts_with("m.yaml:3 (document 1): Deployment a "), "{text}");
                    assert!(text.contains(expected), "{value}: {text}");
                }
            }
        }
    }

    #[test]
    fn the_message_names_the_place_the_object_and_the_rule() {
        let error = check_names(&[object("ConfigMap", "Demo_Config")]).unwrap_err().to_string();
        assert_eq!(
            error,
            "m.yaml:3 (document 1): ConfigMap has the name `Demo_Config`, which the cluster refuses: a ConfigMap name \
             must use lower-case letters, digits, '-' and '.', at most 253 characters, starting and ending with a \
             letter or digit"
        );
        let long = check_names(&[object("ConfigMap", &"a".repeat(300))]).unwrap_err().to_string();
        assert!(long.contains("… (300 characters)"), "{long}");
    }
}
