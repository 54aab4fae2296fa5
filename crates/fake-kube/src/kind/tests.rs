use crate::app::testing::{World, ONE_NODE};

const TWO_WORKERS: &str = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n  labels:\n    tier: apps\n- role: worker\n";

#[test]
fn create_get_delete_cluster_like_kind() {
    let w = World::new("kind-lifecycle");
    let none = w.kind("get clusters");
    assert_eq!((none.code, none.stdout.as_str(), none.stderr.as_str()), (0, "", "No kind clusters found.\n"));
    w.cluster(TWO_WORKERS);
    let path = w.dir.join("kind.yaml");
    let again = w.kind(&format!("create cluster --name dev --config {}", path.display()));
    assert_eq!(again.code, 1);
    assert_eq!(
        again.stderr,
        "ERROR: failed to create cluster: node(s) already exist for a cluster with the name \"dev\"\n"
    );
    assert_eq!(w.kind("get clusters").stdout, "dev\n");
    assert_eq!(w.kind("get nodes --name dev").stdout, "dev-control-plane\ndev-worker\ndev-worker2\n");
    let gone = w.kind("delete cluster --name dev");
    assert_eq!(gone.code, 0);
    assert_eq!(
        gone.stderr,
        "Deleting cluster \"dev\" ...\nDeleted nodes: [\"dev-control-plane\" \"dev-worker\" \"dev-worker2\"]\n"
    );
    let missing = w.kind("delete cluster --name dev");
    assert_eq!((missing.code, missing.stderr.as_str()), (0, "Deleting cluster \"dev\" ...\n"));
    assert_eq!(w.kind("get nodes --name dev").stderr, "No kind nodes found for cluster \"dev\".\n");
}

#[test]
fn create_prints_progress_and_writes_kubeconfig() {
    let w = World::new("kind-progress");
    let cfg = w.dir.join("c.yaml");
    std::fs::write(&cfg, TWO_WORKERS).unwrap();
    let kc = w.dir.join("kube/config");
    let o = w.kind(&format!(
        "create cluster --name dev --config {} --wait 2m --kubeconfig {}",
        cfg.display(),
        kc.display()
    ));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.starts_with("Creating cluster \"dev\" ...\n • Ensuring node image (kindest/node:v1.32.2) 🖼  ...\n ✓ Ensuring node image (kindest/node:v1.32.2) 🖼\n"), "{}", o.stderr);
    assert!(o.stderr.contains(" ✓ Preparing nodes 📦 📦 📦\n"));
    assert!(o.stderr.contains(" ✓ Joining worker nodes 🚜\n"));
    assert!(o.stderr.contains(" ✓ Waiting ≤ 2m0s for control-plane = Ready ⏳\n"));
    assert!(o.stderr.contains("Set kubectl context to \"kind-dev\""));
    assert_eq!(o.stdout, "");
    let text = std::fs::read_to_string(&kc).unwrap();
    assert!(text.contains("current-context: kind-dev"), "{text}");
    w.kind(&format!("delete cluster --name dev --kubeconfig {}", kc.display()));
    assert!(!std::fs::read_to_string(&kc).unwrap().contains("name: kind-dev"));
}

#[test]
fn create_rejects_bad_configs_and_busy_ports() {
    let w = World::new("kind-bad");
    let cfg = w.dir.join("c.yaml");
    std::fs::write(&cfg, "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha3\n").unwrap();
    let o = w.kind(&format!("create cluster --name dev --config {}", cfg.display()));
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (1, "ERROR: failed to create cluster: unknown apiVersion: kind.x-k8s.io/v1alpha3\n")
    );
    let missing = w.kind("create cluster --name dev --config /nope.yaml");
    assert_eq!(
        missing.stderr,
        "ERROR: failed to create cluster: error reading file: open /nope.yaml: no such file or directory\n"
    );
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    std::fs::write(&cfg, format!("{ONE_NODE}nodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: {port}\n    listenAddress: 127.0.0.1\n")).unwrap();
    let o = w.kind(&format!("create cluster --name dev --config {}", cfg.display()));
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains(&format!("listen tcp4 127.0.0.1:{port}: bind: address already in use")), "{}", o.stderr);
    assert!(o.stderr.contains(" ✗ Preparing nodes 📦\n"));
    assert_eq!(w.kind("get clusters").stderr, "No kind clusters found.\n", "a failed create leaves no cluster");
    let flag = w.kind("create cluster --nope");
    assert_eq!((flag.code, flag.stderr.as_str()), (1, "ERROR: unknown flag: --nope\n"));
}

#[test]
fn load_docker_image_records_ids_per_node() {
    let w = World::new("kind-load");
    let missing = w.kind("load docker-image ohdev.local/app:9 --name dev");
    assert_eq!(
        (missing.code, missing.stderr.as_str()),
        (1, "ERROR: image: \"ohdev.local/app:9\" not present locally\n")
    );
    let no_cluster = w.kind("load docker-image ohdev.local/app:1 --name dev");
    assert_eq!(no_cluster.stderr, "ERROR: no nodes found for cluster \"dev\"\n");
    w.cluster(TWO_WORKERS);
    let id1 = format!("sha256:{}", "1".repeat(64));
    let first = w.kind("load docker-image ohdev.local/app:1 --name dev --nodes dev-worker");
    assert_eq!(first.code, 0);
    assert_eq!(
        first.stderr,
        format!("Image: \"ohdev.local/app:1\" with ID \"{id1}\" not yet present on node \"dev-worker\", loading...\n")
    );
    let rest = w.kind("load docker-image ohdev.local/app:1 --name dev");
    assert_eq!(rest.stderr.lines().count(), 2, "{}", rest.stderr);
    assert!(
        rest.stderr.contains("not yet present on node \"dev-control-plane\"")
            && rest.stderr.contains("not yet present on node \"dev-worker2\"")
    );
    let again = w.kind("load docker-image ohdev.local/app:1 --name dev");
    assert_eq!(
        again.stderr,
        format!("Image: \"ohdev.local/app:1\" with ID \"{id1}\" found to be already present on all nodes.\n")
    );
    let alias = w.kind("load docker-image ohdev.local/app:1-alias --name dev --nodes dev-worker");
    assert_eq!(alias.stderr, format!("Image with ID: {id1} already present on the node dev-worker but is missing the tag ohdev.local/app:1-alias. re-tagging...\n"));
    let bad_node = w.kind("load docker-image ohdev.local/app:1 --name dev --nodes nope");
    assert_eq!(bad_node.stderr, "ERROR: unknown node: \"nope\"\n");
    let state = crate::state::Store::new(&w.dir).load().unwrap();
    let worker = &state.clusters["dev"].nodes[1];
    assert_eq!(worker.images["ohdev.local/app:1"], id1);
}

#[test]
fn load_asks_the_real_docker_engine() {
    let w = World::new("kind-docker");
    let mut env = crate::app::Env::for_test(&w.dir);
    env.docker_bin = "docker".into();
    let o = crate::app::testing::call(
        &env,
        "kind",
        &["load", "docker-image", "ohdev-test/never-built:none", "--name", "dev"],
        b"",
    );
    assert_eq!((o.code, o.stderr.as_str()), (1, "ERROR: image: \"ohdev-test/never-built:none\" not present locally\n"));
    let calls = std::fs::read_to_string(w.dir.join("calls.jsonl")).unwrap();
    assert!(calls.contains("never-built"));
}

#[test]
fn version_and_unknown_commands() {
    let w = World::new("kind-version");
    assert_eq!(w.kind("version").stdout, "kind v0.27.0 go1.23.4 linux/amd64\n");
    let o = w.kind("explode");
    assert_eq!((o.code, o.stderr.as_str()), (1, "ERROR: unknown command \"explode\" for \"kind\"\n"));
}
