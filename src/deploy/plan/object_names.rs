//! Names the API server would refuse, found before anything is applied: `Demo_Config`, a
//! 300-character name, a Service called `my.service`. Kubernetes checks names per kind: most objects
//! need a DNS-1123 subdomain, Namespaces and Services a DNS-1123 label, RBAC objects only a path
//! segment (`system:aggregate-to-admin` is a valid ClusterRole).

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
            let shown = if name.len() > 70 {
                format!("{}… ({} characters)", &name[..60], name.len())
            } else {
                name.to_string()
            };
            invalid.push(format!(
                "{}: {} has the name `{shown}`, which the cluster refuses: a {} name must use {what}",
                object.source,
                object.kind(),
                object.kind()
            ));
        }
    }
    if invalid.is_empty() {
        Ok(())
    } else {
        Err(InvalidNames(invalid))
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
