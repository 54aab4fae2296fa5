//! What the rollout fetches when something is not ready, and the errors it ends with: the workload's
//! current pods and its namespace's events, the failing container's last log lines, a diagnosis event
//! for the screen, and the error that names the object and what to do. A definite failure (an image
//! that is not there, a crash loop) ends the wait early instead of running out the deadline.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::Value;

use super::diagnose::{self, FailureReason};
use super::pulls;
use crate::deploy::plan::manifest::Object;
use crate::deploy::plan::resource::{namespace_args, ResourceNames};
use crate::error::Error;
use crate::events::{Event, StepState};
use crate::tools::kubectl::Kubectl;
use crate::ui::Reporter;

pub(super) async fn fetch(kubectl: &Kubectl, object: &Object, resources: &ResourceNames<'_>) -> Result<Value, Error> {
    let key = object.key();
    let mut args = vec![resources.of(object), key.name.clone()];
    args.extend(namespace_args(&key));
    kubectl.get_json(args).await
}

/// Why an object is not ready when the deadline passes.
pub(super) enum Stuck {
    /// Never applied: what it depends on was not ready.
    NotApplied,
    /// Applied; the last status seen and the last failed read, if the last read failed.
    NotReady { last: String, last_error: Option<String> },
}

/// What a timeout says about an object that was applied but never ready: the last failed read, the
/// last status seen, or that none came.
fn last_seen(last: &str, last_error: Option<&str>) -> String {
    match (last.is_empty(), last_error) {
        (_, Some(error)) => format!("last read failed: {error}"),
        (true, None) => "no status reported yet".to_string(),
        (false, None) => last.to_string(),
    }
}

pub(super) fn is_workload(kind: &str) -> bool {
    matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "Pod")
}

async fn related(kubectl: &Kubectl, object: &Object, live: &Value) -> (Value, Value) {
    let namespace = object.namespace().unwrap_or("default").to_string();
    let selector = live.pointer("/spec/selector/matchLabels").and_then(Value::as_object).map(|labels| {
        labels
            .iter()
            .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(",")
    });
    let pods = match (object.kind(), selector) {
        ("Pod", _) => serde_json::json!({"items": [live.clone()]}),
        (_, Some(selector)) if !selector.is_empty() => kubectl
            .get_json([
                "pods".to_string(),
                "--namespace".to_string(),
                namespace.clone(),
                "--selector".to_string(),
                selector,
            ])
            .await
            .unwrap_or(Value::Null),
        _ => Value::Null,
    };
    let events =
        kubectl.get_json(["events".to_string(), "--namespace".to_string(), namespace]).await.unwrap_or(Value::Null);
    (current_pods(live, pods), events)
}

fn container_images(spec: Option<&Value>) -> Vec<String> {
    let mut images: Vec<String> = spec
        .and_then(|spec| spec.get("containers"))
        .and_then(Value::as_array)
        .map(|containers| {
            containers.iter().filter_map(|container| container["image"].as_str().map(str::to_string)).collect()
        })
        .unwrap_or_default();
    images.sort();
    images
}

/// During a rollout the selector also matches the previous version's pods: judge only pods that
/// run the images of the workload's current template (a fixed app must not fail on its old crash).
pub fn current_pods(workload: &Value, pods: Value) -> Value {
    let wanted = container_images(workload.pointer("/spec/template/spec"));
    if wanted.is_empty() {
        return pods;
    }
    let Some(items) = pods.get("items").and_then(Value::as_array) else { return pods };
    let current: Vec<Value> = items.iter().filter(|pod| container_images(pod.get("spec")) == wanted).cloned().collect();
    serde_json::json!({ "items": current })
}

async fn last_log_lines(kubectl: &Kubectl, diagnosis: &diagnose::Diagnosis, namespace: &str) -> Vec<String> {
    let (Some(pod), Some(container)) = (&diagnosis.pod, &diagnosis.container) else { return Vec::new() };
    if !matches!(
        diagnosis.reason,
        FailureReason::CrashLoopBackOff
            | FailureReason::OomKilled
            | FailureReason::Other(_)
            | FailureReason::ReadinessProbeFailed
    ) {
        return Vec::new();
    }
    let output = kubectl
        .invocation(["logs", pod.as_str(), "--container", container.as_str(), "--namespace", namespace, "--tail=20"])
        .run_unchecked()
        .await;
    match output {
        Ok(output) if output.success() => output.stdout.lines().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// The image of the diagnosed container (from its pod's spec).
fn failing_image(pods: &Value, diagnosis: &diagnose::Diagnosis) -> Option<String> {
    let (pod, container) = (diagnosis.pod.as_deref()?, diagnosis.container.as_deref()?);
    let pods = pods.get("items").and_then(Value::as_array)?;
    let pod = pods.iter().find(|candidate| candidate.pointer("/metadata/name").and_then(Value::as_str) == Some(pod))?;
    ["/spec/containers", "/spec/initContainers"]
        .iter()
        .flat_map(|pointer| pod.pointer(pointer).and_then(Value::as_array).into_iter().flatten())
        .find(|spec| spec.get("name").and_then(Value::as_str) == Some(container))
        .and_then(|spec| spec.get("image").and_then(Value::as_str))
        .map(str::to_string)
}

/// A pull from a registry that failed: the hint names the registry and ohdev's login for it.
fn with_registry_hint(
    mut diagnosis: diagnose::Diagnosis,
    pods: &Value,
    logins: &BTreeMap<String, String>,
) -> diagnose::Diagnosis {
    if diagnosis.reason != FailureReason::ImagePullBackOff {
        return diagnosis;
    }
    if let Some(hint) = failing_image(pods, &diagnosis).and_then(|image| pulls::pull_failure_hint(&image, logins)) {
        diagnosis.hint = Some(hint);
    }
    diagnosis
}

async fn screen(
    kubectl: &Kubectl,
    object: &Object,
    live: &Value,
    logins: &BTreeMap<String, String>,
    reporter: &Reporter,
) -> diagnose::Diagnosis {
    let (pods, events) = related(kubectl, object, live).await;
    let diagnosis = with_registry_hint(diagnose::diagnose(live, &pods, &events), &pods, logins);
    let lines = last_log_lines(kubectl, &diagnosis, object.namespace().unwrap_or("default")).await;
    let mut report = diagnosis.report(lines);
    report.source = object.source.rendered_by().map(|_| object.source.to_string());
    reporter.emit(Event::Diagnosis(report));
    diagnosis
}

/// What a look at a workload's pods found.
pub(super) enum Check {
    /// A definite failure: the error, its diagnosis already shown.
    Failed(Error),
    /// A node is still pulling this image: progress.
    Pulling(String),
    Waiting,
}

/// A definite failure (image missing, crash loop, bad config…) ends the wait early; an image
/// still being pulled is progress.
pub(super) async fn fail_fast(
    kubectl: &Kubectl,
    object: &Object,
    live: &Value,
    logins: &BTreeMap<String, String>,
    reporter: &Reporter,
) -> Check {
    let (pods, events) = related(kubectl, object, live).await;
    let diagnosis = diagnose::diagnose(live, &pods, &events);
    let definite = matches!(
        diagnosis.reason,
        FailureReason::ErrImageNeverPull
            | FailureReason::ImagePullBackOff
            | FailureReason::CreateContainerConfigError
            | FailureReason::OomKilled
            | FailureReason::CrashLoopBackOff
            | FailureReason::Unschedulable
    );
    if !definite {
        return match pulls::pulling(&pods, &events) {
            Some(image) => Check::Pulling(image),
            None => Check::Waiting,
        };
    }
    Check::Failed(diagnose_failure(kubectl, object, live, None, logins, reporter).await)
}

pub(super) async fn diagnose_failure(
    kubectl: &Kubectl,
    object: &Object,
    live: &Value,
    reason: Option<String>,
    logins: &BTreeMap<String, String>,
    reporter: &Reporter,
) -> Error {
    let diagnosis = screen(kubectl, object, live, logins, reporter).await;
    reporter.emit(Event::step("deploy", StepState::Failed, "deploying", None));
    Error::work(
        format!("{} is not ready: {}", object.key(), reason.unwrap_or_else(|| diagnosis.reason.to_string())),
        diagnosis.hint.or_else(|| Some("`ohdev logs` shows the containers' output".to_string())),
    )
}

pub(super) async fn timeout(
    kubectl: &Kubectl,
    objects: &[Object],
    stuck_objects: Vec<(usize, Stuck)>,
    limit: Duration,
    logins: &BTreeMap<String, String>,
    reporter: &Reporter,
) -> Error {
    let mut stuck = Vec::new();
    let mut hint = None;
    let resources = ResourceNames::new(objects);
    for (index, state) in stuck_objects {
        match state {
            Stuck::NotReady { last, last_error } => {
                stuck.push(format!("{} ({})", objects[index].key(), last_seen(&last, last_error.as_deref())));
                if is_workload(objects[index].kind()) {
                    if let Ok(live) = fetch(kubectl, &objects[index], &resources).await {
                        let diagnosis = screen(kubectl, &objects[index], &live, logins, reporter).await;
                        hint = hint.or(diagnosis.hint);
                    }
                }
            }
            Stuck::NotApplied => {
                stuck.push(format!("{} (not applied: waits for its dependencies)", objects[index].key()))
            }
        }
    }
    reporter.emit(Event::step("deploy", StepState::Failed, "deploying", None));
    let mut set: BTreeSet<String> = BTreeSet::new();
    set.extend(stuck);
    Error::work(
        format!("not ready after {}: {}", crate::units::human_duration(limit), set.into_iter().collect::<Vec<_>>().join(", ")),
        hint.or_else(|| Some("raise the deadline with `ohdev up --timeout 10m` (or deploy.timeout in ohdev.yaml), or look at `ohdev logs`".to_string())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_never_leaves_an_object_without_a_reason() {
        assert_eq!(last_seen("", None), "no status reported yet");
        assert_eq!(last_seen("0 of 1 updated replicas available", None), "0 of 1 updated replicas available");
        assert_eq!(
            last_seen("0 of 1 updated replicas available", Some("Error from server (ServiceUnavailable)")),
            "last read failed: Error from server (ServiceUnavailable)"
        );
    }

    #[test]
    fn only_pods_of_the_current_template_are_judged() {
        let workload =
            serde_json::json!({"spec": {"template": {"spec": {"containers": [{"image": "ohdev.local/app:new"}]}}}});
        let pods = serde_json::json!({"items": [
            {"metadata": {"name": "old"}, "spec": {"containers": [{"image": "ohdev.local/app:old"}]}},
            {"metadata": {"name": "new"}, "spec": {"containers": [{"image": "ohdev.local/app:new"}]}}
        ]});
        let current = current_pods(&workload, pods);
        let names: Vec<&str> =
            current["items"].as_array().unwrap().iter().map(|pod| pod["metadata"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["new"]);
    }
}
