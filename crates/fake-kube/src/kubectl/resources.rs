//! The API's resource types: built-in kinds (with their scope, plural and short names) plus the
//! kinds served by established CustomResourceDefinitions. Resolves what users type
//! (`deploy`, `deployments.apps`, `deployment.v1.apps`, a CRD's plural or short name).

use super::builtins::builtins;
use super::errors::KubeErr;
use crate::state::{Cluster, Obj};
use crate::util::json::str_at;
use serde_json::Value;

/// A CRD is Established once a `get` has returned it, or from the 3rd kubectl call after its apply.
pub const CRD_ESTABLISHED_POLLS: u64 = 1;
pub const CRD_ESTABLISHED_CALLS: u64 = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct ResType {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub short: Vec<String>,
    pub namespaced: bool,
}

impl ResType {
    /// `deployments.apps`, or `pods` for the core group (used in NotFound messages).
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `deployment.apps`, or `pod` (used in `-o name` and apply/delete messages).
    pub fn qualified_singular(&self) -> String {
        let s = self.kind.to_lowercase();
        if self.group.is_empty() {
            s
        } else {
            format!("{s}.{}", self.group)
        }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

pub fn split_api_version(api_version: &str) -> (String, String) {
    match api_version.split_once('/') {
        Some((g, v)) => (g.into(), v.into()),
        None => (String::new(), api_version.into()),
    }
}

pub fn crd_established(cluster: &Cluster, crd: &Obj) -> bool {
    crd.polls >= CRD_ESTABLISHED_POLLS || cluster.kubectl_calls >= crd.applied_at_call + CRD_ESTABLISHED_CALLS
}

fn crd_types(crd: &Obj) -> Vec<ResType> {
    let spec = &crd.body["spec"];
    let s = |path: &[&str]| str_at(spec, path).unwrap_or("").to_string();
    let kind = s(&["names", "kind"]);
    let versions = spec.get("versions").and_then(Value::as_array).cloned().unwrap_or_default();
    versions
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(true))
        .map(|v| ResType {
            group: s(&["group"]),
            version: str_at(v, &["name"]).unwrap_or("v1").into(),
            kind: kind.clone(),
            plural: s(&["names", "plural"]),
            singular: Some(s(&["names", "singular"])).filter(|x| !x.is_empty()).unwrap_or_else(|| kind.to_lowercase()),
            short: spec["names"]["shortNames"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
                .unwrap_or_default(),
            namespaced: s(&["scope"]) != "Cluster",
        })
        .collect()
}

/// Types served by established CRDs (one per served version).
pub fn custom_types(cluster: &Cluster) -> Vec<ResType> {
    cluster
        .objects
        .iter()
        .filter(|o| o.kind == "CustomResourceDefinition" && crd_established(cluster, o))
        .flat_map(crd_types)
        .collect()
}

/// Every type the API serves now: built-ins, then established custom resources.
pub fn all_types(cluster: &Cluster) -> Vec<ResType> {
    let mut v = builtins();
    v.extend(custom_types(cluster));
    v
}

/// The type for an object's apiVersion + kind, if the server knows it (the apply "mapping").
pub fn for_object(cluster: &Cluster, api_version: &str, kind: &str) -> Option<ResType> {
    let (group, version) = split_api_version(api_version);
    all_types(cluster).into_iter().find(|t| t.group == group && t.version == version && t.kind == kind)
}

/// Resolves a resource argument as kubectl does: `name`, `name.group` or `name.version.group`,
/// where name is the plural, singular, kind or a short name (case-insensitive).
pub fn resolve(cluster: &Cluster, arg: &str) -> Result<ResType, KubeErr> {
    let lower = arg.to_lowercase();
    let types = all_types(cluster);
    let matches_name = |t: &ResType, n: &str| {
        t.plural == n || t.singular == n || t.kind.to_lowercase() == n || t.short.iter().any(|s| s == n)
    };
    if let Some(t) = types.iter().find(|t| matches_name(t, &lower)) {
        return Ok(t.clone());
    }
    if let Some((name, rest)) = lower.split_once('.') {
        for t in &types {
            if !matches_name(t, name) {
                continue;
            }
            let by_group = rest == t.group;
            let by_version = rest.split_once('.').is_some_and(|(v, g)| v == t.version && g == t.group)
                || (t.group.is_empty() && rest == t.version);
            if by_group || by_version {
                return Ok(t.clone());
            }
        }
    }
    Err(KubeErr::plain(format!("the server doesn't have a resource type \"{arg}\"")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd_cluster(polls: u64, applied_at: u64, calls: u64) -> Cluster {
        let crd = Obj {
            group: "apiextensions.k8s.io".into(),
            version: "v1".into(),
            kind: "CustomResourceDefinition".into(),
            name: "widgets.example.com".into(),
            body: json!({"spec": {"group": "example.com", "scope": "Cluster", "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wd"]}, "versions": [{"name": "v1", "served": true}]}}),
            polls,
            applied_at_call: applied_at,
            ..Default::default()
        };
        Cluster { objects: vec![crd], kubectl_calls: calls, ..Default::default() }
    }

    #[test]
    fn resolves_kubectl_spellings() {
        let c = Cluster::default();
        for arg in ["deploy", "deployments", "Deployment", "deployments.apps", "deployment.v1.apps"] {
            assert_eq!(resolve(&c, arg).unwrap().kind, "Deployment", "{arg}");
        }
        assert_eq!(resolve(&c, "po").unwrap().qualified_plural(), "pods");
        assert_eq!(resolve(&c, "ing").unwrap().qualified_singular(), "ingress.networking.k8s.io");
        assert_eq!(
            resolve(&c, "nope").unwrap_err(),
            KubeErr::plain("the server doesn't have a resource type \"nope\"")
        );
    }

    #[test]
    fn custom_kinds_are_served_only_once_established() {
        let pending = crd_cluster(0, 5, 7);
        assert!(for_object(&pending, "example.com/v1", "Widget").is_none());
        assert!(resolve(&pending, "widgets").is_err());
        let by_calls = crd_cluster(0, 5, 8);
        let t = for_object(&by_calls, "example.com/v1", "Widget").unwrap();
        assert!(!t.namespaced);
        assert_eq!(resolve(&by_calls, "wd").unwrap().plural, "widgets");
        assert!(for_object(&crd_cluster(1, 5, 5), "example.com/v1", "Widget").is_some());
        assert!(for_object(&by_calls, "example.com/v2", "Widget").is_none());
    }
}
