//! Which kinds live in a namespace. Needed before applying anything: a namespaced object without a
//! namespace gets the configured default, a cluster-scoped one must not carry one, and duplicates are
//! only duplicates once both are settled.

use std::collections::HashMap;

use serde_json::Value;

use super::object::Object;

/// Whether objects of a kind live in a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Namespaced,
    Cluster,
}

/// How the scope was decided; `CrdNotInSet` means "assumed namespaced, the apply step relies on discovery".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeOrigin {
    BuiltIn,
    CustomResourceDefinition,
    CrdNotInSet,
}

const CLUSTER_SCOPED_KINDS: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "IngressClass",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "RuntimeClass",
    "CSIDriver",
];
const NAMESPACED_KINDS: &[&str] = &[
    "Pod",
    "Service",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "PersistentVolumeClaim",
    "Ingress",
    "NetworkPolicy",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "LimitRange",
    "ResourceQuota",
    "Endpoints",
    "EndpointSlice",
    "Lease",
];

/// Scope of a built-in kind, `None` for kinds this table does not know (custom resources).
pub fn built_in_scope(kind: &str) -> Option<Scope> {
    if CLUSTER_SCOPED_KINDS.contains(&kind) {
        Some(Scope::Cluster)
    } else if NAMESPACED_KINDS.contains(&kind) {
        Some(Scope::Namespaced)
    } else {
        None
    }
}

/// Scopes of custom resources, learned from the CustomResourceDefinitions in the set.
pub struct ScopeTable {
    /// Kind → group → scope (a later CRD for the same group and kind wins), looked up without
    /// building a key: `resolve` runs for every object.
    custom: HashMap<String, HashMap<String, Scope>>,
}

impl ScopeTable {
    pub fn new(objects: &[Object]) -> Self {
        let mut custom: HashMap<String, HashMap<String, Scope>> = HashMap::new();
        for crd in objects.iter().filter(|object| object.kind() == "CustomResourceDefinition") {
            let group = crd.value.pointer("/spec/group").and_then(Value::as_str).unwrap_or("");
            let kind = crd.value.pointer("/spec/names/kind").and_then(Value::as_str).unwrap_or("");
            let scope = match crd.value.pointer("/spec/scope").and_then(Value::as_str) {
                Some("Cluster") => Scope::Cluster,
                _ => Scope::Namespaced,
            };
            custom.entry(kind.to_string()).or_default().insert(group.to_string(), scope);
        }
        ScopeTable { custom }
    }

    /// A CRD in the set wins over the built-in table (a custom group may reuse a built-in kind name).
    pub fn resolve(&self, object: &Object) -> (Scope, ScopeOrigin) {
        if let Some(scope) = self.custom.get(object.kind()).and_then(|groups| groups.get(object.group())) {
            return (*scope, ScopeOrigin::CustomResourceDefinition);
        }
        match built_in_scope(object.kind()) {
            Some(scope) => (scope, ScopeOrigin::BuiltIn),
            None => (Scope::Namespaced, ScopeOrigin::CrdNotInSet),
        }
    }
}
