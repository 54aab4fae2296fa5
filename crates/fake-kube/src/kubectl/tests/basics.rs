use super::*;
use serde_json::json;

#[test]
fn context_is_required_and_must_exist() {
    let w = World::new("kubectl-context");
    let o = crate::app::testing::call(&w.env, "kubectl", &["get", "pods"], b"");
    assert_eq!((o.code, o.stderr.as_str()), (1, "error: ohdev stand-in: --context is required\n"));
    let o = crate::app::testing::call(&w.env, "kubectl", &["get", "pods", "--context=kind-nope"], b"");
    assert_eq!((o.code, o.stderr.as_str()), (1, "error: context \"kind-nope\" does not exist\n"));
    let v = crate::app::testing::call(&w.env, "kubectl", &["version", "--client", "-o", "json"], b"");
    let parsed: serde_json::Value = serde_json::from_str(&v.stdout).unwrap();
    assert_eq!(parsed["clientVersion"]["gitVersion"], "v1.32.4");
    assert_eq!(
        (parsed["clientVersion"]["major"].as_str(), parsed["clientVersion"]["minor"].as_str()),
        (Some("1"), Some("32"))
    );
}

#[test]
fn unknown_flags_and_commands_fail_like_kubectl() {
    let w = world("kubectl-flags");
    let o = w.kubectl("get pods --bogus", "");
    assert_eq!((o.code, o.stderr.as_str()), (1, "error: unknown flag: --bogus\nSee 'kubectl get --help' for usage.\n"));
    let o = w.kubectl("frobnicate", "");
    assert_eq!((o.code, o.stderr.as_str()), (1, "error: unknown command \"frobnicate\" for \"kubectl\"\n"));
    let o = w.kubectl("get widgets", "");
    assert_eq!(o.stderr, "error: the server doesn't have a resource type \"widgets\"\n");
}

#[test]
fn fresh_cluster_has_kinds_system_objects() {
    let w = World::new("kubectl-fresh");
    w.cluster("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n  labels:\n    tier: apps\n");
    let ns: Vec<String> = w.get("namespaces")["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ns, vec!["default", "kube-node-lease", "kube-public", "kube-system", "local-path-storage"]);
    assert_eq!(w.get("storageclass standard")["volumeBindingMode"], "WaitForFirstConsumer");
    let nodes = w.get("nodes");
    let items = nodes["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["metadata"]["labels"]["node-role.kubernetes.io/control-plane"], "");
    assert_eq!(items[1]["metadata"]["labels"]["tier"], "apps");
    assert_eq!(items[1]["metadata"]["labels"]["kubernetes.io/hostname"], "dev-worker");
    assert_eq!(items[1]["status"]["nodeInfo"]["kubeletVersion"], "v1.32.2");
    assert_eq!(condition(&items[1], "Ready").unwrap()["status"], "True");
    assert_eq!(items[0]["spec"]["taints"][0]["effect"], "NoSchedule");
    let dns = w.get("deploy coredns -n kube-system");
    assert_eq!(condition(&dns, "Available").unwrap()["status"], "True");
}

#[test]
fn node_images_list_what_kind_loaded() {
    let w = world("kubectl-node-images");
    assert_eq!(w.kind("load docker-image ohdev.local/app:1 --name dev").code, 0);
    let node = w.get("node dev-control-plane");
    assert_eq!(
        node["status"]["images"],
        json!([{"names": ["ohdev.local/app:1", format!("sha256:{}", "1".repeat(64))], "sizeBytes": 0}])
    );
}

#[test]
fn get_not_found_ignore_and_empty_lists() {
    let w = world("kubectl-get");
    let o = w.kubectl("get deployment nope -n app -o json", "");
    assert_eq!((o.code, o.stderr.as_str()), (1, "Error from server (NotFound): deployments.apps \"nope\" not found\n"));
    let o = w.kubectl("get pods nope -n app", "");
    assert_eq!(o.stderr, "Error from server (NotFound): pods \"nope\" not found\n");
    let o = w.kubectl("get deploy nope -n app --ignore-not-found -o json", "");
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "", ""));
    let empty = w.get("deployments -n app");
    assert_eq!(empty, json!({"apiVersion": "v1", "items": [], "kind": "List", "metadata": {"resourceVersion": ""}}));
    let o = w.kubectl("get pods -n app", "");
    assert_eq!(o.stderr, "No resources found in app namespace.\n");
    let o = w.kubectl("get ns/app -o name", "");
    assert_eq!(o.stdout, "namespace/app\n");
}

#[test]
fn api_resources_lists_builtins_and_established_crds() {
    let w = world("kubectl-discovery");
    let core = w.kubectl("api-resources --api-group= -o name", "");
    assert!(core.stdout.lines().any(|l| l == "pods"), "{}", core.stdout);
    let apps = w.kubectl("api-resources --api-group=apps -o name", "");
    assert_eq!(
        apps.stdout,
        "controllerrevisions.apps\ndaemonsets.apps\ndeployments.apps\nreplicasets.apps\nstatefulsets.apps\n"
            .replace("controllerrevisions.apps\n", "")
    );
    let none = w.kubectl("api-resources --api-group=example.com -o name", "");
    assert_eq!((none.code, none.stdout.as_str()), (0, ""));
}
