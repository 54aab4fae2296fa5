//! Edges from admission webhooks: the Service behind a webhook, and the Deployments/DaemonSets/StatefulSets
//! that Service selects, must be ready before any object the webhook's rules match.
//!
//! Why: with `failurePolicy: Fail`, applying an Ingress while the ingress-nginx controller is not yet
//! serving fails with "failed calling webhook … connection refused". Ordering fixes the cause; retrying
//! only hides it. The backing objects' own dependencies are never made to wait for the webhook (they
//! cannot: the webhook needs them first), and selectors are only honoured when the answer is certain.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::index::{Edge, Index, Reason};
use super::manifest::Object;
use super::resource::plural;
use crate::json::{items, text};

const WEBHOOK_CONFIGURATION_KINDS: &[&str] = &["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"];

pub(super) fn webhook_edges(index: &Index, edges: &[Edge]) -> Vec<Edge> {
    let objects = index.objects;
    let mut found = Vec::new();
    // What each object depends on, built once for all webhooks (when there is one).
    let mut dependencies: Option<HashMap<usize, Vec<usize>>> = None;
    for configuration in objects.iter().filter(|object| WEBHOOK_CONFIGURATION_KINDS.contains(&object.kind())) {
        for webhook in items(&configuration.value, "/webhooks") {
            let backing = backing_objects(index, webhook);
            if backing.is_empty() {
                continue;
            }
            let dependencies = dependencies.get_or_insert_with(|| {
                let mut dependencies: HashMap<usize, Vec<usize>> = HashMap::new();
                for edge in edges {
                    dependencies.entry(edge.dependent).or_default().push(edge.dependency);
                }
                dependencies
            });
            let excluded = with_ancestors(&backing, dependencies);
            let webhook_name = text(webhook, "/name").to_string();
            for (dependent, object) in objects.iter().enumerate() {
                if excluded.contains(&dependent)
                    || WEBHOOK_CONFIGURATION_KINDS.contains(&object.kind())
                    || !intercepts(webhook, object, index)
                {
                    continue;
                }
                for &dependency in &backing {
                    found.push(Edge { dependency, dependent, reason: Reason::AdmissionWebhook(webhook_name.clone()) });
                }
            }
        }
    }
    found
}

/// The webhook's Service and the workloads in its namespace whose pod labels match the Service selector.
fn backing_objects(index: &Index, webhook: &Value) -> Vec<usize> {
    let namespace = text(webhook, "/clientConfig/service/namespace");
    let name = text(webhook, "/clientConfig/service/name");
    let Some(service) = index.find("Service", Some(namespace), name) else {
        return Vec::new();
    };
    let mut backing = vec![service];
    let selector = index.objects[service].value.pointer("/spec/selector").and_then(Value::as_object);
    let Some(selector) = selector.filter(|selector| !selector.is_empty()) else {
        return backing;
    };
    for (position, object) in index.objects.iter().enumerate() {
        if !matches!(object.kind(), "Deployment" | "DaemonSet" | "StatefulSet") || object.namespace() != Some(namespace)
        {
            continue;
        }
        let labels = object.value.pointer("/spec/template/metadata/labels").and_then(Value::as_object);
        if labels.is_some_and(|labels| selector.iter().all(|(key, value)| labels.get(key) == Some(value))) {
            backing.push(position);
        }
    }
    backing
}

/// `start` plus everything it (transitively) depends on.
fn with_ancestors(start: &[usize], dependencies: &HashMap<usize, Vec<usize>>) -> BTreeSet<usize> {
    let mut seen: BTreeSet<usize> = start.iter().copied().collect();
    let mut pending: Vec<usize> = start.to_vec();
    while let Some(current) = pending.pop() {
        for &dependency in dependencies.get(&current).into_iter().flatten() {
            if seen.insert(dependency) {
                pending.push(dependency);
            }
        }
    }
    seen
}

/// Whether applying `object` (a create or an update) would call this webhook.
fn intercepts(webhook: &Value, object: &Object, index: &Index) -> bool {
    let resource = match index.crd_of(object) {
        Some(crd) => text(&index.objects[crd].value, "/spec/names/plural").to_string(),
        None => plural(object.kind()),
    };
    // `matchPolicy: Equivalent` (the default) also intercepts the resource through other API versions.
    let exact_versions = text(webhook, "/matchPolicy") == "Exact";
    let rule_matches = items(webhook, "/rules").iter().any(|rule| {
        let listed = |pointer: &str, wanted: &str| {
            rule.pointer(pointer).and_then(Value::as_array).is_none_or(|values| {
                values.iter().filter_map(Value::as_str).any(|value| value == "*" || value == wanted)
            })
        };
        let scope_matches = match text(rule, "/scope") {
            "Namespaced" => object.namespace().is_some(),
            "Cluster" => object.namespace().is_none(),
            _ => true,
        };
        (listed("/operations", "CREATE") || listed("/operations", "UPDATE"))
            && listed("/apiGroups", object.group())
            && (!exact_versions || listed("/apiVersions", object.version()))
            && (listed("/resources", &resource) || listed("/resources", "*/*"))
            && scope_matches
    });
    if !rule_matches {
        return false;
    }
    let namespace_matches = match object.namespace() {
        None => Some(true),
        Some(namespace) => {
            let namespace_object = index.find("Namespace", None, namespace).map(|position| &index.objects[position]);
            let mut labels = namespace_object.and_then(Object::labels).cloned().unwrap_or_default();
            labels.insert("kubernetes.io/metadata.name".to_string(), Value::from(namespace));
            selector_matches(webhook.get("namespaceSelector"), &labels, namespace_object.is_some())
        }
    };
    let object_labels = object.labels().cloned().unwrap_or_default();
    let object_matches = selector_matches(webhook.get("objectSelector"), &object_labels, true);
    // Only a certain "no" removes the edge; an unknown answer keeps it (waiting too long is harmless).
    namespace_matches != Some(false) && object_matches != Some(false)
}

/// Evaluates a label selector. `complete` says whether `labels` are all the labels there are; when not,
/// a requirement on an unknown key gives `None` (undecidable).
fn selector_matches(selector: Option<&Value>, labels: &Map<String, Value>, complete: bool) -> Option<bool> {
    let Some(selector) = selector else {
        return Some(true);
    };
    let mut requirements: Vec<(String, String, Vec<String>)> = Vec::new();
    if let Some(match_labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (key, value) in match_labels {
            requirements.push((key.clone(), "In".to_string(), vec![value.as_str().unwrap_or("").to_string()]));
        }
    }
    for expression in items(selector, "/matchExpressions") {
        let values = items(expression, "/values").iter().filter_map(Value::as_str).map(str::to_string).collect();
        requirements.push((text(expression, "/key").to_string(), text(expression, "/operator").to_string(), values));
    }
    let mut undecided = false;
    for (key, operator, values) in requirements {
        let value = labels.get(&key).and_then(Value::as_str);
        if value.is_none() && !complete {
            undecided = true;
            continue;
        }
        let satisfied = match operator.as_str() {
            "In" => value.is_some_and(|value| values.iter().any(|wanted| wanted == value)),
            "NotIn" => value.is_none_or(|value| values.iter().all(|unwanted| unwanted != value)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => {
                undecided = true;
                continue;
            }
        };
        if !satisfied {
            return Some(false);
        }
    }
    if undecided {
        None
    } else {
        Some(true)
    }
}
