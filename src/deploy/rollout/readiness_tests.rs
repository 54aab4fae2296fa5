use super::*;

fn value(yaml: &str) -> Value {
    serde_yaml::from_str(yaml).expect("test yaml")
}

fn ready() -> Readiness {
    Ready
}

fn waiting(what: &str) -> Readiness {
    InProgress(what.to_string())
}

fn failed(why: &str) -> Readiness {
    Failed(why.to_string())
}

#[test]
fn readiness_per_kind() {
    let table: Vec<(&str, &str, Readiness)> = vec![
        // Deployment
        ("deployment rolled out", "{kind: Deployment, metadata: {generation: 2}, spec: {replicas: 2}, status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2}}", ready()),
        ("deployment default one replica", "{kind: Deployment, metadata: {generation: 1}, spec: {}, status: {observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1}}", ready()),
        ("deployment scaled to zero", "{kind: Deployment, metadata: {generation: 1}, spec: {replicas: 0}, status: {observedGeneration: 1}}", ready()),
        ("deployment generation not observed", "{kind: Deployment, metadata: {generation: 3}, spec: {replicas: 1}, status: {observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1}}", waiting("the controller has not observed generation 3 yet (it is at 2)")),
        ("deployment without status", "{kind: Deployment, metadata: {generation: 1}, spec: {replicas: 1}}", waiting("the controller has not observed generation 1 yet")),
        ("deployment updating", "{kind: Deployment, metadata: {generation: 2}, spec: {replicas: 3}, status: {observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 3}}", waiting("1 of 3 replicas updated")),
        ("deployment old pods terminating", "{kind: Deployment, metadata: {generation: 2}, spec: {replicas: 1}, status: {observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1}}", waiting("1 old replicas still terminating")),
        ("deployment not available", "{kind: Deployment, metadata: {generation: 2}, spec: {replicas: 2}, status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1}}", waiting("1 of 2 updated replicas available")),
        ("deployment deadline exceeded", "{kind: Deployment, metadata: {generation: 2}, spec: {replicas: 1}, status: {observedGeneration: 2, conditions: [{type: Progressing, status: 'False', reason: ProgressDeadlineExceeded, message: ReplicaSet \"web-1\" has timed out progressing.}]}}", failed("the rollout exceeded its progress deadline (ProgressDeadlineExceeded: ReplicaSet \"web-1\" has timed out progressing.)")),
        // StatefulSet
        ("statefulset ready", "{kind: StatefulSet, metadata: {generation: 1}, spec: {replicas: 2}, status: {observedGeneration: 1, readyReplicas: 2, currentRevision: a, updateRevision: a}}", ready()),
        ("statefulset not ready", "{kind: StatefulSet, metadata: {generation: 1}, spec: {replicas: 2}, status: {observedGeneration: 1, readyReplicas: 1}}", waiting("1 of 2 replicas ready")),
        ("statefulset revision rolling", "{kind: StatefulSet, metadata: {generation: 2}, spec: {replicas: 1}, status: {observedGeneration: 2, readyReplicas: 1, currentRevision: a, updateRevision: b}}", waiting("rolling update from revision a to b")),
        ("statefulset partitioned", "{kind: StatefulSet, metadata: {generation: 2}, spec: {replicas: 3, updateStrategy: {rollingUpdate: {partition: 2}}}, status: {observedGeneration: 2, readyReplicas: 3, updatedReplicas: 1, currentRevision: a, updateRevision: b}}", ready()),
        ("statefulset on delete", "{kind: StatefulSet, metadata: {generation: 2}, spec: {replicas: 1, updateStrategy: {type: OnDelete}}, status: {observedGeneration: 2, readyReplicas: 1, currentRevision: a, updateRevision: b}}", ready()),
        ("statefulset old generation", "{kind: StatefulSet, metadata: {generation: 2}, spec: {replicas: 1}, status: {observedGeneration: 1, readyReplicas: 1}}", waiting("the controller has not observed generation 2 yet (it is at 1)")),
        // DaemonSet
        ("daemonset ready", "{kind: DaemonSet, metadata: {generation: 1}, status: {observedGeneration: 1, desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3}}", ready()),
        ("daemonset updating", "{kind: DaemonSet, metadata: {generation: 1}, status: {observedGeneration: 1, desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 2}}", waiting("2 of 3 pods updated")),
        ("daemonset not ready", "{kind: DaemonSet, metadata: {generation: 1}, status: {observedGeneration: 1, desiredNumberScheduled: 3, numberReady: 0, updatedNumberScheduled: 3}}", waiting("0 of 3 pods ready")),
        ("daemonset unscheduled", "{kind: DaemonSet, metadata: {}, status: {}}", waiting("the controller has not scheduled any pod yet")),
        // Job
        ("job complete", "{kind: Job, status: {conditions: [{type: Complete, status: 'True'}]}}", ready()),
        ("job failed", "{kind: Job, status: {conditions: [{type: Failed, status: 'True', reason: BackoffLimitExceeded, message: Job has reached the specified backoff limit}]}}", failed("the job failed (BackoffLimitExceeded: Job has reached the specified backoff limit)")),
        ("job running", "{kind: Job, spec: {completions: 2}, status: {active: 1, succeeded: 1}}", waiting("the job is running: 1 active, 1 of 2 completions")),
        ("job suspended", "{kind: Job, spec: {suspend: true}}", waiting("the job is suspended")),
        // PersistentVolumeClaim
        ("pvc bound", "{kind: PersistentVolumeClaim, status: {phase: Bound}}", ready()),
        ("pvc pending waits for first consumer", "{kind: PersistentVolumeClaim, status: {phase: Pending}}", ready()),
        ("pvc lost", "{kind: PersistentVolumeClaim, status: {phase: Lost}}", failed("the claim lost its volume (phase Lost)")),
        // CustomResourceDefinition
        ("crd established", "{kind: CustomResourceDefinition, status: {conditions: [{type: NamesAccepted, status: 'True'}, {type: Established, status: 'True'}]}}", ready()),
        ("crd pending", "{kind: CustomResourceDefinition, status: {conditions: [{type: Established, status: 'False'}]}}", waiting("waiting for the API server to establish the definition")),
        ("crd names rejected", "{kind: CustomResourceDefinition, status: {conditions: [{type: NamesAccepted, status: 'False', reason: ListKindConflict, message: taken}]}}", failed("the API server rejected the names (ListKindConflict: taken)")),
        // Pod
        ("pod ready", "{kind: Pod, status: {phase: Running, conditions: [{type: Ready, status: 'True'}]}}", ready()),
        ("pod succeeded", "{kind: Pod, status: {phase: Succeeded}}", ready()),
        ("pod not ready", "{kind: Pod, status: {phase: Running, conditions: [{type: Ready, status: 'False'}]}}", waiting("waiting for the pod to be Ready (phase Running)")),
        ("pod new", "{kind: Pod}", waiting("waiting for the pod to be Ready (phase Pending)")),
        ("pod failed", "{kind: Pod, status: {phase: Failed, reason: Evicted, message: low on memory}}", failed("the pod failed (Evicted: low on memory)")),
        // Service
        ("service with ip", "{kind: Service, spec: {clusterIP: 10.96.0.10}}", ready()),
        ("headless service", "{kind: Service, spec: {clusterIP: None}}", ready()),
        ("external name", "{kind: Service, spec: {type: ExternalName, externalName: example.org}}", ready()),
        ("service without ip", "{kind: Service, spec: {}}", waiting("waiting for a cluster IP")),
        // Namespace and the rest
        ("namespace active", "{kind: Namespace, status: {phase: Active}}", ready()),
        ("namespace without status", "{kind: Namespace}", ready()),
        ("namespace terminating", "{kind: Namespace, status: {phase: Terminating}}", waiting("the namespace is terminating")),
        ("configmap", "{kind: ConfigMap}", ready()),
        ("custom resource", "{kind: Widget, status: {anything: true}}", ready()),
        ("being deleted", "{kind: ConfigMap, metadata: {deletionTimestamp: '2024-01-01T00:00:00Z'}}", waiting("the object is being deleted")),
    ];
    for (description, yaml, expected) in table {
        assert_eq!(evaluate(&value(yaml)), expected, "{description}");
    }
}
