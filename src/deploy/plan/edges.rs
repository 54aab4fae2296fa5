//! Which object must exist (and be ready) before which: the edges of the deploy graph, each with a reason
//! the user can read in `ohdev plan`.
//!
//! Why edges and not a fixed kind order: a kind order cannot say "this Ingress waits for the ingress-nginx
//! admission Deployment" or "this Deployment waits for the ConfigMap it mounts", and getting those wrong
//! is what makes a first `up` fail. Only objects in the set get edges: a reference to something that is
//! not in the set is the cluster's business (it may exist already), not an ordering constraint.

use std::collections::BTreeSet;

use serde_json::Value;

use super::index::Index;
pub use super::index::{Edge, Reason};
use super::manifest::{Object, ObjectKey, SourceRef};
use crate::json::{items, text};

/// Annotation with explicit dependencies: `"Kind/name"` or `"Kind/namespace/name"`, comma-separated.
pub const DEPENDS_ON_ANNOTATION: &str = "ohdev.dev/depends-on";

#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    #[error("{source_ref}: {object} has `{entry}` in its {DEPENDS_ON_ANNOTATION} annotation: write `Kind/name` or `Kind/namespace/name`, separated by commas")]
    MalformedDependsOn { object: ObjectKey, source_ref: SourceRef, entry: String },
    #[error("{source_ref}: {object} depends on `{entry}` ({DEPENDS_ON_ANNOTATION} annotation), which is not in the manifest set: fix the annotation or add that object to the manifests")]
    UnknownDependsOn { object: ObjectKey, source_ref: SourceRef, entry: String },
}

/// All edges of the set, sorted and without duplicates.
pub fn find_edges(objects: &[Object]) -> Result<Vec<Edge>, EdgeError> {
    let index = Index::new(objects);
    let mut edges = BTreeSet::new();
    for (dependent, object) in objects.iter().enumerate() {
        let mut add = |dependency: Option<usize>, reason: Reason| {
            if let Some(dependency) = dependency {
                edges.insert(Edge { dependency, dependent, reason });
            }
        };
        let (kind, namespace) = (object.kind(), object.namespace());
        if let Some(namespace) = namespace {
            add(index.find("Namespace", None, namespace), Reason::Namespace);
        }
        if kind != "CustomResourceDefinition" {
            add(index.crd_of(object), Reason::Crd);
        }
        if matches!(kind, "RoleBinding" | "ClusterRoleBinding") {
            binding_references(object, &index, &mut add);
        }
        if let Some(pod_spec) = pod_spec(object) {
            for (kind, name, reason) in pod_spec_references(pod_spec) {
                add(index.find(kind, namespace, name), reason);
            }
        }
        for dependency in depends_on(object, &index)? {
            add(Some(dependency), Reason::DependsOnAnnotation);
        }
    }
    let mut edges: Vec<Edge> = edges.into_iter().collect();
    let webhook_edges = super::webhooks::webhook_edges(&index, &edges);
    edges.extend(webhook_edges);
    edges.sort();
    edges.dedup();
    Ok(edges)
}

fn binding_references(binding: &Object, index: &Index, add: &mut impl FnMut(Option<usize>, Reason)) {
    let namespace = binding.namespace();
    let role_name = text(&binding.value, "/roleRef/name");
    match text(&binding.value, "/roleRef/kind") {
        "Role" => add(index.find("Role", namespace, role_name), Reason::Role),
        "ClusterRole" => add(index.find("ClusterRole", None, role_name), Reason::Role),
        _ => {}
    }
    for subject in items(&binding.value, "/subjects") {
        if text(subject, "/kind") == "ServiceAccount" {
            let subject_namespace =
                Some(text(subject, "/namespace")).filter(|namespace| !namespace.is_empty()).or(namespace);
            add(index.find("ServiceAccount", subject_namespace, text(subject, "/name")), Reason::ServiceAccount);
        }
    }
}

/// The pod spec of a workload (its template's spec), or of a Pod.
pub(super) fn pod_spec(object: &Object) -> Option<&Value> {
    let pointer = match object.kind() {
        "Pod" => "/spec",
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController" | "Job" => {
            "/spec/template/spec"
        }
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        _ => return None,
    };
    crate::json::pointer(&object.value, pointer)
}

/// Objects a pod spec names, in the pod's own namespace: (kind, name, why).
fn pod_spec_references(spec: &Value) -> Vec<(&'static str, &str, Reason)> {
    let mut references = Vec::new();
    let service_account = Some(text(spec, "/serviceAccountName"))
        .filter(|name| !name.is_empty())
        .unwrap_or(text(spec, "/serviceAccount"));
    references.push(("ServiceAccount", service_account, Reason::ServiceAccount));
    for secret in items(spec, "/imagePullSecrets") {
        references.push(("Secret", text(secret, "/name"), Reason::Secret));
    }
    for volume in items(spec, "/volumes") {
        references.push(("ConfigMap", text(volume, "/configMap/name"), Reason::ConfigMap));
        references.push(("Secret", text(volume, "/secret/secretName"), Reason::Secret));
        references.push((
            "PersistentVolumeClaim",
            text(volume, "/persistentVolumeClaim/claimName"),
            Reason::PersistentVolumeClaim,
        ));
        for source in items(volume, "/projected/sources") {
            references.push(("ConfigMap", text(source, "/configMap/name"), Reason::ConfigMap));
            references.push(("Secret", text(source, "/secret/name"), Reason::Secret));
        }
    }
    for group in ["/initContainers", "/containers", "/ephemeralContainers"] {
        for container in items(spec, group) {
            for variable in items(container, "/env") {
                references.push(("ConfigMap", text(variable, "/valueFrom/configMapKeyRef/name"), Reason::ConfigMap));
                references.push(("Secret", text(variable, "/valueFrom/secretKeyRef/name"), Reason::Secret));
            }
            for source in items(container, "/envFrom") {
                references.push(("ConfigMap", text(source, "/configMapRef/name"), Reason::ConfigMap));
                references.push(("Secret", text(source, "/secretRef/name"), Reason::Secret));
            }
        }
    }
    references.retain(|(_, name, _)| !name.is_empty());
    references
}

/// Resolves the depends-on annotation: `Kind/name` looks in the object's namespace, then among
/// cluster-scoped objects; the kind is matched without regard to case (`deployment/web` works).
fn depends_on(object: &Object, index: &Index) -> Result<Vec<usize>, EdgeError> {
    let Some(annotation) = object.annotation(DEPENDS_ON_ANNOTATION) else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for entry in annotation.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
        let parts: Vec<&str> = entry.split('/').map(str::trim).collect();
        let malformed = || EdgeError::MalformedDependsOn {
            object: object.key(),
            source_ref: object.source.clone(),
            entry: entry.to_string(),
        };
        if parts.iter().any(|part| part.is_empty()) {
            return Err(malformed());
        }
        let kind = index.kind_like(parts[0]).unwrap_or(parts[0]);
        let dependency = match parts.as_slice() {
            [_, name] => index.find(kind, object.namespace(), name).or_else(|| index.find(kind, None, name)),
            [_, namespace, name] => index.find(kind, Some(namespace), name),
            _ => return Err(malformed()),
        };
        let dependency = dependency.ok_or_else(|| EdgeError::UnknownDependsOn {
            object: object.key(),
            source_ref: object.source.clone(),
            entry: entry.to_string(),
        })?;
        found.push(dependency);
    }
    Ok(found)
}

#[cfg(test)]
#[path = "edges_tests.rs"]
mod tests;
