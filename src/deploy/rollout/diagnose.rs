//! Explains why a workload is not ready, from what kubectl returns (the workload, its pods and the
//! namespace's events as JSON): the pod, the container, the reason, the newest events and a hint.
//!
//! Why: "timed out waiting for deployment/app" sends a contributor to five kubectl commands. One screen
//! that says "ErrImageNeverPull: image ohdev.local/app:… is not in the cluster: run `ohdev rebuild app`"
//! ends the search. Classification is data in, data out, so every case is a table row in the tests.

use serde_json::Value;

pub use super::diagnose_events::EventSummary;
use super::diagnose_events::{newest, related_events};
pub use super::failure::FailureReason;
use crate::deploy::plan::manifest::ObjectKey;
use crate::events::DiagnosisReport;
use crate::json::text;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    pub object: ObjectKey,
    pub pod: Option<String>,
    pub container: Option<String>,
    pub reason: FailureReason,
    pub message: String,
    /// The newest related events, oldest first.
    pub events: Vec<EventSummary>,
    pub hint: Option<String>,
}

/// `kubectl get -o json` gives a List with `items`; a bare array is accepted too.
fn list_items(value: &Value) -> &[Value] {
    value.get("items").unwrap_or(value).as_array().map_or(&[], Vec::as_slice)
}

/// A finding in one pod.
struct Finding<'p> {
    pod: &'p Value,
    container: Option<String>,
    reason: FailureReason,
    message: String,
}

/// Classifies why `workload` (a Deployment, StatefulSet, DaemonSet, Job or Pod, as live JSON) is not
/// ready, from `pods` and `events` (both `kubectl get -o json` output; pods of other workloads and
/// unrelated events are filtered out here).
pub fn diagnose(workload: &Value, pods: &Value, events: &Value) -> Diagnosis {
    let object = ObjectKey {
        kind: text(workload, "/kind").to_string(),
        namespace: Some(text(workload, "/metadata/namespace").to_string()).filter(|namespace| !namespace.is_empty()),
        name: text(workload, "/metadata/name").to_string(),
    };
    let own_pods = owned_pods(workload, list_items(pods));
    let related = related_events(&object, &own_pods, list_items(events));
    let mut findings: Vec<Finding> = own_pods.iter().filter_map(|pod| classify_pod(pod, &related)).collect();
    // The most specific reason first; among equals the newest pod (a rollout's new pods are the broken ones).
    findings.sort_by_key(|finding| {
        let pod = finding.pod;
        (
            finding.reason.severity(),
            std::cmp::Reverse(text(pod, "/metadata/creationTimestamp")),
            text(pod, "/metadata/name"),
        )
    });
    let newest_events = newest(&related);
    let Some(finding) = findings.into_iter().next() else {
        let (reason, message) = workload_level(workload, &own_pods, &related);
        let hint = super::diagnose_hints::hint(&reason, &message, None, None);
        return Diagnosis { object, pod: None, container: None, reason, message, events: newest_events, hint };
    };
    let hint =
        super::diagnose_hints::hint(&finding.reason, &finding.message, Some(finding.pod), finding.container.as_deref());
    Diagnosis {
        object,
        pod: Some(text(finding.pod, "/metadata/name").to_string()),
        container: finding.container,
        reason: finding.reason,
        message: finding.message,
        events: newest_events,
        hint,
    }
}

fn owned_pods<'p>(workload: &'p Value, pods: &'p [Value]) -> Vec<&'p Value> {
    let namespace = text(workload, "/metadata/namespace");
    let same_namespace = |pod: &&Value| {
        namespace.is_empty()
            || text(pod, "/metadata/namespace").is_empty()
            || text(pod, "/metadata/namespace") == namespace
    };
    if text(workload, "/kind") == "Pod" {
        let name = text(workload, "/metadata/name");
        let found: Vec<&Value> =
            pods.iter().filter(same_namespace).filter(|pod| text(pod, "/metadata/name") == name).collect();
        // The Pod's own JSON is the best evidence when the pod list does not repeat it.
        return if found.is_empty() { vec![workload] } else { found };
    }
    let selector = workload.pointer("/spec/selector/matchLabels").and_then(Value::as_object);
    pods.iter()
        .filter(same_namespace)
        .filter(|pod| {
            selector.is_none_or(|selector| {
                selector.iter().all(|(key, value)| {
                    pod.pointer("/metadata/labels").and_then(|labels| labels.get(key)) == Some(value)
                })
            })
        })
        .collect()
}

fn classify_pod<'p>(pod: &'p Value, events: &[&Value]) -> Option<Finding<'p>> {
    let finding = |container: Option<&str>, reason: FailureReason, message: String| Finding {
        pod,
        container: container.map(str::to_string),
        reason,
        message,
    };
    let mut best: Option<Finding> = None;
    let mut consider = |candidate: Finding<'p>| {
        if best.as_ref().is_none_or(|current| candidate.reason.severity() < current.reason.severity()) {
            best = Some(candidate);
        }
    };
    let statuses = ["/status/initContainerStatuses", "/status/containerStatuses"]
        .iter()
        .flat_map(|pointer| pod.pointer(pointer).and_then(Value::as_array).into_iter().flatten());
    for status in statuses {
        let container = Some(text(status, "/name"));
        let waiting_message = text(status, "/state/waiting/message").to_string();
        let last_terminated = status.pointer("/lastState/terminated");
        // An OOM kill long ago does not explain a container that is ready now.
        let unready = status.get("ready") != Some(&Value::Bool(true));
        let terminated = status.pointer("/state/terminated").or(last_terminated.filter(|_| unready));
        match text(status, "/state/waiting/reason") {
            "ErrImageNeverPull" => consider(finding(container, FailureReason::ErrImageNeverPull, waiting_message)),
            "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" | "ErrImageInspect" => {
                consider(finding(container, FailureReason::ImagePullBackOff, waiting_message))
            }
            "CreateContainerConfigError" => {
                consider(finding(container, FailureReason::CreateContainerConfigError, waiting_message))
            }
            "CrashLoopBackOff" => {
                consider(finding(container, FailureReason::CrashLoopBackOff, describe_exit(status, last_terminated)))
            }
            "" => {}
            other => consider(finding(container, FailureReason::Other(other.to_string()), waiting_message)),
        }
        if terminated.is_some_and(|terminated| text(terminated, "/reason") == "OOMKilled") {
            consider(finding(container, FailureReason::OomKilled, describe_exit(status, terminated)));
        } else if let Some(state) = status
            .pointer("/state/terminated")
            .filter(|state| state.get("exitCode").and_then(Value::as_i64).unwrap_or(0) != 0)
        {
            let reason = Some(text(state, "/reason")).filter(|reason| !reason.is_empty()).unwrap_or("Error");
            consider(finding(container, FailureReason::Other(reason.to_string()), describe_exit(status, Some(state))));
        }
        let running_unready =
            status.pointer("/state/running").is_some() && status.get("ready") == Some(&Value::Bool(false));
        let probe_event = events.iter().rev().find(|event| {
            text(event, "/involvedObject/name") == text(pod, "/metadata/name")
                && text(event, "/reason") == "Unhealthy"
                && text(event, "/message").starts_with("Readiness probe failed")
        });
        if let (true, Some(event)) = (running_unready, probe_event) {
            consider(finding(container, FailureReason::ReadinessProbeFailed, text(event, "/message").to_string()));
        }
    }
    let unschedulable =
        pod.pointer("/status/conditions").and_then(Value::as_array).into_iter().flatten().find(|condition| {
            text(condition, "/type") == "PodScheduled"
                && text(condition, "/status") == "False"
                && text(condition, "/reason") == "Unschedulable"
        });
    if let Some(condition) = unschedulable {
        consider(finding(None, FailureReason::Unschedulable, text(condition, "/message").to_string()));
    }
    if text(pod, "/status/phase") == "Failed" && !text(pod, "/status/reason").is_empty() {
        consider(finding(
            None,
            FailureReason::Other(text(pod, "/status/reason").to_string()),
            text(pod, "/status/message").to_string(),
        ));
    }
    best
}

fn describe_exit(status: &Value, terminated: Option<&Value>) -> String {
    let restarts = status.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
    let Some(terminated) = terminated else {
        return format!("the container keeps restarting ({restarts} restarts)");
    };
    let code = terminated.get("exitCode").and_then(Value::as_i64).unwrap_or(0);
    let reason = text(terminated, "/reason");
    let reason = if reason.is_empty() { String::new() } else { format!(" ({reason})") };
    format!("the container exited with code {code}{reason}; {restarts} restarts")
}

/// When no pod explains it: the workload's own conditions, then warning events (e.g. a ReplicaSet's
/// FailedCreate when a quota or admission policy refuses pods), then "no pods".
fn workload_level(workload: &Value, pods: &[&Value], events: &[&Value]) -> (FailureReason, String) {
    let conditions = workload.pointer("/status/conditions").and_then(Value::as_array).into_iter().flatten();
    for condition in conditions {
        let failed_job = text(condition, "/type") == "Failed" && text(condition, "/status") == "True";
        let deadline = text(condition, "/reason") == "ProgressDeadlineExceeded";
        if failed_job || deadline {
            let reason = Some(text(condition, "/reason")).filter(|reason| !reason.is_empty()).unwrap_or("Failed");
            return (FailureReason::Other(reason.to_string()), text(condition, "/message").to_string());
        }
    }
    if let Some(event) = events.iter().rev().find(|event| text(event, "/type") == "Warning") {
        return (FailureReason::Other(text(event, "/reason").to_string()), text(event, "/message").to_string());
    }
    if pods.is_empty() {
        return (FailureReason::NoPods, "no pods exist for this workload".to_string());
    }
    (FailureReason::Unknown, "the pods report no problem yet".to_string())
}

impl Diagnosis {
    /// The diagnosis as event data, with the container's last log lines.
    pub fn report(&self, last_log_lines: Vec<String>) -> DiagnosisReport {
        DiagnosisReport {
            object: self.object.to_string(),
            source: None,
            reason: self.reason.to_string(),
            hint: self.hint.clone(),
            pod: self.pod.clone(),
            container: self.container.clone(),
            message: self.message.clone(),
            events: self.events.clone(),
            last_log_lines,
        }
    }
}

#[cfg(test)]
#[path = "diagnose_tests.rs"]
mod tests;
