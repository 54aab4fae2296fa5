use super::*;
use serde_json::Value;

fn pod_names(w: &World, selector: &str) -> Vec<String> {
    w.get(&format!("pods -n app -l {selector}"))["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn available(d: &Value) -> &str {
    condition(d, "Available").and_then(|c| c["status"].as_str()).unwrap_or("")
}

fn first_pod(w: &World, selector: &str) -> Value {
    w.get(&format!("pods -n app -l {selector}"))["items"][0].clone()
}

#[test]
fn deployment_becomes_available_on_the_third_poll() {
    let w = world("rollout-basic");
    assert_eq!(w.apply(&deployment("web", "nginx:1.27", "")).code, 0);
    let d1 = w.get("deploy web -n app");
    assert_eq!((available(&d1), d1["status"].get("observedGeneration")), ("False", None));
    let d2 = w.get("deploy web -n app");
    assert_eq!(available(&d2), "False");
    let d3 = w.get("deploy web -n app");
    assert_eq!(available(&d3), "True");
    assert_eq!(d3["status"]["observedGeneration"], 1);
    assert_eq!(
        (
            d3["status"]["readyReplicas"].as_u64(),
            d3["status"]["updatedReplicas"].as_u64(),
            d3["status"]["availableReplicas"].as_u64()
        ),
        (Some(2), Some(2), Some(2))
    );
    assert_eq!(condition(&d3, "Progressing").unwrap()["reason"], "NewReplicaSetAvailable");
    let pods = w.get("pods -n app -l app=web");
    let items = pods["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let p = &items[0];
    let hash = p["metadata"]["labels"]["pod-template-hash"].as_str().unwrap();
    assert!(p["metadata"]["name"].as_str().unwrap().starts_with(&format!("web-{hash}-")));
    assert_eq!(p["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet");
    assert_eq!(p["metadata"]["ownerReferences"][0]["name"], format!("web-{hash}"));
    assert_eq!(p["status"]["phase"], "Running");
    assert_eq!(condition(p, "Ready").unwrap()["status"], "True");
    let cs = &p["status"]["containerStatuses"][0];
    assert_eq!(
        (cs["name"].as_str(), cs["ready"].as_bool(), cs["image"].as_str()),
        (Some("main"), Some(true), Some("nginx:1.27"))
    );
    assert!(cs["state"]["running"].is_object());
    assert_eq!(w.get("rs -n app")["items"][0]["metadata"]["ownerReferences"][0]["name"], "web");
}

#[test]
fn pods_advance_their_deployment_too_and_reapply_rolls_out() {
    let w = world("rollout-reapply");
    w.apply(&deployment("web", "nginx:1", ""));
    let before = pod_names(&w, "app=web");
    assert_eq!(first_pod(&w, "app=web")["status"]["phase"], "Running");
    pod_names(&w, "app=web");
    assert_eq!(available(&w.get("deploy web -n app")), "True", "three gets of its pods count as polls");
    let unchanged = w.apply(&deployment("web", "nginx:1", ""));
    assert_eq!(unchanged.code, 0);
    assert_eq!(available(&w.get("deploy web -n app")), "True", "an unchanged apply is not a rollout");
    assert_eq!(pod_names(&w, "app=web"), before);
    w.apply(&deployment("web", "nginx:2", ""));
    let d = w.get("deploy web -n app");
    assert_eq!(
        (available(&d), d["metadata"]["generation"].as_u64(), d["status"]["observedGeneration"].as_u64()),
        ("False", Some(2), Some(1))
    );
    let after = pod_names(&w, "app=web");
    assert_eq!(after.len(), 2);
    assert!(after.iter().all(|n| !before.contains(n)), "{before:?} {after:?}");
}

#[test]
fn local_images_must_be_loaded_into_the_node() {
    let w = world("rollout-images");
    let never = deployment("web", "ohdev.local/app:1", "")
        .replace("image: ohdev.local/app:1\n", "image: ohdev.local/app:1\n        imagePullPolicy: Never\n");
    w.apply(&never);
    for _ in 0..3 {
        w.get("deploy web -n app");
    }
    assert_eq!(available(&w.get("deploy web -n app")), "False");
    let cs = first_pod(&w, "app=web")["status"]["containerStatuses"][0].clone();
    assert_eq!(cs["state"]["waiting"]["reason"], "ErrImageNeverPull");
    assert_eq!(
        cs["state"]["waiting"]["message"],
        "Container image \"ohdev.local/app:1\" is not present with pull policy of Never"
    );
    let events = w.get("events -n app --field-selector reason=ErrImageNeverPull");
    let ev = &events["items"][0];
    assert_eq!((ev["type"].as_str(), ev["involvedObject"]["kind"].as_str()), (Some("Warning"), Some("Pod")));
    assert!(ev["lastTimestamp"].is_string());
    assert_eq!(w.kind("load docker-image ohdev.local/app:1 --name dev").code, 0);
    assert_eq!(available(&w.get("deploy web -n app")), "True");
    let cs = first_pod(&w, "app=web")["status"]["containerStatuses"][0].clone();
    assert_eq!(cs["imageID"], format!("sha256:{}", "1".repeat(64)));
    w.apply(&deployment("api", "ohdev.local/app:2", ""));
    w.get("deploy api -n app");
    let cs = first_pod(&w, "app=api")["status"]["containerStatuses"][0].clone();
    assert_eq!(cs["state"]["waiting"]["reason"], "ImagePullBackOff", "ohdev.local has no registry");
}

fn failing(w: &World, name: &str, reason: &str) -> Value {
    w.apply(&deployment(name, "nginx:1", &format!("      annotations:\n        fake-kube/fail: {reason}\n")));
    for _ in 0..4 {
        assert_eq!(available(&w.get(&format!("deploy {name} -n app"))), "False");
    }
    first_pod(w, &format!("app={name}"))
}

#[test]
fn fixture_failures_show_in_pods_and_events() {
    let w = world("rollout-fixtures");
    let crash = failing(&w, "crash", "CrashLoopBackOff");
    let cs = &crash["status"]["containerStatuses"][0];
    assert_eq!(cs["state"]["waiting"]["reason"], "CrashLoopBackOff");
    assert_eq!(cs["lastState"]["terminated"]["exitCode"], 1);
    assert!(cs["restartCount"].as_u64().unwrap() >= 1);
    let oom = failing(&w, "oom", "OOMKilled");
    assert_eq!(oom["status"]["containerStatuses"][0]["lastState"]["terminated"]["reason"], "OOMKilled");
    assert_eq!(oom["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"], 137);
    let pending = failing(&w, "big", "Unschedulable");
    assert_eq!(pending["status"]["phase"], "Pending");
    let sched = condition(&pending, "PodScheduled").unwrap();
    assert_eq!(
        (sched["status"].as_str(), sched["reason"].as_str(), sched["message"].as_str()),
        (Some("False"), Some("Unschedulable"), Some("0/1 nodes are available: 1 Insufficient memory."))
    );
    let events = w.get("events -n app")["items"].as_array().unwrap().clone();
    let reasons: Vec<&str> = events.iter().map(|e| e["reason"].as_str().unwrap()).collect();
    assert!(reasons.contains(&"BackOff") && reasons.contains(&"FailedScheduling"), "{reasons:?}");
    let progressing = |w: &World| {
        condition(&w.get("deploy crash -n app"), "Progressing").unwrap()["reason"].as_str().unwrap().to_string()
    };
    let mut seen = vec![progressing(&w)];
    while seen.len() < 10 && seen.last().unwrap() != "ProgressDeadlineExceeded" {
        seen.push(progressing(&w));
    }
    assert_eq!(seen.first().unwrap(), "ReplicaSetUpdated");
    assert_eq!(
        seen.last().unwrap(),
        "ProgressDeadlineExceeded",
        "after {} polls",
        crate::kubectl::status::PROGRESS_DEADLINE_POLLS
    );
}

#[test]
fn missing_secret_is_create_container_config_error() {
    let w = world("rollout-secret");
    let d = deployment("web", "nginx:1", "").replace(
        "        image: nginx:1\n",
        "        image: nginx:1\n        envFrom:\n        - secretRef:\n            name: creds\n",
    );
    w.apply(&d);
    w.get("deploy web -n app");
    let cs = first_pod(&w, "app=web")["status"]["containerStatuses"][0].clone();
    assert_eq!(
        (cs["state"]["waiting"]["reason"].as_str(), cs["state"]["waiting"]["message"].as_str()),
        (Some("CreateContainerConfigError"), Some("secret \"creds\" not found"))
    );
    w.apply("apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: app\n");
    w.get("deploy web -n app");
    assert_eq!(available(&w.get("deploy web -n app")), "True");
}

#[test]
fn jobs_complete_or_fail() {
    let w = world("rollout-jobs");
    let job = |name: &str, ann: &str| {
        format!("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  namespace: app\n{ann}spec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: main\n        image: busybox:1.36\n")
    };
    w.apply(&job("ok", ""));
    w.apply(&job("bad", "  annotations:\n    fake-kube/fail: JobFailed\n"));
    for _ in 0..2 {
        assert!(condition(&w.get_now("job bad -n app"), "Failed").is_none());
        assert!(condition(&w.get("job ok -n app"), "Complete").is_none());
    }
    assert_eq!(condition(&w.get("job ok -n app"), "Complete").unwrap()["status"], "True");
    let bad = w.get("job bad -n app");
    assert_eq!(
        (condition(&bad, "Failed").unwrap()["reason"].as_str(), bad["status"]["failed"].as_u64()),
        (Some("BackoffLimitExceeded"), Some(1))
    );
    assert_eq!(first_pod(&w, "job-name=ok")["status"]["phase"], "Succeeded");
}

#[test]
fn pvcs_wait_for_their_first_consumer_like_kinds_standard_class() {
    let w = world("rollout-pvc");
    w.apply("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: app\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n");
    for _ in 0..3 {
        assert_eq!(w.get("pvc data -n app")["status"]["phase"], "Pending");
    }
    let ev = w.get("events -n app --field-selector involvedObject.name=data");
    assert_eq!(ev["items"][0]["reason"], "WaitForFirstConsumer");
    let d = deployment("db", "postgres:16", "").replace("      containers:\n", "      volumes:\n      - name: d\n        persistentVolumeClaim:\n          claimName: data\n      containers:\n");
    w.apply(&d);
    let pvc = w.get("pvc data -n app");
    assert_eq!(
        (pvc["status"]["phase"].as_str(), pvc["spec"]["storageClassName"].as_str()),
        (Some("Bound"), Some("standard"))
    );
}

#[test]
fn statefulsets_and_daemonsets_have_their_pods() {
    let w = World::new("rollout-sts");
    w.cluster("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n- role: worker\n");
    w.apply(NS_APP);
    let sts = deployment("db", "postgres:16", "")
        .replace("kind: Deployment", "kind: StatefulSet")
        .replace("spec:\n  replicas", "spec:\n  serviceName: db\n  replicas");
    assert_eq!(w.apply(&sts).code, 0);
    let ds = deployment("agent", "busybox:1", "")
        .replace("kind: Deployment", "kind: DaemonSet")
        .replace("  replicas: 2\n", "");
    assert_eq!(w.apply(&ds).code, 0);
    assert_eq!(pod_names(&w, "app=db"), vec!["db-0", "db-1"]);
    assert_eq!(pod_names(&w, "app=agent").len(), 2, "one per worker");
    w.get("sts db -n app");
    let s = w.get("sts db -n app");
    assert_eq!((s["status"]["readyReplicas"].as_u64(), s["status"]["observedGeneration"].as_u64()), (Some(2), Some(1)));
    w.get("ds agent -n app");
    let d = w.get("ds agent -n app");
    assert_eq!(
        (d["status"]["numberReady"].as_u64(), d["status"]["desiredNumberScheduled"].as_u64()),
        (Some(2), Some(2))
    );
}

#[test]
fn deleting_a_namespace_deletes_its_objects() {
    let w = world("rollout-delete");
    w.apply(&deployment("web", "nginx:1", ""));
    let o = w.kubectl("delete namespace app --wait=false", "");
    assert_eq!((o.code, o.stdout.as_str()), (0, "namespace \"app\" deleted\n"));
    let o = w.kubectl("get deploy web -n app", "");
    assert_eq!(o.stderr, "Error from server (NotFound): deployments.apps \"web\" not found\n");
    let o = w.kubectl("delete deploy web -n app", "");
    assert_eq!((o.code, o.stderr.as_str()), (1, "Error from server (NotFound): deployments.apps \"web\" not found\n"));
    assert_eq!(w.kubectl("delete deploy web -n app --ignore-not-found", "").code, 0);
    let o = w.kubectl("delete -f -", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");
    assert_eq!(o.stderr, "Error from server (NotFound): error when deleting \"STDIN\": configmaps \"x\" not found\n");
}

#[test]
fn reading_more_often_does_not_make_a_rollout_finish_sooner() {
    let w = world("rollout-pace");
    w.apply(&deployment("web", "nginx:1", ""));
    let phase = |w: &World| w.get_now("pods -n app -l app=web")["items"][0]["status"]["phase"].clone();
    for _ in 0..50 {
        assert_eq!(available(&w.get_now("deploy web -n app")), "False", "50 reads at once are no time at all");
    }
    assert_eq!(phase(&w), "Pending");
    w.advance(100);
    assert_eq!(phase(&w), "Running", "half the rollout time: Running, not ready");
    assert_eq!(available(&w.get_now("deploy web -n app")), "False");
    w.advance(99);
    assert_eq!(available(&w.get_now("deploy web -n app")), "False");
    w.advance(1);
    assert_eq!(available(&w.get_now("deploy web -n app")), "True", "Available once the rollout time has passed");
    // A new template is a new rollout, timed from its apply.
    w.apply(&deployment("web", "nginx:2", ""));
    assert_eq!(available(&w.get_now("deploy web -n app")), "False");
    w.advance(200);
    assert_eq!(available(&w.get_now("deploy web -n app")), "True");
}

#[test]
fn a_slow_pull_is_pending_with_a_pulling_event_then_pulled_and_ready() {
    let w = world("rollout-pulling");
    w.apply(&deployment("slow", "nginx:1", "      annotations:\n        fake-kube/pulling: \"3\"\n"));
    let reasons = |w: &World| -> Vec<String> {
        w.get("events -n app")["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["involvedObject"]["kind"] == "Pod")
            .map(|e| e["reason"].as_str().unwrap().to_string())
            .collect()
    };
    let pod = first_pod(&w, "app=slow");
    assert_eq!(pod["status"]["phase"], "Pending");
    assert_eq!(pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"], "ContainerCreating");
    let seen = reasons(&w);
    assert!(seen.contains(&"Pulling".to_string()) && !seen.contains(&"Pulled".to_string()), "{seen:?}");
    let mut available_after = None;
    for poll in 0..12 {
        if available(&w.get("deploy slow -n app")) == "True" {
            available_after = Some(poll);
            break;
        }
        first_pod(&w, "app=slow");
    }
    assert!(available_after.is_some(), "never available");
    assert!(reasons(&w).contains(&"Pulled".to_string()));
}
