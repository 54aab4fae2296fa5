//! Whether an applied object is ready, judged from its live JSON (`kubectl get -o json`), following
//! kstatus (sigs.k8s.io/cli-utils): the controller must have observed the latest generation, and the
//! kind's own status must say the rollout is complete.
//!
//! Why pure: the wait loop polls the cluster and calls `evaluate`; the rules live here, where they are
//! tested against recorded status documents instead of a cluster. A PersistentVolumeClaim counts as
//! ready while Pending, because kind's default StorageClass binds on first consumer: waiting for Bound
//! before starting the pod that consumes it would wait forever.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// What we are still waiting for, in words.
    InProgress(String),
    /// Waiting longer will not help; the reason, in words.
    Failed(String),
}

use crate::json::text;
use Readiness::{Failed, InProgress, Ready};

fn number(object: &Value, pointer: &str) -> Option<i64> {
    object.pointer(pointer).and_then(Value::as_i64)
}

/// The condition of `kind` in `status.conditions`.
fn condition<'v>(object: &'v Value, kind: &str) -> Option<&'v Value> {
    object.pointer("/status/conditions")?.as_array()?.iter().find(|condition| text(condition, "/type") == kind)
}

fn condition_is(object: &Value, kind: &str, status: &str) -> bool {
    condition(object, kind).is_some_and(|condition| text(condition, "/status") == status)
}

fn condition_message(object: &Value, kind: &str) -> String {
    let Some(condition) = condition(object, kind) else {
        return String::new();
    };
    match (text(condition, "/reason"), text(condition, "/message")) {
        ("", message) => message.to_string(),
        (reason, "") => reason.to_string(),
        (reason, message) => format!("{reason}: {message}"),
    }
}

/// Judges one object. Kinds without a rollout to wait for are ready once applied.
pub fn evaluate(object: &Value) -> Readiness {
    if object.pointer("/metadata/deletionTimestamp").is_some_and(|stamp| !stamp.is_null()) {
        return InProgress("the object is being deleted".to_string());
    }
    match text(object, "/kind") {
        "Deployment" => deployment(object),
        "StatefulSet" => stateful_set(object),
        "DaemonSet" => daemon_set(object),
        "Job" => job(object),
        "PersistentVolumeClaim" => persistent_volume_claim(object),
        "CustomResourceDefinition" => custom_resource_definition(object),
        "Pod" => pod(object),
        "Service" => service(object),
        "Namespace" if text(object, "/status/phase") == "Terminating" => {
            InProgress("the namespace is terminating".to_string())
        }
        _ => Ready,
    }
}

/// kstatus' first rule: status describes the newest spec only once observedGeneration catches up.
fn generation_pending(object: &Value) -> Option<Readiness> {
    let generation = number(object, "/metadata/generation")?;
    match number(object, "/status/observedGeneration") {
        Some(observed) if observed >= generation => None,
        Some(observed) => Some(InProgress(format!(
            "the controller has not observed generation {generation} yet (it is at {observed})"
        ))),
        None => Some(InProgress(format!("the controller has not observed generation {generation} yet"))),
    }
}

fn deployment(object: &Value) -> Readiness {
    if let Some(pending) = generation_pending(object) {
        return pending;
    }
    let progressing = condition(object, "Progressing");
    if progressing.is_some_and(|condition| {
        text(condition, "/status") == "False" && text(condition, "/reason") == "ProgressDeadlineExceeded"
    }) {
        return Failed(format!(
            "the rollout exceeded its progress deadline ({})",
            condition_message(object, "Progressing")
        ));
    }
    let wanted = number(object, "/spec/replicas").unwrap_or(1);
    let updated = number(object, "/status/updatedReplicas").unwrap_or(0);
    let total = number(object, "/status/replicas").unwrap_or(0);
    let available = number(object, "/status/availableReplicas").unwrap_or(0);
    if updated < wanted {
        InProgress(format!("{updated} of {wanted} replicas updated"))
    } else if total > updated {
        InProgress(format!("{} old replicas still terminating", total - updated))
    } else if available < wanted {
        InProgress(format!("{available} of {wanted} updated replicas available"))
    } else {
        Ready
    }
}

fn stateful_set(object: &Value) -> Readiness {
    if let Some(pending) = generation_pending(object) {
        return pending;
    }
    let wanted = number(object, "/spec/replicas").unwrap_or(1);
    let ready = number(object, "/status/readyReplicas").unwrap_or(0);
    if ready < wanted {
        return InProgress(format!("{ready} of {wanted} replicas ready"));
    }
    if text(object, "/spec/updateStrategy/type") == "OnDelete" {
        return Ready;
    }
    let partition = number(object, "/spec/updateStrategy/rollingUpdate/partition").unwrap_or(0);
    if partition > 0 {
        let updated = number(object, "/status/updatedReplicas").unwrap_or(0);
        let needed = (wanted - partition).max(0);
        return if updated >= needed {
            Ready
        } else {
            InProgress(format!("{updated} of {needed} replicas above the partition updated"))
        };
    }
    let (current, update) = (text(object, "/status/currentRevision"), text(object, "/status/updateRevision"));
    if !current.is_empty() && !update.is_empty() && current != update {
        return InProgress(format!("rolling update from revision {current} to {update}"));
    }
    Ready
}

fn daemon_set(object: &Value) -> Readiness {
    if let Some(pending) = generation_pending(object) {
        return pending;
    }
    let Some(desired) = number(object, "/status/desiredNumberScheduled") else {
        return InProgress("the controller has not scheduled any pod yet".to_string());
    };
    let updated = number(object, "/status/updatedNumberScheduled").unwrap_or(0);
    let ready = number(object, "/status/numberReady").unwrap_or(0);
    if updated < desired {
        InProgress(format!("{updated} of {desired} pods updated"))
    } else if ready < desired {
        InProgress(format!("{ready} of {desired} pods ready"))
    } else {
        Ready
    }
}

fn job(object: &Value) -> Readiness {
    if condition_is(object, "Complete", "True") {
        return Ready;
    }
    if condition_is(object, "Failed", "True") {
        return Failed(format!("the job failed ({})", condition_message(object, "Failed")));
    }
    if object.pointer("/spec/suspend") == Some(&Value::Bool(true)) {
        return InProgress("the job is suspended".to_string());
    }
    let active = number(object, "/status/active").unwrap_or(0);
    let succeeded = number(object, "/status/succeeded").unwrap_or(0);
    let completions = number(object, "/spec/completions").unwrap_or(1);
    InProgress(format!("the job is running: {active} active, {succeeded} of {completions} completions"))
}

fn persistent_volume_claim(object: &Value) -> Readiness {
    match text(object, "/status/phase") {
        "Lost" => Failed("the claim lost its volume (phase Lost)".to_string()),
        _ => Ready,
    }
}

fn custom_resource_definition(object: &Value) -> Readiness {
    if condition_is(object, "NamesAccepted", "False") {
        return Failed(format!("the API server rejected the names ({})", condition_message(object, "NamesAccepted")));
    }
    if condition_is(object, "Established", "True") {
        Ready
    } else {
        InProgress("waiting for the API server to establish the definition".to_string())
    }
}

fn pod(object: &Value) -> Readiness {
    match text(object, "/status/phase") {
        "Succeeded" => return Ready,
        "Failed" => {
            let reason = [text(object, "/status/reason"), text(object, "/status/message")]
                .into_iter()
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>();
            return Failed(if reason.is_empty() {
                "the pod failed".to_string()
            } else {
                format!("the pod failed ({})", reason.join(": "))
            });
        }
        _ => {}
    }
    if condition_is(object, "Ready", "True") {
        Ready
    } else {
        let phase = Some(text(object, "/status/phase")).filter(|phase| !phase.is_empty()).unwrap_or("Pending");
        InProgress(format!("waiting for the pod to be Ready (phase {phase})"))
    }
}

fn service(object: &Value) -> Readiness {
    if text(object, "/spec/type") == "ExternalName" || !text(object, "/spec/clusterIP").is_empty() {
        Ready
    } else {
        InProgress("waiting for a cluster IP".to_string())
    }
}

#[cfg(test)]
#[path = "readiness_tests.rs"]
mod tests;
