use serde_json::json;

use super::*;

fn value(yaml: &str) -> Value {
    serde_yaml::from_str(yaml).expect("test yaml")
}

fn deployment() -> Value {
    value("{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, namespace: openhands}, spec: {selector: {matchLabels: {app: web}}}}")
}

/// A pod of the `web` Deployment with one container `app` (image `image`) and the given status.
fn pod(name: &str, created: &str, image: &str, status: &str) -> Value {
    let mut pod = value(&format!(
        "{{kind: Pod, metadata: {{name: {name}, namespace: openhands, creationTimestamp: '{created}', labels: {{app: web}}}}, \
         spec: {{initContainers: [{{name: init, image: busybox}}], containers: [{{name: app, image: '{image}', resources: {{limits: {{memory: 256Mi}}}}}}]}}}}"
    ));
    pod["status"] = value(status);
    pod
}

const LOCAL: &str = "ohdev.local/app:0123456789abcdef";

fn waiting(reason: &str, message: &str) -> String {
    format!("{{phase: Pending, containerStatuses: [{{name: app, ready: false, restartCount: 0, state: {{waiting: {{reason: {reason}, message: '{message}'}}}}}}]}}")
}

struct Case {
    description: &'static str,
    pods: Vec<Value>,
    events: Vec<Value>,
    reason: FailureReason,
    container: Option<&'static str>,
    message: &'static str,
    hint: Option<&'static str>,
}

fn event(name: &str, kind: &str, reason: &str, message: &str, time: &str) -> Value {
    json!({"type": "Warning", "reason": reason, "message": message, "lastTimestamp": time, "count": 1,
           "involvedObject": {"kind": kind, "name": name, "namespace": "openhands"}})
}

#[test]
fn classification_table() {
    let running_unready =
        "{phase: Running, containerStatuses: [{name: app, ready: false, restartCount: 0, state: {running: {}}}]}";
    let cases = vec![
        Case {
            description: "image never pulled",
            pods: vec![pod("web-1", "2024-01-01T00:00:00Z", LOCAL, &waiting("ErrImageNeverPull", "Container image \"ohdev.local/app:0123456789abcdef\" is not present with pull policy of Never"))],
            events: vec![],
            reason: FailureReason::ErrImageNeverPull,
            container: Some("app"),
            message: "Container image \"ohdev.local/app:0123456789abcdef\" is not present with pull policy of Never",
            hint: Some("image ohdev.local/app:0123456789abcdef is not in the cluster: run `ohdev rebuild app`"),
        },
        Case {
            description: "registry image cannot be pulled",
            pods: vec![pod("web-1", "2024-01-01T00:00:00Z", "nginx:nope", &waiting("ImagePullBackOff", "Back-off pulling image \"nginx:nope\""))],
            events: vec![],
            reason: FailureReason::ImagePullBackOff,
            container: Some("app"),
            message: "Back-off pulling image \"nginx:nope\"",
            hint: Some("the node cannot pull nginx:nope: check the name and tag"),
        },
        Case {
            description: "missing secret key",
            pods: vec![pod("web-1", "2024-01-01T00:00:00Z", LOCAL, &waiting("CreateContainerConfigError", "couldn''t find key LLM_API_KEY in Secret openhands/openhands-secrets"))],
            events: vec![],
            reason: FailureReason::CreateContainerConfigError,
            container: Some("app"),
            message: "couldn't find key LLM_API_KEY in Secret openhands/openhands-secrets",
            hint: Some("Secret openhands-secrets has no key LLM_API_KEY: add LLM_API_KEY to `keys:` of secrets.openhands-secrets in ohdev.yaml"),
        },
        Case {
            description: "missing secret",
            pods: vec![pod("web-1", "2024-01-01T00:00:00Z", LOCAL, &waiting("CreateContainerConfigError", "secret \"openhands-secrets\" not found"))],
            events: vec![],
            reason: FailureReason::CreateContainerConfigError,
            container: Some("app"),
            message: "secret \"openhands-secrets\" not found",
            hint: Some("Secret openhands-secrets does not exist: add it under `secrets:` in ohdev.yaml"),
        },
        Case {
            description: "out of memory",
            pods: vec![pod("web-1", "2024-01-01T00:00:00Z", LOCAL, "{phase: Running, containerStatuses: [{name: app, ready: false, restartCount: 3, state: {waiting: {reason: CrashLoopBackOff}}, lastState: {terminated: {reason: OOMKilled, exitCode: 137}}}]}")],
            events: vec![],
            reason: FailureReason::OomKilled,
            container: Some("app"),
            message: "the container exited with code 137 (OOMKilled); 3 restarts",
            hint: Some("the container used more than its memory limit (256Mi)"),
        },
        Case {
            description: "an old OOM kill of a container that is ready now explains nothing",
            pods: vec![pod("web-1", "2024-01-01T00:00:00Z", LOCAL, "{phase: Running, containerStatuses: [{name: app, ready: true, restartCount: 1, state: {running: {}}, lastState: {terminated: {reason: OOMKilled, exitCode: 137}}}]}")],
            events: vec![],
            reason: FailureReason::Unknown,
            container: None,
            message: "the pods report no problem yet",
            hint: None,
        },
        Case {
            description: "crash loop",
            pods: vec![pod("web-1", "2024-01-01T00:00:00Z", LOCAL, "{phase: Running, containerStatuses: [{name: app, ready: false, restartCount: 4, state: {waiting: {reason: CrashLoopBackOff}}, lastState: {terminated: {reason: Error, exitCode: 1}}}]}")],
            events: vec![],
            reason: FailureReason::CrashLoopBackOff,
            container: Some("app"),
            message: "the container exited with code 1 (Error); 4 restarts",
            hint: Some("the container keeps exiting"),
        },
        Case {
            description: "init container crash loop",
            pods: vec![pod("web-1", "2024-01-01T00:00:00Z", LOCAL, "{phase: Pending, initContainerStatuses: [{name: init, ready: false, restartCount: 2, state: {waiting: {reason: CrashLoopBackOff}}, lastState: {terminated: {exitCode: 2}}}]}")],
            events: vec![],
            reason: FailureReason::CrashLoopBackOff,
            container: Some("init"),
            message: "the container exited with code 2; 2 restarts",
            hint: Some("the container keeps exiting"),
        },
        Case {
            description: "unschedulable",
            pods: vec![pod("web-1", "2024-01-01T00:00:00Z", LOCAL, "{phase: Pending, conditions: [{type: PodScheduled, status: 'False', reason: Unschedulable, message: '0/1 nodes are available: 1 Insufficient memory.'}]}")],
            events: vec![],
            reason: FailureReason::Unschedulable,
            container: None,
            message: "0/1 nodes are available: 1 Insufficient memory.",
            hint: Some("the nodes lack CPU or memory"),
        },
        Case {
            description: "readiness probe",
            pods: vec![pod("web-1", "2024-01-01T00:00:00Z", LOCAL, running_unready)],
            events: vec![event("web-1", "Pod", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", "2024-01-01T00:01:00Z")],
            reason: FailureReason::ReadinessProbeFailed,
            container: Some("app"),
            message: "Readiness probe failed: HTTP probe failed with statuscode: 503",
            hint: Some("the readiness probe fails"),
        },
        Case {
            description: "pods refused by the replica set",
            pods: vec![],
            events: vec![event("web-6d9f", "ReplicaSet", "FailedCreate", "pods \"web-6d9f-x\" is forbidden: exceeded quota", "2024-01-01T00:01:00Z")],
            reason: FailureReason::Other("FailedCreate".to_string()),
            container: None,
            message: "pods \"web-6d9f-x\" is forbidden: exceeded quota",
            hint: None,
        },
        Case { description: "no pods", pods: vec![], events: vec![], reason: FailureReason::NoPods, container: None, message: "no pods exist for this workload", hint: Some("no pod was created") },
        Case {
            description: "healthy pods",
            pods: vec![pod("web-1", "2024-01-01T00:00:00Z", LOCAL, "{phase: Running, containerStatuses: [{name: app, ready: true, restartCount: 0, state: {running: {}}}]}")],
            events: vec![],
            reason: FailureReason::Unknown,
            container: None,
            message: "the pods report no problem yet",
            hint: None,
        },
        Case {
            description: "worst pod wins, other workloads ignored",
            pods: vec![
                pod("web-old", "2024-01-01T00:00:00Z", LOCAL, "{phase: Running, containerStatuses: [{name: app, ready: true, state: {running: {}}}]}"),
                pod("web-crash", "2024-01-01T00:02:00Z", LOCAL, "{phase: Running, containerStatuses: [{name: app, ready: false, restartCount: 1, state: {waiting: {reason: CrashLoopBackOff}}}]}"),
                pod("web-new", "2024-01-01T00:01:00Z", LOCAL, &waiting("ErrImageNeverPull", "not present")),
                {
                    let mut other = pod("other-1", "2024-01-01T00:03:00Z", "x", &waiting("ErrImageNeverPull", "other workload"));
                    other["metadata"]["labels"]["app"] = json!("other");
                    other
                },
            ],
            events: vec![],
            reason: FailureReason::ErrImageNeverPull,
            container: Some("app"),
            message: "not present",
            hint: Some("run `ohdev rebuild app`"),
        },
    ];
    for case in cases {
        let diagnosis =
            diagnose(&deployment(), &json!({"kind": "List", "items": case.pods}), &json!({"items": case.events}));
        let description = case.description;
        assert_eq!(diagnosis.reason, case.reason, "{description}");
        assert_eq!(diagnosis.container.as_deref(), case.container, "{description}");
        assert_eq!(diagnosis.message, case.message, "{description}");
        match (case.hint, &diagnosis.hint) {
            (Some(expected), Some(hint)) => {
                assert!(hint.contains(expected), "{description}: {hint}")
            }
            (expected, found) => assert_eq!(expected, found.as_deref(), "{description}"),
        }
        assert_eq!(diagnosis.object.to_string(), "Deployment openhands/web");
    }
}

#[test]
fn a_pod_workload_and_a_failed_job() {
    let pod_object = pod("solo", "2024-01-01T00:00:00Z", LOCAL, &waiting("ErrImageNeverPull", "gone"));
    let diagnosis = diagnose(&pod_object, &json!([]), &json!([]));
    assert_eq!((diagnosis.reason, diagnosis.pod.as_deref()), (FailureReason::ErrImageNeverPull, Some("solo")));

    let job = value("{kind: Job, metadata: {name: migrate, namespace: openhands}, spec: {selector: {matchLabels: {job: migrate}}}, status: {conditions: [{type: Failed, status: 'True', reason: BackoffLimitExceeded, message: Job has reached the specified backoff limit}]}}");
    let diagnosis = diagnose(&job, &json!([]), &json!([]));
    assert_eq!(diagnosis.reason, FailureReason::Other("BackoffLimitExceeded".to_string()));
    assert_eq!(diagnosis.message, "Job has reached the specified backoff limit");
    let mut failed_pod = pod("migrate-x", "2024-01-01T00:00:00Z", LOCAL, "{phase: Failed, containerStatuses: [{name: app, ready: false, restartCount: 0, state: {terminated: {reason: Error, exitCode: 3}}}]}");
    failed_pod["metadata"]["labels"] = json!({"job": "migrate"});
    let diagnosis = diagnose(&job, &json!([failed_pod]), &json!([]));
    assert_eq!(
        (diagnosis.reason, diagnosis.message.as_str()),
        (FailureReason::Other("Error".to_string()), "the container exited with code 3 (Error); 0 restarts")
    );
}

#[test]
fn newest_related_events_oldest_first() {
    let mut events: Vec<Value> = (0..7)
        .map(|second| event("web-1", "Pod", &format!("E{second}"), "m", &format!("2024-01-01T00:00:0{second}Z")))
        .collect();
    events.push(event("web", "Deployment", "ScalingReplicaSet", "scaled", "2024-01-01T00:00:05.500000Z"));
    events.push(event("unrelated", "Pod", "Other", "m", "2024-01-01T00:00:09Z"));
    let mut elsewhere = event("web-1", "Pod", "Elsewhere", "m", "2024-01-01T00:00:09Z");
    elsewhere["involvedObject"]["namespace"] = json!("other");
    events.push(elsewhere);
    let mut micro = event("web-6d9f", "ReplicaSet", "SuccessfulCreate", "created", "");
    micro["eventTime"] = json!("2024-01-01T00:00:04.250000Z");
    events.push(micro);
    events.reverse();
    let pods = json!([pod("web-1", "2024-01-01T00:00:00Z", LOCAL, "{phase: Running}")]);
    let reasons: Vec<String> =
        diagnose(&deployment(), &pods, &json!(events)).events.iter().map(|event| event.reason.clone()).collect();
    assert_eq!(reasons, ["E4", "SuccessfulCreate", "E5", "ScalingReplicaSet", "E6"]);
}

#[test]
fn render_screen() {
    let diagnosis = Diagnosis {
        object: ObjectKey {
            kind: "Deployment".to_string(),
            namespace: Some("openhands".to_string()),
            name: "app".to_string(),
        },
        pod: Some("app-6d9f-abcde".to_string()),
        container: Some("app".to_string()),
        reason: FailureReason::ErrImageNeverPull,
        message: "Container image \"ohdev.local/app:0123\" is not present with pull policy of Never".to_string(),
        events: vec![EventSummary {
            time: "2024-01-01T00:00:00Z".to_string(),
            event_type: "Warning".to_string(),
            reason: "ErrImageNeverPull".to_string(),
            object: "Pod/app-6d9f-abcde".to_string(),
            message: "Container image is not present".to_string(),
            count: 4,
        }],
        hint: Some("image ohdev.local/app:0123 is not in the cluster: run `ohdev rebuild app`".to_string()),
    };
    assert_eq!(
        crate::ui::diagnosis_screen(&diagnosis.report(vec!["starting".to_string(), "ready?".to_string()])),
        "Deployment openhands/app is not ready: ErrImageNeverPull
  pod:        app-6d9f-abcde
  container:  app
  message:    Container image \"ohdev.local/app:0123\" is not present with pull policy of Never
  events (newest last):
    2024-01-01T00:00:00Z  Warning  ErrImageNeverPull  Pod/app-6d9f-abcde: Container image is not present (x4)
  last log lines:
    starting
    ready?
  hint: image ohdev.local/app:0123 is not in the cluster: run `ohdev rebuild app`
"
    );
}
