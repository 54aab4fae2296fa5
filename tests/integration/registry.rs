//! Images through a registry: the real distribution registry (support/registry.rs), real Docker
//! pushes, fake-kube's node containers on the `kind` network, and registry-aware image pulls.
//! Every test removes the containers and images it made (guards), also when it fails.

use std::process::Command;

use serde_json::Value;

use crate::support::registry::{self, Api, Containers};
use crate::support::{busybox, docker, json_lines, Output, Test};

/// Removes the images ohdev built for `image` (by its label), also when the test panics.
pub(crate) struct Images(pub(crate) String);

impl Drop for Images {
    fn drop(&mut self) {
        let ids = docker_out(&["images", "-q", "--filter", &format!("label=dev.ohdev.image={}", self.0)]);
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let _ = Command::new("docker").args(["rmi", "-f"]).args(&ids).output();
        }
    }
}

fn docker_out(args: &[&str]) -> String {
    let output = Command::new("docker").args(args).output().expect("docker runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[track_caller]
fn docker_ok(args: &[&str]) -> String {
    let output = Command::new("docker").args(args).output().expect("docker runs");
    assert!(output.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn inspect(container: &str) -> Option<Value> {
    let output = Command::new("docker").args(["inspect", container]).output().expect("docker inspect");
    output.status.success().then(|| serde_json::from_slice::<Value>(&output.stdout).expect("json")[0].clone())
}

/// What everything here needs: the busybox base, the registry image and the node image.
pub(crate) struct Fixtures {
    base: String,
    registry_image: String,
    node_image: String,
}

pub(crate) fn fixtures() -> Option<Fixtures> {
    docker::client()?;
    Some(Fixtures {
        base: busybox::base_image()?,
        registry_image: registry::registry_image()?,
        node_image: registry::node_image()?,
    })
}

/// The demo (examples/demo) as a test project: its Dockerfile, sources and manifests, its image
/// renamed `image` (so parallel tests never share one), built on the busybox base, cluster `cluster`.
pub(crate) fn demo(fixtures: &Fixtures, cluster: &str, image: &str, registry: &str) -> Test {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
    let mut test = Test::new();
    for dir in ["app", "web", "kind/manifests"] {
        for entry in std::fs::read_dir(repo.join(dir)).expect("demo dir") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("demo file");
            let text = text.replace("image: demo\n", &format!("image: {image}\n"));
            test.write(&format!("{dir}/{}", path.file_name().expect("name").to_string_lossy()), &text);
        }
    }
    test.write("Dockerfile", &std::fs::read_to_string(repo.join("Dockerfile")).expect("Dockerfile"));
    test.write(".dockerignore", ".fake-kube\n.bin\n");
    test.write(
        "ohdev.yaml",
        &format!(
            "cluster: {{name: {cluster}}}\nnamespace: ohdev-demo\nimages:\n  {image}:\n    context: .\n    dockerfile: Dockerfile\n    target: app\n    build_args: {{DEMO_VERSION: dev, BASE: \"{}\"}}\nmanifests: [kind/manifests]\n{registry}",
            fixtures.base
        ),
    );
    test = test.env("FAKE_KUBE_NODE_IMAGE", &fixtures.node_image);
    test
}

fn registry_yaml(port: u16, image: &str) -> String {
    format!("registry:\n  host: localhost:{port}\n  image: {image}\n")
}

/// (image, tag, state) of every `image` event.
fn image_events(output: &Output) -> Vec<(String, String, String)> {
    json_lines(&output.stdout)
        .into_iter()
        .filter(|event| event["type"] == "image")
        .map(|event| {
            let text = |key: &str| event[key].as_str().unwrap_or_default().to_string();
            (text("image"), text("tag"), text("state"))
        })
        .collect()
}

pub(crate) fn states(output: &Output) -> Vec<String> {
    image_events(output).into_iter().map(|(_, _, state)| state).collect()
}

pub(crate) fn content_tag_of(output: &Output) -> String {
    let (_, tag, _) = image_events(output)
        .into_iter()
        .find(|(_, _, state)| state == "built" || state == "up_to_date")
        .expect("a built image");
    tag.rsplit_once(':').expect("tag").1.to_string()
}

fn step(output: &Output, id: &str) -> Value {
    json_lines(&output.stdout)
        .into_iter()
        .rfind(|event| event["type"] == "step" && event["id"] == id)
        .unwrap_or_else(|| panic!("no step {id}: {}", output.stdout))
}

fn kubectl_json(test: &Test, context: &str, args: &[&str]) -> Value {
    let output =
        test.tool("kubectl").args(["--context", context]).args(args).args(["-o", "json"]).output().expect("kubectl");
    assert!(output.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("json")
}

fn deployment_image(test: &Test, context: &str) -> String {
    let deployment = kubectl_json(test, context, &["get", "deployment", "demo", "-n", "ohdev-demo"]);
    deployment["spec"]["template"]["spec"]["containers"][0]["image"].as_str().expect("image").to_string()
}

/// Blobs (layers, configs, manifests) the registry container stores.
fn blob_digests(container: &str) -> std::collections::BTreeSet<String> {
    docker_ok(&["exec", container, "find", "/var/lib/registry/docker/registry/v2/blobs", "-name", "data"])
        .lines()
        .filter_map(|line| line.rsplit('/').nth(1).map(str::to_string))
        .collect()
}

/// The inode of a file in a container (a rewrite through a temp file and `mv` changes it).
fn inode(container: &str, path: &str) -> String {
    docker_ok(&["exec", container, "stat", "-c", "%i", path]).trim().to_string()
}

#[test]
fn up_with_a_registry_wires_kind_pushes_and_deploys_without_kind_load_and_a_second_up_changes_nothing() {
    let Some(fixtures) = fixtures() else { return };
    let id = docker::unique();
    let (cluster, image, port) = (format!("reg-{id}"), format!("demo-{id}"), registry::free_port());
    let container = format!("ohdev-registry-{port}");
    let node = format!("{cluster}-control-plane");
    let mut guard = Containers::default();
    guard.add(&container);
    guard.add(&node);
    let _images = Images(image.clone());
    let mut test =
        demo(&fixtures, &cluster, &image, &registry_yaml(port, &fixtures.registry_image)).args(&["--json", "up"]);
    let context = format!("kind-{cluster}");
    let host = format!("localhost:{port}");

    let first = test.expect(0);
    assert_eq!(states(&first), ["building", "built", "pushing", "pushed"], "{}", first.stdout);
    assert!(test.calls_matching("load docker-image").is_empty(), "{:?}", test.calls());
    let tag = content_tag_of(&first);
    // The push shows on the image's bar: bytes sent of the layers' total.
    let pushing: Vec<Value> = json_lines(&first.stdout)
        .into_iter()
        .filter(|event| {
            event["type"] == "progress" && event["id"] == format!("image:{image}") && event["unit"] == "bytes"
        })
        .filter(|event| event["text"] == format!("pushing to localhost:{port}"))
        .collect();
    assert!(!pushing.is_empty(), "no push progress: {}", first.stdout);
    let last = pushing.last().expect("progress");
    assert!(last["current"].as_u64() <= last["total"].as_u64() && last["total"].as_u64() > Some(1), "{last}");

    // The container: labelled, loopback only, restarted with Docker, deletes enabled, on `kind`.
    let inspected = inspect(&container).expect("ohdev created the registry container");
    assert_eq!(inspected["Config"]["Labels"]["app.kubernetes.io/managed-by"], "ohdev");
    assert_eq!(inspected["Config"]["Labels"]["dev.ohdev.registry"], port.to_string());
    assert_eq!(inspected["Config"]["Image"], fixtures.registry_image.as_str());
    assert_eq!(
        inspected["HostConfig"]["PortBindings"],
        serde_json::json!({"5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": port.to_string()}]})
    );
    assert_eq!(inspected["HostConfig"]["RestartPolicy"]["Name"], "always");
    assert!(
        inspected["Config"]["Env"]
            .as_array()
            .expect("env")
            .iter()
            .any(|env| env == "REGISTRY_STORAGE_DELETE_ENABLED=true"),
        "{}",
        inspected["Config"]["Env"]
    );
    assert!(inspected["NetworkSettings"]["Networks"].get("kind").is_some(), "not on the kind network");
    let container_id = inspected["Id"].as_str().expect("id").to_string();

    // The node pulls `localhost:<port>` from the container; the cluster advertises the registry.
    let hosts_toml = format!("/etc/containerd/certs.d/{host}/hosts.toml");
    let written = docker_ok(&["exec", &node, "cat", &hosts_toml]);
    assert!(written.contains(&format!("[host.\"http://{container}:5000\"]")), "{written}");
    let config_map =
        kubectl_json(&test, &context, &["get", "configmap", "local-registry-hosting", "-n", "kube-public"]);
    let advertised = config_map["data"]["localRegistryHosting.v1"].as_str().expect("KEP-1755 data");
    assert!(advertised.starts_with(&format!("host: {host}\nhelp: ")), "{advertised}");

    // Pushed, and the manifests name the registry reference.
    let api = Api::new(port);
    assert_eq!(api.tags(&image), std::slice::from_ref(&tag));
    assert_eq!(deployment_image(&test, &context), format!("{host}/{image}:{tag}"));
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(test.project().join(".ohdev/state.json")).expect("state"))
            .expect("json");
    assert_eq!(state["images"][&image]["pushed"][&host]["reference"], format!("{host}/{image}:{tag}"));

    // A second up: no push, no container change, no hosts.toml write, nothing sent to the registry.
    let node_inode = inode(&node, &hosts_toml);
    let first_applies = test.calls_matching(" apply ").len();
    let blobs = blob_digests(&container);
    let second = test.expect(0);
    assert_eq!(states(&second), ["up_to_date", "already_pushed"], "{}", second.stdout);
    assert_eq!(step(&second, "registry")["state"], "skipped", "{}", second.stdout);
    assert_eq!(step(&second, "registry-wiring")["state"], "skipped", "{}", second.stdout);
    assert_eq!(inspect(&container).expect("container")["Id"], container_id.as_str());
    assert_eq!(inode(&node, &hosts_toml), node_inode, "hosts.toml was rewritten");
    assert_eq!(blob_digests(&container), blobs);
    assert!(test.calls_matching("load docker-image").is_empty());
    // The KEP-1755 ConfigMap was read again, not re-applied: the second up applies one object
    // fewer than the first (which applied the manifests' objects and the ConfigMap).
    let applies = test.calls_matching(" apply ").len();
    assert_eq!(applies - first_applies, first_applies - 1, "{:?}", test.calls());
    // Read by each up, and once by this test.
    assert_eq!(test.calls_matching("get configmap local-registry-hosting").len(), 3);

    // A one-line change of the app: exactly one new layer, plus the image config and the manifest.
    let old_layers: Vec<String> = api.layers(&image, &tag).into_iter().map(|(digest, _)| digest).collect();
    let server = test.project().join("app/server.py");
    let mut text = std::fs::read_to_string(&server).expect("server.py");
    text.push_str("# one more line\n");
    test.write("app/server.py", &text);
    let third = test.expect(0);
    assert_eq!(states(&third), ["building", "built", "pushing", "pushed"], "{}", third.stdout);
    let new_tag = content_tag_of(&third);
    assert_ne!(new_tag, tag);
    let new_layers: Vec<String> = api.layers(&image, &new_tag).into_iter().map(|(digest, _)| digest).collect();
    let changed: Vec<&String> = new_layers.iter().filter(|layer| !old_layers.contains(layer)).collect();
    assert_eq!(changed.len(), 1, "old {old_layers:?}\nnew {new_layers:?}");
    let grown: Vec<String> = blob_digests(&container).difference(&blobs).cloned().collect();
    assert_eq!(grown.len(), 3, "one layer, the config and the manifest: {grown:?}");
    assert!(grown.iter().any(|digest| changed[0].ends_with(digest.as_str())), "{grown:?} lacks {changed:?}");
    let pushed = image_events(&third).into_iter().find(|(_, _, state)| state == "pushed").expect("pushed");
    assert_eq!(pushed.1, format!("{host}/{image}:{new_tag}"));
    assert_eq!(deployment_image(&test, &context), format!("{host}/{image}:{new_tag}"));
    assert!(test.calls_matching("load docker-image").is_empty());

    // `ohdev rebuild` with nothing changed: nothing built, pushed or re-applied.
    test.set_args(&["--json", "rebuild"]);
    let rebuilt = test.expect(0);
    assert_eq!(states(&rebuilt), ["up_to_date", "already_pushed"], "{}", rebuilt.stdout);
    assert!(rebuilt.stdout.contains("no object changed: nothing to re-apply"), "{}", rebuilt.stdout);
    assert_eq!(deployment_image(&test, &context), format!("{host}/{image}:{new_tag}"));
    assert!(test.calls_matching("load docker-image").is_empty());

    // `ohdev status` names the registry and where the image is.
    test.set_args(&["status"]);
    let status = test.expect(0);
    assert!(
        status.stdout.contains(&format!("registry {host} (from ohdev.yaml, container {container}): answering")),
        "{}",
        status.stdout
    );
    assert!(status.stdout.contains(&format!("pushed as {host}/{image}:{new_tag}")), "{}", status.stdout);

    // `ohdev down` deletes the cluster, leaves the registry running and says so.
    test.set_args(&["down", "--yes"]);
    let down = test.expect(0);
    assert!(
        down.stdout.contains(&format!("the registry at {host} (container {container}) keeps running")),
        "{}",
        down.stdout
    );
    assert!(down.stdout.contains(&format!("`docker rm -f {container}` removes it")), "{}", down.stdout);
    assert_eq!(inspect(&container).expect("registry still there")["State"]["Running"], true);
    assert_eq!(api.tags(&image).len(), 2);
}

#[test]
fn a_registry_already_answering_on_the_port_is_used_not_replaced() {
    let Some(fixtures) = fixtures() else { return };
    let id = docker::unique();
    let (cluster, image, port) = (format!("reg-{id}"), format!("demo-{id}"), registry::free_port());
    let theirs = format!("someone-elses-registry-{id}");
    let node = format!("{cluster}-control-plane");
    let mut guard = Containers::default();
    guard.add(format!("ohdev-registry-{port}"));
    guard.add(&node);
    let _images = Images(image.clone());
    let api = registry::start_registry(&theirs, port, &mut guard);
    let their_id = inspect(&theirs).expect("their registry")["Id"].as_str().expect("id").to_string();
    let test =
        demo(&fixtures, &cluster, &image, &registry_yaml(port, "registry:not-needed-here")).args(&["--json", "up"]);

    let up = test.expect(0);
    assert!(inspect(&format!("ohdev-registry-{port}")).is_none(), "ohdev started a second registry");
    let detail = step(&up, "registry")["detail"].as_str().unwrap_or_default().to_string();
    assert_eq!(detail, format!("already running in container {theirs}, not started by ohdev"));
    let inspected = inspect(&theirs).expect("their registry");
    assert_eq!(inspected["Id"], their_id.as_str(), "replaced");
    assert!(inspected["NetworkSettings"]["Networks"].get("kind").is_some(), "not connected to kind");
    let written = docker_ok(&["exec", &node, "cat", &format!("/etc/containerd/certs.d/localhost:{port}/hosts.toml")]);
    assert!(written.contains(&format!("[host.\"http://{theirs}:5000\"]")), "{written}");
    let config_map = kubectl_json(
        &test,
        &format!("kind-{cluster}"),
        &["get", "configmap", "local-registry-hosting", "-n", "kube-public"],
    );
    let advertised = config_map["data"]["localRegistryHosting.v1"].as_str().expect("KEP-1755 data");
    assert!(
        advertised.contains(&format!("the container {theirs}, which ohdev uses but did not start")),
        "{advertised}"
    );
    assert_eq!(api.tags(&image), [content_tag_of(&up)]);
    assert!(test.calls_matching("load docker-image").is_empty());
}

/// An HTTP server on loopback that answers 404 to everything (a web app on the port).
fn web_server() -> (u16, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            use std::io::{Read, Write};
            let mut buffer = [0u8; 2048];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nServer: test-web\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (port, handle)
}

#[test]
fn a_port_taken_by_something_that_is_not_a_registry_is_exit_2_and_nothing_changes() {
    let Some(fixtures) = fixtures() else { return };
    let id = docker::unique();
    let (cluster, image) = (format!("reg-{id}"), format!("demo-{id}"));
    let (port, _server) = web_server();
    let mut guard = Containers::default();
    guard.add(format!("ohdev-registry-{port}"));
    guard.add(format!("{cluster}-control-plane"));
    let _images = Images(image.clone());
    let mut test = demo(&fixtures, &cluster, &image, &registry_yaml(port, &fixtures.registry_image)).args(&["up"]);
    let output = test.expect(2);
    assert!(
        output.stderr.contains(&format!(
            "port {port} (registry.host `localhost:{port}` in {}) is taken by something that is not a registry: it answers HTTP 404 (server test-web) to `GET /v2/`",
            test.project().join("ohdev.yaml").display()
        )),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains(&format!("ss -ltnp 'sport = :{port}'")), "{}", output.stderr);
    let mutating: Vec<String> = test
        .calls()
        .iter()
        .map(|call| call.line())
        .filter(|line| line.contains("create") || line.contains("apply") || line.contains("load"))
        .collect();
    assert!(mutating.is_empty(), "{mutating:?}");
    assert!(inspect(&format!("ohdev-registry-{port}")).is_none());
    assert!(
        docker_out(&["images", "-q", "--filter", &format!("label=dev.ohdev.image={image}")]).trim().is_empty(),
        "built"
    );
    // `ohdev build` refuses the same way, before building.
    test.set_args(&["build"]);
    let build = test.expect(2);
    assert!(build.stderr.contains("is taken by something that is not a registry"), "{}", build.stderr);
    assert!(
        docker_out(&["images", "-q", "--filter", &format!("label=dev.ohdev.image={image}")]).trim().is_empty(),
        "built"
    );
}

#[test]
fn a_registry_the_cluster_advertises_is_used_as_is() {
    let Some(fixtures) = fixtures() else { return };
    let id = docker::unique();
    let (cluster, image, port) = (format!("reg-{id}"), format!("demo-{id}"), registry::free_port());
    let theirs = format!("ctlptl-registry-{id}");
    let mut guard = Containers::default();
    guard.add(format!("{cluster}-control-plane"));
    let _images = Images(image.clone());
    let api = registry::start_registry(&theirs, port, &mut guard);
    // No node containers here: the stand-in then checks only that the registry has the image.
    let test = demo(&fixtures, &cluster, &image, "").env("FAKE_KUBE_NODE_IMAGE", "").args(&["--json", "up"]);
    let context = format!("kind-{cluster}");
    let created = test
        .tool("kind")
        .env_remove("FAKE_KUBE_NODE_IMAGE")
        .args(["create", "cluster", "--name", &cluster])
        .output()
        .expect("kind");
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let hosting = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: local-registry-hosting, namespace: kube-public}}\ndata:\n  localRegistryHosting.v1: |\n    host: \"localhost:{port}\"\n    hostFromContainerRuntime: \"{theirs}:5000\"\n    help: \"ask the platform team ({id})\"\n"
    );
    let mut apply = test.tool("kubectl");
    apply
        .args(["--context", &context, "apply", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null());
    let mut child = apply.spawn().expect("kubectl");
    use std::io::Write;
    child.stdin.take().expect("stdin").write_all(hosting.as_bytes()).expect("write");
    assert!(child.wait().expect("apply").success());

    let up = test.expect(0);
    let tag = content_tag_of(&up);
    assert_eq!(states(&up), ["building", "built", "pushing", "pushed"], "{}", up.stdout);
    assert_eq!(api.tags(&image), std::slice::from_ref(&tag), "pushed to the advertised host");
    assert_eq!(deployment_image(&test, &context), format!("{theirs}:5000/{image}:{tag}"), "hostFromContainerRuntime");
    assert!(test.calls_matching("load docker-image").is_empty());
    assert!(!up.stdout.contains("kind load"), "no registry suggestion when one is in use: {}", up.stdout);

    // A failed push says why and repeats the advertisement's help.
    docker_ok(&["stop", &theirs]);
    test.write(
        "app/server.py",
        &format!("{}# changed\n", std::fs::read_to_string(test.project().join("app/server.py")).expect("read")),
    );
    let failed = test.expect(1);
    assert!(failed.stderr.contains(&format!("registry localhost:{port}:")), "{}", failed.stderr);
    assert!(failed.stderr.contains(&format!("its help: ask the platform team ({id})")), "{}", failed.stderr);
}

#[test]
fn build_pushes_when_a_registry_is_configured_without_any_cluster() {
    let Some(fixtures) = fixtures() else { return };
    let id = docker::unique();
    let (image, port) = (format!("demo-{id}"), registry::free_port());
    let container = format!("ohdev-registry-{port}");
    let mut guard = Containers::default();
    guard.add(&container);
    let _images = Images(image.clone());
    let test =
        demo(&fixtures, "unused", &image, &registry_yaml(port, &fixtures.registry_image)).args(&["--json", "build"]);
    let built = test.expect(0);
    assert_eq!(states(&built), ["building", "built", "pushing", "pushed"], "{}", built.stdout);
    assert!(test.calls().is_empty(), "a build needs no cluster: {:?}", test.calls());
    assert_eq!(Api::new(port).tags(&image), [content_tag_of(&built)]);
    assert_eq!(inspect(&container).expect("started")["State"]["Running"], true);
    let again = test.expect(0);
    assert_eq!(states(&again), ["up_to_date", "already_pushed"], "{}", again.stdout);
}

#[test]
fn without_a_registry_up_suggests_one_once() {
    let Some(fixtures) = fixtures() else { return };
    let id = docker::unique();
    let (cluster, image) = (format!("reg-{id}"), format!("demo-{id}"));
    let mut guard = Containers::default();
    guard.add(format!("{cluster}-control-plane"));
    let _images = Images(image.clone());
    let test = demo(&fixtures, &cluster, &image, "").env("FAKE_KUBE_NODE_IMAGE", "").args(&["up"]);
    let first = test.expect(0);
    assert_eq!(test.calls_matching("load docker-image").len(), 1, "kind load stays the path");
    let suggestion = "a local registry ships only the changed layers";
    assert!(first.stdout.contains(suggestion), "{}", first.stdout);
    assert!(first.stdout.contains("registry:\n      host: localhost:5001"), "{}", first.stdout);
    let second = test.expect(0);
    assert!(!second.stdout.contains(suggestion), "said twice: {}", second.stdout);
}

#[test]
fn an_older_kind_needs_the_containerd_patch_in_cluster_yaml_before_anything_changes() {
    let Some(fixtures) = fixtures() else { return };
    let id = docker::unique();
    let (cluster, image, port) = (format!("reg-{id}"), format!("demo-{id}"), registry::free_port());
    let container = format!("ohdev-registry-{port}");
    let mut guard = Containers::default();
    guard.add(&container);
    guard.add(format!("{cluster}-control-plane"));
    let _images = Images(image.clone());
    let mut test = demo(&fixtures, &cluster, &image, &registry_yaml(port, &fixtures.registry_image))
        .env("FAKE_KUBE_KIND_VERSION", "v0.26.0")
        .args(&["up"]);
    let refused = test.expect(2);
    let cluster_yaml = test.project().join("kind/cluster.yaml");
    assert!(
        refused.stderr.contains(&format!(
            "{}: kind v0.26.0 does not read /etc/containerd/certs.d by default (kind ≥ 0.27 does), so the nodes could not pull from the registry at localhost:{port}",
            cluster_yaml.display()
        )),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("config_path = \"/etc/containerd/certs.d\""), "{}", refused.stderr);
    let changed: Vec<String> = test
        .calls()
        .iter()
        .map(|call| call.line())
        .filter(|line| line.contains("create") || line.contains("apply") || line.contains("load"))
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
    assert!(inspect(&container).is_none(), "the registry was started");
    assert!(docker_out(&["images", "-q", "--filter", &format!("label=dev.ohdev.image={image}")]).trim().is_empty());

    // With the patch the same kind goes ahead.
    let text = std::fs::read_to_string(&cluster_yaml).expect("cluster.yaml");
    test.write(
        "kind/cluster.yaml",
        &format!("{text}containerdConfigPatches:\n  - |-\n    [plugins.\"io.containerd.grpc.v1.cri\".registry]\n      config_path = \"/etc/containerd/certs.d\"\n"),
    );
    test.set_args(&["up"]);
    test.expect(0);
    assert_eq!(Api::new(port).tags(&image).len(), 1);
}

#[test]
fn a_failed_push_says_why_and_is_not_recorded_as_pushed() {
    let Some(fixtures) = fixtures() else { return };
    let id = docker::unique();
    let (image, port) = (format!("demo-{id}"), registry::free_port());
    let read_only = format!("read-only-registry-{id}");
    let mut guard = Containers::default();
    guard.add(&read_only);
    guard.add(format!("ohdev-registry-{port}"));
    let _images = Images(image.clone());
    // A registry in maintenance (read-only) mode: it answers the API, and refuses every upload.
    docker_ok(&[
        "run",
        "-d",
        "--name",
        &read_only,
        "-p",
        &format!("127.0.0.1:{port}:5000"),
        "-e",
        r#"REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled": true}"#,
        &fixtures.registry_image,
    ]);
    Api::new(port).wait_until_up();
    let test = demo(&fixtures, "unused", &image, &registry_yaml(port, &fixtures.registry_image)).args(&["build"]);
    let failed = test.expect(1);
    assert!(
        failed.stderr.contains(&format!("pushing localhost:{port}/{image}:")) && failed.stderr.contains("failed:"),
        "{}",
        failed.stderr
    );
    assert!(failed.stderr.contains("405"), "the registry's answer: {}", failed.stderr);
    assert!(failed.stderr.contains(&format!("curl -si http://localhost:{port}/v2/")), "{}", failed.stderr);
    assert!(inspect(&format!("ohdev-registry-{port}")).is_none(), "a second registry was started");
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(test.project().join(".ohdev/state.json")).expect("state"))
            .expect("json");
    assert!(state["images"][&image].get("pushed").is_none(), "recorded as pushed: {}", state["images"][&image]);
}

#[test]
fn a_rebuild_of_one_image_builds_and_pushes_only_that_image() {
    // `rebuild NAME` works on a subset: the named image (and the images its objects run) is built
    // and pushed; another image of ohdev.yaml is neither built nor started in the registry.
    let Some(fixtures) = fixtures() else { return };
    let id = docker::unique();
    let (cluster, port) = (format!("reg-{id}"), registry::free_port());
    let (one, two) = (format!("one-{id}"), format!("two-{id}"));
    let mut guard = Containers::default();
    guard.add(format!("ohdev-registry-{port}"));
    guard.add(format!("{cluster}-control-plane"));
    let (_one, _two) = (Images(one.clone()), Images(two.clone()));
    let base = &fixtures.base;
    let test = Test::new()
        .file(
            "ohdev.yaml",
            &format!(
                "cluster: {{name: {cluster}}}\nimages:\n  {one}: {{context: one, build_args: {{BASE: \"{base}\"}}}}\n  {two}: {{context: two, build_args: {{BASE: \"{base}\"}}}}\nmanifests: []\n{}",
                registry_yaml(port, &fixtures.registry_image)
            ),
        )
        .file("one/Dockerfile", "ARG BASE\nFROM ${BASE}\nCOPY . /one\n")
        .file("two/Dockerfile", "ARG BASE\nFROM ${BASE}\nCOPY . /two\n")
        .env("FAKE_KUBE_NODE_IMAGE", &fixtures.node_image)
        .args(&["rebuild", &one]);
    let created = test.tool("kind").args(["create", "cluster", "--name", &cluster]).output().expect("kind");
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    test.expect(0);
    assert!(!docker_out(&["images", "-q", "--filter", &format!("label=dev.ohdev.image={one}")]).trim().is_empty());
    assert!(docker_out(&["images", "-q", "--filter", &format!("label=dev.ohdev.image={two}")]).trim().is_empty());
    let api = registry::Api::new(port);
    assert_eq!(api.tags(&one).len(), 1, "the named image is pushed");
    assert!(api.tags(&two).is_empty(), "the other image is not pushed");
    assert!(test.calls_matching("load docker-image").is_empty(), "nothing is kind-loaded");
}
