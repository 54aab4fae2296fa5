//! Bad input, table-driven: every case writes a project with one thing wrong (ohdev.yaml,
//! kind/cluster.yaml, a manifest, a Dockerfile or ignore file, a path, a flag, the state
//! directory), runs one command, and asserts what the project promises for bad input:
//!
//! - exit code 2 and a message naming the file, the line or key, and the fix (expected substrings,
//!   and one snapshot per case, named after it);
//! - zero mutations: no kind or kubectl call other than read-only ones ([`mutating_calls`]), no
//!   image built and no container created for the case (every case's image names and Dockerfile
//!   label carry a token of its own, `{id}` in the tables, so parallel tests cannot be mistaken for
//!   it), and `.ohdev/state.json` untouched.
//!
//! One `#[test]` per area loops over the area's cases and reports every failing case at the end.

use std::collections::{BTreeSet, HashMap};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::ohdev_snapshot;
use crate::support::docker::{unique, with_docker};
use crate::support::{docker, fake_kube_binary, Output, Test};

/// Replaced in file contents, arguments and expected texts by the case's own token.
const ID: &str = "{id}";
/// A Dockerfile that builds instantly if a bug lets it build, labelled with the case's token.
const DOCKERFILE: &str = "FROM scratch\nLABEL dev.ohdev.case={id}\n";
/// How long one run may take before it counts as hung (a case that validates takes milliseconds).
const RUN_LIMIT: Duration = Duration::from_secs(20);

// ------------------------------------------------------------------------------------------
// The case type

/// What exists before the command runs, besides the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    None,
    /// The kind cluster `t` exists (created through the stand-in): for `rebuild` and `watch`.
    Cluster,
    /// Another ohdev holds the project's lock (an `ohdev build` whose prebuild waits).
    LockHeld,
}

struct Case {
    name: String,
    /// Relative path → content (`None`: remove the file Test::new wrote).
    files: Vec<(String, Option<String>)>,
    dirs: Vec<String>,
    args: Vec<String>,
    in_dir: Option<String>,
    expect: Vec<String>,
    /// The command reaches Docker (after validation, or because the bad input is found later).
    docker: bool,
    setup: Setup,
}

fn case(name: &str, args: &[&str]) -> Case {
    Case {
        name: name.to_string(),
        files: Vec::new(),
        dirs: Vec::new(),
        args: args.iter().map(|arg| arg.to_string()).collect(),
        in_dir: None,
        expect: Vec::new(),
        docker: false,
        setup: Setup::None,
    }
}

impl Case {
    fn file(mut self, path: &str, content: &str) -> Case {
        self.files.push((path.to_string(), Some(content.to_string())));
        self
    }

    fn config(self, content: &str) -> Case {
        self.file("ohdev.yaml", content)
    }

    fn cluster(self, content: &str) -> Case {
        self.file("kind/cluster.yaml", content)
    }

    fn manifest(self, content: &str) -> Case {
        self.file("k8s/m.yaml", content)
    }

    fn dockerfile(self) -> Case {
        self.file("Dockerfile", DOCKERFILE)
    }

    fn remove(mut self, path: &str) -> Case {
        self.files.push((path.to_string(), None));
        self
    }

    fn dir(mut self, path: &str) -> Case {
        self.dirs.push(path.to_string());
        self
    }

    fn in_dir(mut self, path: &str) -> Case {
        self.in_dir = Some(path.to_string());
        self
    }

    fn expect(mut self, text: &str) -> Case {
        self.expect.push(text.to_string());
        self
    }

    fn docker(mut self) -> Case {
        self.docker = true;
        self
    }

    fn setup(mut self, setup: Setup) -> Case {
        self.setup = setup;
        if setup != Setup::None {
            self.docker = true;
        }
        self
    }
}

// ------------------------------------------------------------------------------------------
// Running an area

fn docker_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| docker::client().is_some())
}

/// Runs every case of an area; panics once at the end, listing every case that failed.
fn run_area(area: &str, cases: Vec<Case>) {
    let started = Instant::now();
    let mut names = BTreeSet::new();
    let mut failures = Vec::new();
    let (mut ran, mut skipped) = (0, 0);
    for case in &cases {
        assert!(names.insert(case.name.clone()), "two cases are named {}", case.name);
        assert!(!case.expect.is_empty(), "case {} expects nothing", case.name);
        if case.docker && !docker_available() {
            eprintln!("SKIPPED {area}/{}: needs a Docker daemon", case.name);
            skipped += 1;
            continue;
        }
        ran += 1;
        if let Err(problems) = run_case(case) {
            failures.push(format!("── {}:\n{problems}", case.name));
        }
    }
    eprintln!("{area}: {ran} case(s) ran, {skipped} skipped, in {:.1?}", started.elapsed());
    assert!(failures.is_empty(), "{} of {} {area} case(s) failed:\n{}", failures.len(), ran, failures.join("\n"));
}

fn run_case(case: &Case) -> Result<(), String> {
    let id = format!("c{}", unique());
    let with_id = |text: &str| text.replace(ID, &id);
    let mut test = Test::new();
    for (path, content) in &case.files {
        match content {
            Some(content) => test.write(path, &with_id(content)),
            None => std::fs::remove_file(test.project().join(path)).expect("remove a project file"),
        }
    }
    for dir in &case.dirs {
        std::fs::create_dir_all(test.project().join(dir)).expect("mkdir");
    }
    if let Some(dir) = &case.in_dir {
        test = test.in_dir(dir);
    }
    let holder = match case.setup {
        Setup::None => None,
        Setup::Cluster => {
            create_cluster(&test);
            None
        }
        Setup::LockHeld => Some(LockHolder::start(&mut test)?),
    };
    let args: Vec<String> = case.args.iter().map(|arg| with_id(arg)).collect();
    test.set_args(&args.iter().map(String::as_str).collect::<Vec<_>>());

    // What a setup did to the stand-ins (creating the cluster) is not the case's doing.
    let _ = std::fs::remove_file(test.state_dir().join("calls.jsonl"));
    let state_file = test.project().join(".ohdev/state.json");
    let state_before = std::fs::read(&state_file).ok();
    let docker_before = docker_available().then(|| docker_traces(&id));
    let (output, hung) = run_with_limit(&test, RUN_LIMIT);
    drop(holder);

    let mut problems = Vec::new();
    if hung {
        problems.push(format!("did not finish within {RUN_LIMIT:?} and was stopped"));
    }
    if output.code != 2 {
        problems.push(format!("exit code {}, not 2", output.code));
    }
    for expected in &case.expect {
        let expected = with_id(expected).replace("[PROJECT]", &test.project().display().to_string());
        if !output.stderr.contains(&expected) {
            problems.push(format!("stderr lacks {expected:?}"));
        }
    }
    let mutating = mutating_calls(&test);
    if !mutating.is_empty() {
        problems.push(format!("mutating calls: {mutating:?}"));
    }
    if std::fs::read(&state_file).ok() != state_before {
        problems.push(".ohdev/state.json was written".to_string());
    }
    if let Some(before) = docker_before {
        let after = docker_traces(&id);
        let new: Vec<&String> = after.difference(&before).collect();
        if !new.is_empty() {
            problems.push(format!("Docker has new images or containers of this case: {new:?}"));
            remove_docker_traces(&id);
        }
    }
    // The snapshot last, so that a mismatch does not hide the problems above; caught, so that one
    // mismatch does not stop the other cases.
    let snapshot = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ohdev_snapshot!(name = case.name, output, [(&id, ID)]);
    }));
    if snapshot.is_err() {
        problems.push("the snapshot differs (see the diff above)".to_string());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "  {}\n  $ ohdev {}\n  stderr:\n    {}",
            problems.join("\n  "),
            args.join(" "),
            output.stderr.trim_end().replace('\n', "\n    ")
        ))
    }
}

/// Runs ohdev like `Test::run`, but stops it (SIGINT, then SIGKILL) when it takes longer than
/// `limit`: a command that ignores bad input may wait forever (`watch`). Returns the output and
/// whether it had to be stopped.
fn run_with_limit(test: &Test, limit: Duration) -> (Output, bool) {
    let child = test.command().stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("ohdev starts");
    let pid = child.id() as i32;
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    let (result, hung) = match receiver.recv_timeout(limit) {
        Ok(result) => (result, false),
        Err(_) => {
            // SAFETY: signalling the child this function spawned (not yet reaped: its waiter runs).
            unsafe { libc::kill(pid, libc::SIGINT) };
            match receiver.recv_timeout(Duration::from_secs(10)) {
                Ok(result) => (result, true),
                Err(_) => {
                    // SAFETY: as above.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    (receiver.recv().expect("the waiter answers"), true)
                }
            }
        }
    };
    let output = Output::from_process(test, result.expect("ohdev runs"));
    test.record_kubectl_argvs();
    (output, hung)
}

// ------------------------------------------------------------------------------------------
// Zero mutations

/// Every recorded kind/kubectl call that is not read-only, as `tool argv…` lines. Read-only:
/// `kind get clusters|nodes`; `kubectl get|api-resources|version` and `kubectl config` views.
fn mutating_calls(test: &Test) -> Vec<String> {
    test.calls()
        .into_iter()
        .filter(|call| match call.tool.as_str() {
            "kind" => !match call.argv.as_slice() {
                [get, what, ..] if get == "get" => what == "clusters" || what == "nodes",
                [version, ..] => version == "version",
                _ => false,
            },
            "kubectl" => {
                let words = kubectl_words(&call.argv);
                !match words.as_slice() {
                    [verb, ..] if verb == "get" || verb == "api-resources" || verb == "version" => true,
                    [config, view, ..] if config == "config" => {
                        matches!(view.as_str(), "view" | "get-contexts" | "current-context" | "get-clusters")
                    }
                    _ => false,
                }
            }
            _ => true,
        })
        .map(|call| call.line())
        .collect()
}

/// kubectl's arguments without the global flags before the verb (`--context kind-t`, `-n x`).
fn kubectl_words(argv: &[String]) -> Vec<String> {
    let mut words = Vec::new();
    let mut arguments = argv.iter();
    while let Some(argument) = arguments.next() {
        if words.is_empty() && argument.starts_with('-') {
            if !argument.contains('=')
                && matches!(argument.as_str(), "--context" | "--namespace" | "-n" | "--kubeconfig" | "--cluster")
            {
                arguments.next();
            }
            continue;
        }
        words.push(argument.clone());
    }
    words
}

/// Images and containers that carry the case's token: image tags and labels (`dev.ohdev.image`
/// holds the image name, the fixtures' Dockerfiles a `dev.ohdev.case` label), and containers'
/// names, images, commands and labels (the classic builder's step containers run the Dockerfile's
/// instructions).
fn docker_traces(id: &str) -> BTreeSet<String> {
    let id = id.to_string();
    with_docker(|docker| async move {
        let mut traces = BTreeSet::new();
        let images = bollard::query_parameters::ListImagesOptionsBuilder::default().all(true).build();
        for image in docker.list_images(Some(images)).await.expect("list images") {
            let tagged = image.repo_tags.iter().any(|tag| tag.contains(&id));
            let labelled = image.labels.iter().any(|(key, value)| key.contains(&id) || value.contains(&id));
            if tagged || labelled {
                traces.insert(format!("image {} {:?}", image.id, image.repo_tags));
            }
        }
        let containers = bollard::query_parameters::ListContainersOptionsBuilder::default().all(true).build();
        for container in docker.list_containers(Some(containers)).await.expect("list containers") {
            let mut texts: Vec<String> = container.names.clone().unwrap_or_default();
            texts.extend(container.image.clone());
            texts.extend(container.command.clone());
            let labels: HashMap<String, String> = container.labels.clone().unwrap_or_default();
            texts.extend(labels.into_iter().flat_map(|(key, value)| [key, value]));
            if texts.iter().any(|text| text.contains(&id)) {
                traces.insert(format!("container {} {:?}", container.id.unwrap_or_default(), container.names));
            }
        }
        traces
    })
}

/// Removes what a failing case left in Docker, so a bug does not leave images behind.
fn remove_docker_traces(id: &str) {
    let id = id.to_string();
    with_docker(|docker| async move {
        let containers = bollard::query_parameters::ListContainersOptionsBuilder::default().all(true).build();
        for container in docker.list_containers(Some(containers)).await.unwrap_or_default() {
            let labelled = container.labels.unwrap_or_default().values().any(|value| value.contains(&id));
            if labelled || container.image.is_some_and(|image| image.contains(&id)) {
                let options = bollard::query_parameters::RemoveContainerOptionsBuilder::default().force(true).build();
                let _ = docker.remove_container(&container.id.unwrap_or_default(), Some(options)).await;
            }
        }
        let images = bollard::query_parameters::ListImagesOptionsBuilder::default().all(true).build();
        for image in docker.list_images(Some(images)).await.unwrap_or_default() {
            if image.repo_tags.iter().any(|tag| tag.contains(&id)) || image.labels.values().any(|v| v.contains(&id)) {
                let options = bollard::query_parameters::RemoveImageOptionsBuilder::default().force(true).build();
                let _ = docker.remove_image(&image.id, Some(options), None).await;
            }
        }
    });
}

// ------------------------------------------------------------------------------------------
// Setups

/// Creates kind cluster `t` through the stand-in, as `ohdev up` would have (the call it records is
/// cleared before the case's command runs).
fn create_cluster(test: &Test) {
    let bin = test.project().join(".fixture-bin");
    std::fs::create_dir_all(&bin).expect("fixture bin");
    let kind = bin.join("kind");
    if !kind.exists() {
        std::os::unix::fs::symlink(fake_kube_binary(), &kind).expect("symlink the stand-in");
    }
    let config = test.project().join("kind/cluster.yaml");
    let status = Command::new(&kind)
        .args(["create", "cluster", "--name", "t", "--config"])
        .arg(&config)
        .env("FAKE_KUBE_STATE", test.state_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the kind stand-in runs");
    assert!(status.success(), "the kind stand-in could not create the cluster");
}

/// Another ohdev holding the project's lock: `ohdev build` of an image whose prebuild command
/// touches `.holding` and then sleeps. Stopped (SIGINT, as a person would) when dropped.
struct LockHolder {
    child: std::process::Child,
}

impl LockHolder {
    fn start(test: &mut Test) -> Result<LockHolder, String> {
        test.set_args(&["build"]);
        let child = test.command().stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("the holder starts");
        let holder = LockHolder { child };
        let marker = test.project().join(".holding");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !marker.exists() {
            if Instant::now() > deadline {
                return Err("the lock holder never reached its prebuild".to_string());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(holder)
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        // SAFETY: signalling the child this holder spawned.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

// ------------------------------------------------------------------------------------------
// Fixtures

/// A valid ohdev.yaml with one image `app-{id}` (Dockerfile in the project) and `extra` appended
/// to its image entry.
fn one_image(extra: &str) -> String {
    format!("cluster:\n  name: t\nimages:\n  app-{ID}:\n    context: .\n{extra}manifests: []\n")
}

/// A valid ohdev.yaml reading the manifests in `k8s/`, default namespace `app`, `extra` appended.
fn with_manifests(extra: &str) -> String {
    format!("cluster:\n  name: t\nnamespace: app\nimages: {{}}\nmanifests: [k8s]\n{extra}")
}

/// A cluster.yaml with `nodes` as given.
fn kind_nodes(nodes: &str) -> String {
    format!("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n{nodes}")
}

/// A project with image `web{id}` and the start of a `dev.images` section (cases add one image).
const DEV_IMAGE: &str =
    "cluster:\n  name: t\nnamespace: app\nimages:\n  web{id}: {}\nmanifests: [k8s]\ndev:\n  images:\n";

const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: dev\n";

#[test]
fn mutating_calls_keeps_only_what_changes_something() {
    let test = Test::new();
    std::fs::write(
        test.state_dir().join("calls.jsonl"),
        [
            r#"{"tool":"kind","argv":["get","clusters"]}"#,
            r#"{"tool":"kind","argv":["get","nodes","--name","t"]}"#,
            r#"{"tool":"kind","argv":["version"]}"#,
            r#"{"tool":"kind","argv":["create","cluster","--name","t"]}"#,
            r#"{"tool":"kind","argv":["load","docker-image","x","--name","t"]}"#,
            r#"{"tool":"kubectl","argv":["--context","kind-t","get","nodes","-o","json"]}"#,
            r#"{"tool":"kubectl","argv":["--context","kind-t","api-resources"]}"#,
            r#"{"tool":"kubectl","argv":["--context","kind-t","version","-o","json"]}"#,
            r#"{"tool":"kubectl","argv":["config","view"]}"#,
            r#"{"tool":"kubectl","argv":["config","use-context","kind-t"]}"#,
            r#"{"tool":"kubectl","argv":["--context","kind-t","-n","get","apply","-f","-"]}"#,
            r#"{"tool":"kubectl","argv":["--context","kind-t","delete","configmap","get"]}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    assert_eq!(
        mutating_calls(&test),
        [
            "kind create cluster --name t",
            "kind load docker-image x --name t",
            "kubectl config use-context kind-t",
            "kubectl --context kind-t -n get apply -f -",
            "kubectl --context kind-t delete configmap get",
        ]
    );
}

// ------------------------------------------------------------------------------------------
// ohdev.yaml: `registry`

/// One image and `registry:` as given (the image's Dockerfile comes from `.dockerfile()`).
fn with_registry(registry: &str) -> String {
    format!("cluster:\n  name: t\nimages:\n  app-{ID}:\n    context: .\nmanifests: []\nregistry:\n{registry}")
}

#[test]
fn ohdev_yaml_registry() {
    run_area(
        "registry",
        vec![
            case("registry_unknown_key", &["plan"])
                .config(&with_registry("  hots: localhost:5001\n"))
                .expect("ohdev.yaml:8:")
                .expect("did you mean `host`?"),
            case("registry_host_without_port", &["up"])
                .config(&with_registry("  host: localhost\n"))
                .dockerfile()
                .expect("ohdev.yaml:8:")
                .expect("`registry.host` is `localhost`, which has no port")
                .expect("e.g. `host: localhost:5001`"),
            case("registry_host_with_scheme", &["build"])
                .config(&with_registry("  host: http://localhost:5001/\n"))
                .dockerfile()
                .expect("ohdev.yaml:8:")
                .expect("has a scheme (`http://`)")
                .expect("write the host and port only: `host: localhost:5001`"),
            case("registry_host_port_out_of_range", &["status"])
                .config(&with_registry("  host: localhost:70000\n"))
                .expect("ohdev.yaml:8:")
                .expect("`70000` is not a port (1–65535)"),
            case("registry_remote_host_created", &["up"])
                .config(&with_registry("  host: registry.example.org:5000\n"))
                .dockerfile()
                .expect("ohdev.yaml:8:")
                .expect("ohdev runs a registry container only on this machine's loopback")
                .expect("add `create: false`"),
            case("registry_create_not_a_bool", &["plan"])
                .config(&with_registry("  create: sometimes\n"))
                .expect("ohdev.yaml:8:")
                .expect("registry.create"),
            case("registry_image_upper_case", &["build"])
                .config(&with_registry("  host: localhost:5001\n  image: Registry:2\n"))
                .dockerfile()
                .expect("ohdev.yaml:9:")
                .expect("repository names are lower case")
                .expect("image: registry:2"),
            case("registry_image_missing", &["up"])
                .config(&with_registry("  host: localhost:59871\n  image: ohdev-test/no-such-registry-{id}:1\n"))
                .dockerfile()
                .docker()
                .expect("the registry image `ohdev-test/no-such-registry-{id}:1` (registry.image in [PROJECT]/ohdev.yaml) is not in Docker, and ohdev pulls nothing")
                .expect("`docker pull ohdev-test/no-such-registry-{id}:1` once"),
            case("registry_image_missing_build", &["build"])
                .config(&with_registry("  host: localhost:59872\n  image: ohdev-test/no-such-registry-{id}:1\n"))
                .dockerfile()
                .docker()
                .expect("is not in Docker, and ohdev pulls nothing"),
            case("registry_create_false_nothing_answers", &["build"])
                .config(&with_registry("  host: localhost:59873\n  create: false\n"))
                .dockerfile()
                .docker()
                .expect("no registry answers at localhost:59873 (`registry.create` is false in [PROJECT]/ohdev.yaml")
                .expect("remove `create: false` to let ohdev run one"),
        ],
    );
}

// ------------------------------------------------------------------------------------------
// ohdev.yaml: the file, `cluster`, `namespace`, `deploy`, `urls`

#[test]
fn ohdev_yaml_file_and_top_level_keys() {
    let long_name = "a".repeat(64);
    run_area(
        "ohdev.yaml",
        vec![
            case("config_empty_file", &["up"])
                .config("")
                .expect("ohdev.yaml: the file is empty")
                .expect("docs/ohdev-yaml.md"),
            case("config_only_comments", &["plan"]).config("# nothing here yet\n\n").expect("the file is empty"),
            case("config_top_level_list", &["plan"])
                .config("- cluster\n- images\n")
                .expect("ohdev.yaml:1:")
                .expect("a mapping"),
            case("config_top_level_scalar", &["status"]).config("ohdev\n").expect("ohdev.yaml:1:").expect("a mapping"),
            case("config_unclosed_flow_mapping", &["plan"])
                .config("cluster: {name: t\n")
                .expect("ohdev.yaml:2:")
                .expect("correct the YAML"),
            case("config_tab_indentation", &["up"])
                .config("cluster:\n\tname: t\n")
                .expect("ohdev.yaml:2:")
                .expect("indentation uses spaces"),
            case("config_unknown_top_level_key", &["plan"])
                .config("clustr:\n  name: t\nmanifests: []\n")
                .expect("ohdev.yaml:1:")
                .expect("unknown key `clustr` at top level")
                .expect("did you mean `cluster`?"),
            case("config_duplicate_top_level_key", &["up"])
                .config("cluster:\n  name: t\nmanifests: []\ncluster:\n  name: u\n")
                .expect("ohdev.yaml:4:")
                .expect("`cluster` is set more than once in the same mapping (lines 1 and 4)"),
            case("config_cluster_wrong_type", &["down", "--yes"])
                .config("cluster: [t]\nmanifests: []\n")
                .expect("ohdev.yaml:1:")
                .expect("cluster")
                .expect("a mapping"),
            case("config_cluster_unknown_key", &["status"])
                .config("cluster:\n  name: t\n  wiat: 5m\n")
                .expect("ohdev.yaml:3:")
                .expect("did you mean `wait`?"),
            case("config_cluster_duplicate_key", &["plan"])
                .config("cluster:\n  name: t\n  name: u\nmanifests: []\n")
                .expect("ohdev.yaml:3:")
                .expect("(lines 2 and 3)"),
            case("config_cluster_name_invalid", &["up"])
                .config("cluster:\n  name: Local_Hands\nmanifests: []\n")
                .expect("ohdev.yaml:2:")
                .expect("`cluster.name` is `Local_Hands`, which is not a valid name")
                .expect("lower-case letters"),
            case("config_cluster_name_too_long", &["status"])
                .config(&format!("cluster:\n  name: {long_name}\n"))
                .expect("ohdev.yaml:2:")
                .expect("at most 63 characters"),
            case("config_cluster_name_wrong_type", &["plan"])
                .config("cluster:\n  name: {first: t}\n")
                .expect("ohdev.yaml:2:")
                .expect("cluster.name: invalid type: map"),
            case("config_cluster_name_empty_variable", &["up"])
                .config("cluster:\n  name: \"${}\"\n")
                .expect("ohdev.yaml:2:")
                .expect("`cluster.name` has `${}`, which does not name an environment variable"),
            case("config_cluster_name_unset_variable", &["down", "--yes"])
                .config("cluster:\n  name: ${OHDEV_BAD_INPUT_UNSET}\n")
                .expect("ohdev.yaml:2:")
                .expect("export OHDEV_BAD_INPUT_UNSET=…"),
            case("config_cluster_name_unterminated_variable", &["status"])
                .config("cluster:\n  name: ${OHDEV_ROOT\n")
                .expect("ohdev.yaml:2:")
                .expect("`cluster.name` has a `${` without its closing `}`"),
            case("config_cluster_name_variable_bad_name", &["plan"])
                .config("cluster:\n  name: x${1X}\n")
                .expect("ohdev.yaml:2:")
                .expect("`${1X}`, which does not name an environment variable"),
            case("config_cluster_config_missing", &["up"])
                .config("cluster:\n  name: t\n  config: kind/nope.yaml\nmanifests: []\n")
                .expect("[PROJECT]/kind/nope.yaml: cannot read the kind cluster config")
                .expect("`cluster.config`"),
            case("config_cluster_config_is_a_directory", &["status"])
                .config("cluster:\n  name: t\n  config: kind\n")
                .expect("[PROJECT]/kind: cannot read the kind cluster config"),
            case("config_cluster_config_unset_variable", &["up"])
                .config("cluster:\n  name: t\n  config: ${OHDEV_BAD_INPUT_KIND_DIR}/cluster.yaml\n")
                .expect("ohdev.yaml:3:")
                .expect("`cluster.config` uses ${OHDEV_BAD_INPUT_KIND_DIR}"),
            case("config_cluster_wait_not_a_duration", &["up"])
                .config("cluster:\n  name: t\n  wait: soon\nmanifests: []\n")
                .expect("ohdev.yaml:3:")
                .expect("`cluster.wait` is `soon`, which is not a duration")
                .expect("90s, 5m or 1h30m"),
            case("config_cluster_wait_zero", &["up"])
                .config("cluster:\n  name: t\n  wait: 0s\nmanifests: []\n")
                .expect("`cluster.wait` is `0s`, which leaves no time to wait"),
            case("config_cluster_wait_unknown_unit", &["plan"])
                .config("cluster:\n  name: t\n  wait: 2d\nmanifests: []\n")
                .expect("`cluster.wait` is `2d`, which is not a duration"),
            case("config_cluster_wait_wrong_type", &["status"])
                .config("cluster:\n  name: t\n  wait: [2m]\n")
                .expect("ohdev.yaml:3:")
                .expect("cluster.wait: invalid type: sequence"),
            case("config_namespace_invalid", &["up"])
                .config("cluster:\n  name: t\nnamespace: OpenHands\nmanifests: []\n")
                .expect("ohdev.yaml:3:")
                .expect("`namespace` is `OpenHands`, which is not a valid name"),
            case("config_namespace_wrong_type", &["plan"])
                .config("cluster:\n  name: t\nnamespace: {name: app}\n")
                .expect("ohdev.yaml:3:")
                .expect("namespace: invalid type: map"),
            case("config_namespace_variable_bad_name", &["plan"])
                .config("cluster:\n  name: t\nnamespace: \"${A B}\"\n")
                .expect("ohdev.yaml:3:")
                .expect("`namespace` has `${A B}`"),
            case("config_deploy_timeout_not_a_duration", &["up"])
                .config("cluster:\n  name: t\nmanifests: []\ndeploy:\n  timeout: 5x\n")
                .expect("ohdev.yaml:5:")
                .expect("`deploy.timeout` is `5x`, which is not a duration"),
            case("config_deploy_timeout_zero", &["up"])
                .config("cluster:\n  name: t\nmanifests: []\ndeploy:\n  timeout: 0\n")
                .expect("`deploy.timeout` is `0`, which leaves no time to wait"),
            case("config_deploy_unknown_key", &["plan"])
                .config("cluster:\n  name: t\nmanifests: []\ndeploy:\n  timout: 5m\n")
                .expect("ohdev.yaml:5:")
                .expect("did you mean `timeout`?"),
            case("config_deploy_wrong_type", &["plan"])
                .config("cluster:\n  name: t\nmanifests: []\ndeploy: 5m\n")
                .expect("ohdev.yaml:4:")
                .expect("a mapping"),
            case("config_urls_wrong_type", &["plan"])
                .config("cluster:\n  name: t\nmanifests: []\nurls:\n  app: http://localhost/\n")
                .expect("ohdev.yaml:5:")
                .expect("urls: invalid type: map, expected a sequence"),
            case("config_urls_unset_variable", &["plan"])
                .config("cluster:\n  name: t\nmanifests: []\nurls: [\"http://${OHDEV_BAD_INPUT_HOST}/\"]\n")
                .expect("ohdev.yaml:4:")
                .expect("`urls` uses ${OHDEV_BAD_INPUT_HOST}"),
        ],
    );
}

// ------------------------------------------------------------------------------------------
// ohdev.yaml: `images`

#[test]
fn ohdev_yaml_images() {
    let long_name = "a".repeat(64);
    run_area(
        "images",
        vec![
            case("image_list_instead_of_map", &["build"])
                .config("cluster:\n  name: t\nimages: [app]\n")
                .expect("ohdev.yaml:3:")
                .expect("images: invalid type: sequence, expected a map"),
            case("image_name_invalid", &["build"])
                .config("cluster:\n  name: t\nimages:\n  App_1: {}\n")
                .dockerfile()
                .expect("ohdev.yaml:4:")
                .expect("`images.App_1` is `App_1`, which is not a valid name"),
            case("image_name_too_long", &["build"])
                .config(&format!("cluster:\n  name: t\nimages:\n  {long_name}: {{}}\n"))
                .dockerfile()
                .expect("ohdev.yaml:4:")
                .expect("at most 63 characters"),
            case("image_entry_wrong_type", &["build"])
                .config(&format!("cluster:\n  name: t\nimages:\n  app-{ID}: .\n"))
                .expect("ohdev.yaml:4:")
                .expect("a mapping"),
            case("image_unknown_key", &["build"])
                .config(&one_image("    contxt: src\n"))
                .dockerfile()
                .expect("ohdev.yaml:6:")
                .expect("unknown key `contxt` at `images.app-{id}`")
                .expect("did you mean `context`?"),
            case("image_duplicate_name", &["up"])
                .config(&format!(
                    "cluster:\n  name: t\nimages:\n  app-{ID}:\n    context: .\n  app-{ID}:\n    context: src\nmanifests: []\n"
                ))
                .dockerfile()
                .expect("ohdev.yaml:6:")
                .expect("`app-{id}` is set more than once in the same mapping (lines 4 and 6)"),
            case("image_duplicate_key", &["build"])
                .config(&one_image("    dockerfile: Dockerfile\n    dockerfile: Dockerfile.dev\n"))
                .dockerfile()
                .expect("ohdev.yaml:7:")
                .expect("`dockerfile` is set more than once in the same mapping (lines 6 and 7)"),
            case("image_context_unset_variable", &["up"])
                .config(&format!("cluster:\n  name: t\nimages:\n  app-{ID}:\n    context: ${{OHDEV_BAD_INPUT_SRC}}\n"))
                .expect("ohdev.yaml:5:")
                .expect("`images.app-{id}.context` uses ${OHDEV_BAD_INPUT_SRC}, but OHDEV_BAD_INPUT_SRC is not set"),
            case("image_context_wrong_type", &["build"])
                .config(&format!("cluster:\n  name: t\nimages:\n  app-{ID}:\n    context: [.]\n"))
                .expect("ohdev.yaml:5:")
                .expect("images.app-{id}.context: invalid type: sequence"),
            case("image_dockerfile_unterminated_variable", &["build"])
                .config(&one_image("    dockerfile: ${DOCKERFILE\n"))
                .dockerfile()
                .expect("ohdev.yaml:6:")
                .expect("`images.app-{id}.dockerfile` has a `${` without its closing `}`"),
            case("image_target_wrong_type", &["build"])
                .config(&one_image("    target: {stage: app}\n"))
                .dockerfile()
                .expect("ohdev.yaml:6:")
                .expect("images.app-{id}.target: invalid type: map"),
            case("image_build_args_wrong_type", &["build"])
                .config(&one_image("    build_args: [VERSION=1]\n"))
                .dockerfile()
                .expect("ohdev.yaml:6:")
                .expect("build_args: invalid type: sequence, expected a map"),
            case("image_build_arg_unset_variable", &["build"])
                .config(&one_image("    build_args: {VERSION: \"${OHDEV_BAD_INPUT_VERSION}\"}\n"))
                .dockerfile()
                .expect("ohdev.yaml:6:")
                .expect("`images.app-{id}.build_args.VERSION` uses ${OHDEV_BAD_INPUT_VERSION}"),
            case("image_build_arg_image_without_depends_on", &["up"])
                .config(&format!(
                    "cluster:\n  name: t\nimages:\n  base-{ID}: {{}}\n  app-{ID}:\n    build_args: {{BASE: \"${{image:base-{ID}}}\"}}\nmanifests: []\n"
                ))
                .dockerfile()
                .expect("images.app-{id}.build_args.BASE uses ${image:base-{id}}")
                .expect("add `depends_on: [base-{id}]` to images.app-{id}"),
            case("image_build_arg_unknown_image", &["build"])
                .config(&one_image("    build_args: {BASE: \"${image:nope}\"}\n"))
                .dockerfile()
                .expect("`nope` is not an image in ohdev.yaml: fix the name"),
            case("image_depends_on_unknown", &["up"])
                .config(&format!(
                    "cluster:\n  name: t\nimages:\n  base-{ID}: {{}}\n  app-{ID}:\n    depends_on: [bsae-{ID}]\nmanifests: []\n"
                ))
                .dockerfile()
                .expect("ohdev.yaml:6:")
                .expect("images.app-{id}.depends_on names `bsae-{id}`, which is not an image here")
                .expect("did you mean `base-{id}`?"),
            case("image_depends_on_wrong_type", &["build"])
                .config(&one_image("    depends_on: base\n"))
                .dockerfile()
                .expect("ohdev.yaml:6:")
                .expect("depends_on: invalid type: string \"base\", expected a sequence"),
            case("image_depends_on_cycle", &["build"])
                .config(&format!(
                    "cluster:\n  name: t\nimages:\n  a-{ID}:\n    depends_on: [b-{ID}]\n  b-{ID}:\n    depends_on: [a-{ID}]\nmanifests: []\n"
                ))
                .dockerfile()
                .expect("images depend on each other in a cycle")
                .expect("remove one of the `depends_on` entries"),
            case("image_depends_on_itself", &["up"])
                .config(&one_image(&format!("    depends_on: [app-{ID}]\n")))
                .dockerfile()
                .expect("images depend on each other in a cycle through `app-{id}`"),
            case("image_prebuild_not_installed", &["up"])
                .config(&one_image("    prebuild: [ohdev-no-such-generator, --all]\n"))
                .expect("images.app-{id}.prebuild runs `ohdev-no-such-generator`, which is neither on PATH nor in")
                .expect("install `ohdev-no-such-generator`"),
            case("image_prebuild_wrong_type", &["build"])
                .config(&one_image("    prebuild: make images\n"))
                .dockerfile()
                .expect("ohdev.yaml:6:")
                .expect("prebuild: invalid type: string \"make images\", expected a sequence"),
            case("image_prebuild_unset_variable", &["build"])
                .config(&one_image("    prebuild: [sh, \"${OHDEV_BAD_INPUT_SCRIPT}\"]\n"))
                .dockerfile()
                .expect("ohdev.yaml:6:")
                .expect("`images.app-{id}.prebuild` uses ${OHDEV_BAD_INPUT_SCRIPT}"),
            case("image_expect_missing", &["up"])
                .config(&one_image("    expect: [pyproject.toml, openhands]\n"))
                .dockerfile()
                .expect("which lacks pyproject.toml, openhands")
                .expect("point it at the right directory"),
            case("image_sync_relative_dest", &["watch"])
                .config(&one_image("    sync:\n      - {src: \"src/**/*.py\", dest: app/src}\n"))
                .dockerfile()
                .expect("ohdev.yaml:7:")
                .expect("`images.app-{id}.sync.dest` is `app/src`, a relative path")
                .expect("`/app/app/src`"),
            case("image_sync_missing_dest", &["watch"])
                .config(&one_image("    sync:\n      - {src: \"src/**/*.py\"}\n"))
                .dockerfile()
                .expect("ohdev.yaml:7:")
                .expect("images.app-{id}.sync[0]: missing field `dest`"),
            case("image_sync_unknown_key", &["rebuild"])
                .config(&one_image("    sync:\n      - {src: \"*.py\", dest: /app, rnu: [true]}\n"))
                .dockerfile()
                .expect("ohdev.yaml:7:")
                .expect("unknown key `rnu` at `images.app-{id}.sync[0]`")
                .expect("did you mean `run`?"),
            case("image_sync_wrong_type", &["up"])
                .config(&one_image("    sync: {src: \"*.py\", dest: /app}\n"))
                .dockerfile()
                .expect("ohdev.yaml:6:")
                .expect("sync: invalid type: map, expected a sequence"),
            case("image_platform_not_a_platform", &["up"])
                .config(&one_image("    platform: banana\n"))
                .dockerfile()
                .expect("ohdev.yaml:6:")
                .expect("`images.app-{id}.platform` is `banana`")
                .expect("linux/amd64"),
            case("image_platform_not_linux", &["build"])
                .config(&one_image("    platform: windows/amd64\n"))
                .dockerfile()
                .expect("ohdev.yaml:6:")
                .expect("`images.app-{id}.platform` is `windows/amd64`"),
            case("image_platform_unknown_architecture", &["build"])
                .config(&one_image("    platform: linux/z80\n"))
                .dockerfile()
                .expect("ohdev.yaml:6:")
                .expect("`images.app-{id}.platform` is `linux/z80`"),
            case("image_dockerfile_absolute", &["build"])
                .config(&one_image("    dockerfile: /etc/hostname\n"))
                .dockerfile()
                .expect("ohdev.yaml:6:")
                .expect("`images.app-{id}.dockerfile` is `/etc/hostname`"),
            case("image_dockerfile_outside_the_context", &["up"])
                .config(&one_image("    dockerfile: ../Dockerfile\n").replace("context: .", "context: src"))
                .dockerfile()
                .dir("src")
                .expect("ohdev.yaml:6:")
                .expect("`images.app-{id}.dockerfile` is `../Dockerfile`"),
        ],
    );
}

// ------------------------------------------------------------------------------------------
// ohdev.yaml: `manifests`, `patches`, `secrets`

#[test]
fn ohdev_yaml_manifests_patches_secrets() {
    run_area(
        "manifest keys",
        vec![
            case("ports_unknown_kind", &["up", "--watch"])
                .config("cluster:\n  name: t\nimages: {}\nmanifests: []\nports:\n  - {to: Deploymnt/web, local: 3000, remote: 80}\n")
                .expect("ohdev.yaml:6:")
                .expect("`ports[0].to` is `Deploymnt/web`: ohdev cannot forward to a Deploymnt")
                .expect("did you mean `Deployment/web`?")
                .expect("a forward goes to a Deployment, StatefulSet, Service or Pod"),
            case("ports_port_out_of_range", &["watch"])
                .setup(Setup::Cluster)
                .config("cluster:\n  name: t\nimages: {}\nmanifests: []\nports:\n  - to: StatefulSet/db\n    local: 5432\n    remote: 99999\n")
                .expect("ohdev.yaml:6:")
                .expect("`ports[0].remote` is 99999, which is not a port number")
                .expect("use a port from 1 to 65535"),
            case("ports_duplicate_local", &["forward"])
                .setup(Setup::Cluster)
                .config("cluster:\n  name: t\nimages: {}\nmanifests: []\nports:\n  - {to: Service/web, local: 3000, remote: 80}\n  - {to: Pod/debug, local: 3000, remote: 9229}\n")
                .expect("ohdev.yaml:7:")
                .expect("`ports[1].local` is 3000, which `ports[0]` (Service/web) already uses")
                .expect("`local: 3001`"),
            case("manifests_wrong_type", &["plan"])
                .config("cluster:\n  name: t\nmanifests: k8s\n")
                .expect("ohdev.yaml:3:")
                .expect("manifests: invalid type: string \"k8s\", expected a sequence"),
            case("manifests_path_missing", &["up"])
                .config("cluster:\n  name: t\nimages: {}\nmanifests: [k8s-typo]\n")
                .expect("manifest path [PROJECT]/k8s-typo does not exist")
                .expect("under `manifests:` in ohdev.yaml"),
            case("manifests_empty_directory", &["up"])
                .config(&with_manifests(""))
                .file("k8s/README.md", "manifests go here\n")
                .expect("manifest directory [PROJECT]/k8s holds no *.yaml, *.yml or *.json file"),
            case("manifests_path_unset_variable", &["plan"])
                .config("cluster:\n  name: t\nmanifests: [\"${OHDEV_BAD_INPUT_MANIFESTS}\"]\n")
                .expect("ohdev.yaml:3:")
                .expect("`manifests` uses ${OHDEV_BAD_INPUT_MANIFESTS}"),
            case("manifests_url_not_http", &["up"])
                .config("cluster:\n  name: t\nimages: {}\nmanifests:\n  - url: ftp://example.org/deploy.yaml\n")
                .expect("manifest url `ftp://example.org/deploy.yaml` is not http(s)")
                .expect("https://"),
            case("manifests_sha256_not_hex", &["plan"])
                .config("cluster:\n  name: t\nmanifests:\n  - url: https://example.org/deploy.yaml\n    sha256: xyz\n")
                .expect("sha256 `xyz` for https://example.org/deploy.yaml is not 64 hex digits"),
            case("manifests_remote_unknown_key", &["plan"])
                .config("cluster:\n  name: t\nmanifests:\n  - url: https://example.org/deploy.yaml\n    sha: abc\n")
                .expect("ohdev.yaml:4:")
                .expect("unknown key `sha`")
                .expect("did you mean `sha256`?"),
            case("manifests_entry_wrong_type", &["up"])
                .config("cluster:\n  name: t\nmanifests:\n  - [k8s]\n")
                .expect("ohdev.yaml:4:")
                .expect("a path"),
            case("patches_wrong_type", &["plan"])
                .config(&with_manifests("patches:\n  target: {kind: ConfigMap, name: settings}\n"))
                .manifest(CONFIG_MAP)
                .expect("ohdev.yaml:7:")
                .expect("patches: invalid type: map, expected a sequence"),
            case("patches_missing_ops", &["up"])
                .config(&with_manifests("patches:\n  - target: {kind: ConfigMap, name: settings}\n"))
                .manifest(CONFIG_MAP)
                .expect("ohdev.yaml:7:")
                .expect("patches[0]: missing field `ops`"),
            case("patches_missing_target", &["plan"])
                .config(&with_manifests("patches:\n  - ops: []\n"))
                .manifest(CONFIG_MAP)
                .expect("ohdev.yaml:7:")
                .expect("patches[0]: missing field `target`"),
            case("patches_unknown_key", &["plan"])
                .config(&with_manifests(
                    "patches:\n  - target: {kind: ConfigMap, name: settings}\n    ops: []\n    opps: []\n",
                ))
                .manifest(CONFIG_MAP)
                .expect("unknown key `opps` at `patches[0]`")
                .expect("did you mean `ops`?"),
            case("patches_target_unknown_key", &["plan"])
                .config(&with_manifests(
                    "patches:\n  - target: {kind: ConfigMap, name: settings, namepsace: app}\n    ops: []\n",
                ))
                .manifest(CONFIG_MAP)
                .expect("unknown key `namepsace` at `patches[0].target`")
                .expect("did you mean `namespace`?"),
            case("patches_unknown_op", &["up"])
                .config(&with_manifests(
                    "patches:\n  - target: {kind: ConfigMap, name: settings}\n    ops: [{op: move, path: /data}]\n",
                ))
                .manifest(CONFIG_MAP)
                .expect("patches[0]: unknown variant `move`, expected one of `add`, `replace`, `remove`")
                .expect("each op is {op: add|replace|remove"),
            case("patches_op_missing_path", &["plan"])
                .config(&with_manifests(
                    "patches:\n  - target: {kind: ConfigMap, name: settings}\n    ops: [{op: remove}]\n",
                ))
                .manifest(CONFIG_MAP)
                .expect("patches[0]: missing field `path`"),
            case("patches_op_missing_value", &["up"])
                .config(&with_manifests(
                    "patches:\n  - target: {kind: ConfigMap, name: settings}\n    ops: [{op: add, path: /data/x}]\n",
                ))
                .manifest(CONFIG_MAP)
                .expect("patches[0]: missing field `value`"),
            case("dev_unknown_key", &["plan"])
                .config(&with_manifests("dev:\n  patchs: []\n"))
                .manifest(CONFIG_MAP)
                .expect("ohdev.yaml:7:")
                .expect("unknown key `patchs` at `dev`")
                .expect("did you mean `patches`?"),
            case("dev_image_unknown", &["up", "--watch"])
                .config(&format!("{DEV_IMAGE}    wbe{ID}:\n      sync: [{{src: \"*.py\", dest: /app}}]\n"))
                .dockerfile()
                .manifest(CONFIG_MAP)
                .expect("ohdev.yaml:9:")
                .expect("`dev.images.wbe{id}` names an image that is not under `images:`")
                .expect("did you mean `web{id}`?"),
            case("dev_sync_dest_relative", &["up", "--dev"])
                .config(&format!("{DEV_IMAGE}    web{ID}:\n      sync: [{{src: \"*.py\", dest: srv/src}}]\n"))
                .dockerfile()
                .manifest(CONFIG_MAP)
                .expect("ohdev.yaml:10:")
                .expect("`dev.images.web{id}.sync.dest` is `srv/src`, a relative path")
                .expect("write the absolute path in the container, e.g. `/app/srv/src`"),
            case("dev_patch_targets_nothing", &["up"])
                .config(&with_manifests(
                    "dev:\n  patches:\n    - target: {kind: ConfigMap, name: setings}\n      ops: [{op: add, path: /data/x, value: y}]\n",
                ))
                .manifest(CONFIG_MAP)
                .expect("dev.patches[0] targets ConfigMap/setings, which is not in the manifest set"),
            case("secrets_wrong_type", &["plan"])
                .config(&with_manifests("secrets: [app-secrets]\n"))
                .manifest(CONFIG_MAP)
                .expect("ohdev.yaml:6:")
                .expect("secrets: invalid type: sequence, expected a map"),
            case("secrets_missing_keys", &["up"])
                .config(&with_manifests("secrets:\n  app-secrets:\n    env_file: .env\n"))
                .manifest(CONFIG_MAP)
                .expect("ohdev.yaml:8:")
                .expect("secrets.app-secrets: missing field `keys`"),
            case("secrets_name_invalid", &["up"])
                .config(&with_manifests("secrets:\n  App_Secrets:\n    keys: [API_KEY]\n"))
                .manifest(CONFIG_MAP)
                .expect("ohdev.yaml:7:")
                .expect("`secrets.App_Secrets` is `App_Secrets`, which Kubernetes does not accept as a name"),
            case("secrets_unknown_key", &["plan"])
                .config(&with_manifests("secrets:\n  app-secrets:\n    envfile: .env\n    keys: [API_KEY]\n"))
                .manifest(CONFIG_MAP)
                .expect("ohdev.yaml:8:")
                .expect("did you mean `env_file`?"),
            case("secrets_keys_wrong_type", &["plan"])
                .config(&with_manifests("secrets:\n  app-secrets:\n    keys: API_KEY\n"))
                .manifest(CONFIG_MAP)
                .expect("ohdev.yaml:8:")
                .expect("keys: invalid type: string \"API_KEY\", expected a sequence"),
            case("secrets_key_invalid", &["up"])
                .config(&with_manifests("secrets:\n  app-secrets:\n    keys: [\"API KEY\"]\n"))
                .manifest(CONFIG_MAP)
                .expect("secrets.app-secrets in ohdev.yaml: `API KEY` cannot be a Secret key"),
            case("secrets_namespace_invalid", &["up"])
                .config(&with_manifests("secrets:\n  app-secrets:\n    keys: [API_KEY]\n    namespace: App\n"))
                .manifest(CONFIG_MAP)
                .expect("ohdev.yaml:9:")
                .expect("`secrets.app-secrets.namespace` is `App`, which is not a valid name"),
            case("secrets_env_file_unset_variable", &["plan"])
                .config(&with_manifests(
                    "secrets:\n  app-secrets:\n    env_file: ${OHDEV_BAD_INPUT_ENV}/.env\n    keys: [API_KEY]\n",
                ))
                .manifest(CONFIG_MAP)
                .expect("ohdev.yaml:8:")
                .expect("`secrets.app-secrets.env_file` uses ${OHDEV_BAD_INPUT_ENV}"),
        ],
    );
}

// ------------------------------------------------------------------------------------------
// kind/cluster.yaml

#[test]
fn kind_cluster_yaml() {
    let control_plane_ports =
        |mappings: &str| kind_nodes(&format!("- role: control-plane\n  extraPortMappings:\n{mappings}"));
    run_area(
        "cluster.yaml",
        vec![
            case("cluster_wrong_kind", &["up"])
                .cluster("kind: Config\napiVersion: kind.x-k8s.io/v1alpha4\n")
                .expect("cluster.yaml:1:")
                .expect("`kind` is `Config`, but a kind cluster config must say `kind: Cluster`"),
            case("cluster_missing_kind", &["status"])
                .cluster("apiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n")
                .expect("`kind` is missing")
                .expect("set `kind: Cluster`"),
            case("cluster_wrong_api_version", &["up"])
                .cluster("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha3\n")
                .expect("cluster.yaml:2:")
                .expect("`apiVersion` is `kind.x-k8s.io/v1alpha3`, but kind reads `kind.x-k8s.io/v1alpha4`"),
            case("cluster_missing_api_version", &["down", "--yes"])
                .cluster("kind: Cluster\nnodes:\n- role: control-plane\n")
                .expect("`apiVersion` is missing"),
            case("cluster_unknown_role", &["up"])
                .cluster(&kind_nodes("- role: control-plane\n- role: master\n"))
                .expect("cluster.yaml:5:")
                .expect("node role `master` is not one kind knows")
                .expect("`role: worker`"),
            case("cluster_no_control_plane", &["up"])
                .cluster(&kind_nodes("- role: worker\n- role: worker\n"))
                .expect("cluster.yaml:3:")
                .expect("the cluster has no control-plane node"),
            case("cluster_duplicate_host_port", &["up"])
                .cluster(&control_plane_ports(
                    "  - containerPort: 80\n    hostPort: 18080\n  - containerPort: 443\n    hostPort: 18080\n",
                ))
                .expect("cluster.yaml:9:")
                .expect("hostPort 18080 (TCP) is mapped more than once (lines 7 and 9)")
                .expect("give each extraPortMappings entry its own hostPort"),
            case("cluster_duplicate_host_port_across_nodes", &["status"])
                .cluster(&kind_nodes(
                    "- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 18081\n- role: worker\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 18081\n    listenAddress: 127.0.0.1\n",
                ))
                .expect("hostPort 18081 (TCP) is mapped more than once (lines 7 and 11)"),
            case("cluster_listen_address_hostname", &["up"])
                .cluster(&control_plane_ports(
                    "  - containerPort: 80\n    hostPort: 18082\n    listenAddress: localhost\n",
                ))
                .expect("cluster.yaml:8:")
                .expect("listenAddress `localhost` is not an IP address")
                .expect("`listenAddress: 127.0.0.1`"),
            case("cluster_listen_address_truncated", &["up"])
                .cluster(&control_plane_ports(
                    "  - containerPort: 80\n    hostPort: 18083\n    listenAddress: 127.0.1\n",
                ))
                .expect("cluster.yaml:8:")
                .expect("listenAddress `127.0.1` is not an IP address"),
            case("cluster_protocol_lower_case", &["up"])
                .cluster(&control_plane_ports("  - containerPort: 80\n    hostPort: 18084\n    protocol: tcp\n"))
                .expect("cluster.yaml:8:")
                .expect("port mapping protocol `tcp` is not TCP, UDP or SCTP"),
            case("cluster_protocol_unknown", &["down", "--yes"])
                .cluster(&control_plane_ports("  - containerPort: 80\n    hostPort: 18085\n    protocol: HTTP\n"))
                .expect("cluster.yaml:8:")
                .expect("port mapping protocol `HTTP`"),
            case("cluster_container_port_out_of_range", &["up"])
                .cluster(&control_plane_ports("  - containerPort: 70000\n    hostPort: 18086\n"))
                .expect("cluster.yaml:6:")
                .expect("containerPort")
                .expect("70000"),
            case("cluster_host_port_not_a_number", &["up"])
                .cluster(&control_plane_ports("  - containerPort: 80\n    hostPort: eighty\n"))
                .expect("cluster.yaml:7:")
                .expect("hostPort: invalid type: string \"eighty\""),
            case("cluster_missing_container_port", &["status"])
                .cluster(&control_plane_ports("  - hostPort: 18087\n"))
                .expect("cluster.yaml:6:")
                .expect("missing field `containerPort`"),
            case("cluster_yaml_syntax", &["up"])
                .cluster("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes: [\n")
                .expect("cluster.yaml:")
                .expect("correct the YAML at that line"),
            case("cluster_bad_indentation", &["up"])
                .cluster("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n   extraPortMappings: []\n")
                .expect("cluster.yaml:5:"),
            case("cluster_unknown_key", &["up"])
                .cluster("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodse:\n- role: control-plane\n")
                .expect("cluster.yaml:3:")
                .expect("did you mean `nodes`?"),
            case("cluster_unknown_node_key", &["status"])
                .cluster(&kind_nodes("- role: control-plane\n  extraPortMapings: []\n"))
                .expect("cluster.yaml:5:")
                .expect("did you mean `extraPortMappings`?"),
            case("cluster_unknown_port_mapping_key", &["up"])
                .cluster(&control_plane_ports("  - containerPort: 80\n    hostport: 18088\n"))
                .expect("cluster.yaml:7:")
                .expect("did you mean `hostPort`?"),
            case("cluster_duplicate_key", &["up"])
                .cluster("kind: Cluster\nkind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n")
                .expect("cluster.yaml:2:")
                .expect("`kind` is set more than once in the same mapping (lines 1 and 2)"),
            case("cluster_nodes_wrong_type", &["up"])
                .cluster("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n  role: control-plane\n")
                .expect("cluster.yaml:4:")
                .expect("nodes: invalid type: map, expected a sequence"),
            case("cluster_labels_wrong_type", &["up"])
                .cluster(&kind_nodes("- role: control-plane\n  labels: [ingress-ready]\n"))
                .expect("cluster.yaml:5:")
                .expect("labels: invalid type: sequence, expected a map"),
            case("cluster_empty_file", &["up"])
                .cluster("")
                .expect("kind/cluster.yaml: the file is empty")
                .expect("`kind: Cluster`"),
            case("cluster_top_level_list", &["status"])
                .cluster("- kind: Cluster\n")
                .expect("cluster.yaml:1:")
                .expect("a mapping"),
        ],
    );
}

// ------------------------------------------------------------------------------------------
// Manifests

#[test]
fn manifests() {
    let long_name = "a".repeat(300);
    let secret_config =
        |keys: &str| with_manifests(&format!("secrets:\n  app-secrets:\n    env_file: .env\n    keys: {keys}\n"));
    let rebuild_config =
        format!("cluster:\n  name: t\nnamespace: app\nimages:\n  app-{ID}:\n    context: .\nmanifests: [k8s]\n");
    run_area(
        "manifests",
        vec![
            case("manifest_invalid_yaml", &["up"])
                .config(&with_manifests(""))
                .manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings\n")
                .expect("k8s/m.yaml:4 (document 1): invalid YAML")
                .expect("nothing was applied"),
            case("manifest_duplicate_key", &["plan"])
                .config(&with_manifests(""))
                .manifest("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n")
                .expect("k8s/m.yaml:5 (document 1)")
                .expect("`name` is set more than once in the same mapping (lines 4 and 5)"),
            case("manifest_missing_kind", &["up"])
                .config(&with_manifests(""))
                .manifest("apiVersion: v1\nmetadata:\n  name: settings\n")
                .expect("k8s/m.yaml:1 (document 1): the object named settings has no kind"),
            case("manifest_missing_name", &["up"])
                .config(&with_manifests(""))
                .manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n")
                .expect("the ConfigMap has no metadata.name"),
            case("manifest_missing_api_version", &["plan"])
                .config(&with_manifests(""))
                .manifest("kind: ConfigMap\nmetadata:\n  name: settings\n")
                .expect("ConfigMap/settings has no apiVersion"),
            case("manifest_generate_name", &["up"])
                .config(&with_manifests(""))
                .manifest("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: settings-\n")
                .expect("generateName does not work with apply"),
            case("manifest_second_document_bad", &["up"])
                .config(&with_manifests(""))
                .manifest(&format!("{CONFIG_MAP}---\napiVersion: v1\nkind: Service\n"))
                .expect("k8s/m.yaml:8 (document 2): the Service has no metadata.name"),
            case("manifest_scalar_document", &["up"])
                .config(&with_manifests(""))
                .manifest("just some text\n")
                .expect("the document is a string, not a Kubernetes object"),
            case("manifest_list_document", &["plan"])
                .config(&with_manifests(""))
                .manifest("- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n")
                .expect("the document is a list, not a Kubernetes object"),
            case("manifest_duplicate_object", &["up"])
                .config(&with_manifests(""))
                .manifest(&format!("{CONFIG_MAP}---\n{CONFIG_MAP}"))
                .expect("ConfigMap app/settings is defined twice")
                .expect("k8s/m.yaml:1 (document 1)")
                .expect("k8s/m.yaml:8 (document 2)"),
            case("manifest_duplicate_object_across_files", &["up"])
                .config(&with_manifests(""))
                .file("k8s/a.yaml", CONFIG_MAP)
                .file("k8s/b.yaml", &CONFIG_MAP.replace("metadata:\n", "metadata:\n  namespace: app\n"))
                .expect("ConfigMap app/settings is defined twice")
                .expect("k8s/a.yaml:1")
                .expect("k8s/b.yaml:1"),
            case("manifest_name_with_underscore", &["up"])
                .config(&with_manifests(""))
                .manifest(&CONFIG_MAP.replace("settings", "Demo_Config"))
                .expect("ConfigMap has the name `Demo_Config`, which the cluster refuses"),
            case("manifest_name_300_characters", &["up"])
                .config(&with_manifests(""))
                .manifest(&CONFIG_MAP.replace("settings", &long_name))
                .expect("… (300 characters)`, which the cluster refuses"),
            case("manifest_service_name_with_dot", &["plan"])
                .config(&with_manifests(""))
                .manifest("apiVersion: v1\nkind: Service\nmetadata:\n  name: my.service\nspec:\n  ports: [{port: 80}]\n")
                .expect("Service has the name `my.service`"),
            case("manifest_namespace_name_invalid", &["up"])
                .config(&with_manifests(""))
                .manifest(&CONFIG_MAP.replace("metadata:\n", "metadata:\n  namespace: Team_A\n"))
                .expect("k8s/m.yaml:1 (document 1)")
                .expect("namespace `Team_A`")
                .expect("not a valid namespace name"),
            case("manifest_namespace_nothing_creates", &["up"])
                .config(&with_manifests(""))
                .manifest(&CONFIG_MAP.replace("metadata:\n", "metadata:\n  namespace: other\n"))
                .expect("namespace `other` is used by ConfigMap other/settings")
                .expect("add a Namespace object named `other`"),
            case("manifest_label_key_invalid", &["up"])
                .config(&with_manifests(""))
                .manifest(&CONFIG_MAP.replace("metadata:\n", "metadata:\n  labels:\n    \"team name\": a\n"))
                .expect("k8s/m.yaml:1 (document 1)")
                .expect("label `team name`"),
            case("manifest_label_value_too_long", &["up"])
                .config(&with_manifests(""))
                .manifest(&CONFIG_MAP.replace("metadata:\n", &format!("metadata:\n  labels:\n    tier: {}\n", "x".repeat(64))))
                .expect("k8s/m.yaml:1 (document 1)")
                .expect("label `tier`"),
            case("manifest_label_value_not_a_string", &["plan"])
                .config(&with_manifests(""))
                .manifest(&CONFIG_MAP.replace("metadata:\n", "metadata:\n  labels:\n    version: 1\n"))
                .expect("has label `version` at /metadata/labels")
                .expect("the value `1` is not a string: quote it (`\"1\"`)"),
            case("manifest_annotation_value_not_a_string", &["up"])
                .config(&with_manifests(""))
                .manifest("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n      annotations:\n        prometheus.io/port: 8080\n    spec:\n      containers: [{name: web, image: nginx:1.27}]\n")
                .expect("has annotation `prometheus.io/port` at /spec/template/metadata/annotations")
                .expect("quote it (`\"8080\"`)"),
            case("manifest_annotations_not_a_mapping", &["up"])
                .config(&with_manifests(""))
                .manifest(&CONFIG_MAP.replace("metadata:\n", "metadata:\n  annotations: [owner=me]\n"))
                .expect("has /metadata/annotations that is not a mapping"),
            case("manifest_namespace_not_a_string", &["up"])
                .config(&with_manifests(""))
                .manifest(&CONFIG_MAP.replace("metadata:\n", "metadata:\n  namespace: 5\n"))
                .expect("ConfigMap has `metadata.namespace: 5`, which is not a string"),
            case("manifest_pod_template_label_invalid", &["up"])
                .config(&with_manifests(""))
                .manifest("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web, \"bad/key/x\": y}\n    spec:\n      containers: [{name: web, image: nginx:1.27}]\n")
                .expect("label `bad/key/x`"),
            case("manifest_depends_on_names_nothing", &["up"])
                .config(&with_manifests(""))
                .manifest(&CONFIG_MAP.replace(
                    "metadata:\n",
                    "metadata:\n  annotations:\n    ohdev.dev/depends-on: ConfigMap/missing\n",
                ))
                .expect("depends on `ConfigMap/missing` (ohdev.dev/depends-on annotation), which is not in the manifest set"),
            case("manifest_depends_on_malformed", &["plan"])
                .config(&with_manifests(""))
                .manifest(&CONFIG_MAP.replace("metadata:\n", "metadata:\n  annotations:\n    ohdev.dev/depends-on: a/b/c/d\n"))
                .expect("has `a/b/c/d` in its ohdev.dev/depends-on annotation")
                .expect("write `Kind/name` or `Kind/namespace/name`"),
            case("manifest_dependency_cycle", &["up"])
                .config(&with_manifests(""))
                .manifest(&format!(
                    "{}---\n{}",
                    CONFIG_MAP.replace("metadata:\n", "metadata:\n  annotations:\n    ohdev.dev/depends-on: ConfigMap/other\n"),
                    CONFIG_MAP.replace("settings", "other").replace("metadata:\n", "metadata:\n  annotations:\n    ohdev.dev/depends-on: ConfigMap/settings\n")
                ))
                .expect("dependency cycle: ")
                .expect("remove one of these dependencies"),
            case("manifest_patch_targets_nothing", &["up"])
                .config(&with_manifests(
                    "patches:\n  - target: {kind: ConfigMap, name: setings}\n    ops: [{op: add, path: /data/x, value: y}]\n",
                ))
                .manifest(CONFIG_MAP)
                .expect("patches[0] targets ConfigMap/setings, which is not in the manifest set")
                .expect("fix `target:` in ohdev.yaml"),
            case("manifest_patch_path_missing", &["up"])
                .config(&with_manifests(
                    "patches:\n  - target: {kind: ConfigMap, name: settings}\n    ops: [{op: replace, path: /spec/replicas, value: 2}]\n",
                ))
                .manifest(CONFIG_MAP)
                .expect("patches[0].ops[0] (replace /spec/replicas) on ConfigMap app/settings")
                .expect("fix the path in ohdev.yaml"),
            case("manifest_patch_path_not_a_pointer", &["plan"])
                .config(&with_manifests(
                    "patches:\n  - target: {kind: ConfigMap, name: settings}\n    ops: [{op: add, path: data/x, value: y}]\n",
                ))
                .manifest(CONFIG_MAP)
                .expect("`data/x` is not a JSON pointer"),
            case("manifest_patch_makes_name_invalid", &["up"])
                .config(&with_manifests(
                    "patches:\n  - target: {kind: ConfigMap, name: settings}\n    ops: [{op: replace, path: /metadata/name, value: Bad_Name}]\n",
                ))
                .manifest(CONFIG_MAP)
                .expect("after the `patches:` of [PROJECT]/ohdev.yaml were applied")
                .expect("ConfigMap has the name `Bad_Name`"),
            case("manifest_patch_removes_api_version", &["up"])
                .config(&with_manifests(
                    "patches:\n  - target: {kind: ConfigMap, name: settings}\n    ops: [{op: remove, path: /apiVersion}]\n",
                ))
                .manifest(CONFIG_MAP)
                .expect("patches[0] leaves ConfigMap app/settings from [PROJECT]/k8s/m.yaml:1 (document 1) without apiVersion"),
            case("manifest_patch_makes_duplicate", &["up"])
                .config(&with_manifests(
                    "patches:\n  - target: {kind: ConfigMap, name: other}\n    ops: [{op: replace, path: /metadata/name, value: settings}]\n",
                ))
                .manifest(&format!("{CONFIG_MAP}---\n{}", CONFIG_MAP.replace("settings", "other")))
                .expect("after the `patches:` of [PROJECT]/ohdev.yaml were applied")
                .expect("ConfigMap app/settings is defined twice"),
            case("manifest_patch_moves_to_missing_namespace", &["up"])
                .config(&with_manifests(
                    "patches:\n  - target: {kind: ConfigMap, name: settings}\n    ops: [{op: replace, path: /metadata/namespace, value: elsewhere}]\n",
                ))
                .manifest(CONFIG_MAP)
                .expect("namespace `elsewhere`"),
            case("manifest_secret_key_missing_from_env", &["up"])
                .config(&secret_config("[API_KEY, OHDEV_BAD_INPUT_TOKEN]"))
                .file(".env", "# test value, never printed\nAPI_KEY=sk-BAD-INPUT-SECRET\n")
                .manifest(CONFIG_MAP)
                .expect("secrets.app-secrets in ohdev.yaml: key OHDEV_BAD_INPUT_TOKEN is set neither in [PROJECT]/.env nor in the environment")
                .expect("add a line `OHDEV_BAD_INPUT_TOKEN=<value>`"),
            case("manifest_secret_env_file_missing", &["up"])
                .config(&secret_config("[OHDEV_BAD_INPUT_TOKEN]"))
                .manifest(CONFIG_MAP)
                .expect("[PROJECT]/.env (which does not exist)"),
            case("manifest_env_file_unclosed_quote", &["up"])
                .config(&secret_config("[API_KEY]"))
                .file(".env", "OTHER=1\nAPI_KEY=\"sk-BAD-INPUT-SECRET\n")
                .manifest(CONFIG_MAP)
                .expect("[PROJECT]/.env:2: a quoted value is never closed"),
            case("manifest_env_file_line_without_equals", &["plan"])
                .config(&secret_config("[API_KEY]"))
                .file(".env", "API_KEY sk-BAD-INPUT-SECRET\n")
                .manifest(CONFIG_MAP)
                .expect("[PROJECT]/.env:1: this line has no `=`"),
            case("manifest_secret_namespace_nothing_creates", &["up"])
                .config(&with_manifests(
                    "secrets:\n  app-secrets:\n    env_file: .env\n    keys: [API_KEY]\n    namespace: elsewhere\n",
                ))
                .file(".env", "API_KEY=sk-BAD-INPUT-SECRET\n")
                .manifest(CONFIG_MAP)
                .expect("namespace `elsewhere` is used by Secret elsewhere/app-secrets"),
            case("manifest_secret_also_in_manifests", &["up"])
                .config(&secret_config("[API_KEY]"))
                .file(".env", "API_KEY=sk-BAD-INPUT-SECRET\n")
                .manifest("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-secrets\n")
                .expect("Secret app/app-secrets is defined twice"),
            case("manifest_list_with_bad_item", &["up"])
                .config(&with_manifests(""))
                .manifest("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: good}\n- kind: ConfigMap\n  metadata: {name: no-version}\n")
                .expect("ConfigMap/no-version has no apiVersion"),
            case("manifest_list_with_scalar_item", &["plan"])
                .config(&with_manifests(""))
                .manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: List\nitems:\n- hello\n")
                .expect("k8s/m.yaml:5 (document 2): the document is a string"),
            case("manifest_unknown_image_placeholder", &["up"])
                .config(&with_manifests(""))
                .manifest("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  image: \"${image:runtime}\"\n")
                .expect("uses ${image:runtime} at /data/image, but ohdev.yaml has no image `runtime`"),
            case("manifest_bad_while_rebuilding", &["rebuild"])
                .config(&rebuild_config)
                .dockerfile()
                .manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n")
                .setup(Setup::Cluster)
                .expect("the ConfigMap has no metadata.name"),
            case("manifest_bad_when_watch_starts", &["watch"])
                .config(&rebuild_config)
                .dockerfile()
                .manifest(&CONFIG_MAP.replace("settings", "Demo_Config"))
                .setup(Setup::Cluster)
                .expect("`Demo_Config`, which the cluster refuses"),
        ],
    );
}

// ------------------------------------------------------------------------------------------
// Dockerfiles, build contexts and ignore files

#[test]
fn dockerfiles_and_contexts() {
    run_area(
        "dockerfiles",
        vec![
            case("dockerfile_missing", &["up"])
                .config(&one_image(""))
                .expect("images.app-{id}.dockerfile is Dockerfile, which is not a file in the context [PROJECT]")
                .expect("relative to the context"),
            case("dockerfile_wrong_path", &["build"])
                .config(&one_image("    dockerfile: docker/Dockerfile.dev\n"))
                .dockerfile()
                .expect("images.app-{id}.dockerfile is docker/Dockerfile.dev, which is not a file"),
            case("dockerfile_is_a_directory", &["build"])
                .config(&one_image(""))
                .dir("Dockerfile")
                .expect("images.app-{id}.dockerfile is Dockerfile, which is not a file"),
            case("dockerfile_wrong_case", &["up"])
                .config(&one_image(""))
                .file("dockerfile", DOCKERFILE)
                .expect("images.app-{id}.dockerfile is Dockerfile, which is not a file"),
            case("dockerfile_of_a_dependency_missing", &["build", "app-{id}"])
                .config(&format!(
                    "cluster:\n  name: t\nimages:\n  base-{ID}:\n    context: base\n  app-{ID}:\n    depends_on: [base-{ID}]\nmanifests: []\n"
                ))
                .dockerfile()
                .dir("base")
                .expect("images.base-{id}.dockerfile is Dockerfile, which is not a file in the context [PROJECT]/base"),
            case("context_missing", &["up"])
                .config(&one_image("").replace("context: .", "context: src"))
                .expect("images.app-{id}.context is [PROJECT]/src, which is not a directory")
                .expect("point `context` at the build context"),
            case("context_is_a_file", &["build"])
                .config(&one_image("").replace("context: .", "context: Dockerfile"))
                .dockerfile()
                .expect("images.app-{id}.context is [PROJECT]/Dockerfile, which is not a directory"),
            case("context_default_from_variable_missing", &["up"])
                .config(&one_image("").replace("context: .", "context: ${OHDEV_BAD_INPUT_ROOT:-checkout-{id}}"))
                .expect("images.app-{id}.context is [PROJECT]/checkout-{id}, which is not a directory"),
            case("context_lacks_expected_paths", &["build"])
                .config(&one_image("    expect: [pyproject.toml, frontend]\n"))
                .dockerfile()
                .expect("(from `.`), which lacks pyproject.toml, frontend"),
            case("openhands_defaults_without_a_checkout", &["up"])
                .config("{}\n")
                .expect("images.app.context is [PROJECT] (from `${OPENHANDS_ROOT:-.}`), which lacks pyproject.toml, openhands, frontend")
                .expect("export OPENHANDS_ROOT=/path/to/OpenHands"),
            case("dockerfile_missing_on_rebuild", &["rebuild"])
                .config(&one_image("    dockerfile: docker/Dockerfile\n"))
                .setup(Setup::Cluster)
                .expect("images.app-{id}.dockerfile is docker/Dockerfile, which is not a file"),
            case("context_missing_on_rebuild", &["rebuild", "app-{id}"])
                .config(&one_image("").replace("context: .", "context: src"))
                .setup(Setup::Cluster)
                .expect("images.app-{id}.context is [PROJECT]/src, which is not a directory"),
            case("context_missing_on_watch", &["watch"])
                .config(&one_image("").replace("context: .", "context: src"))
                .setup(Setup::Cluster)
                .expect("images.app-{id}.context is [PROJECT]/src, which is not a directory"),
            case("dockerfile_missing_on_watch", &["watch"])
                .config(&one_image(""))
                .setup(Setup::Cluster)
                .expect("images.app-{id}.dockerfile is Dockerfile, which is not a file"),
            case("dockerignore_is_a_directory", &["build"])
                .config(&one_image(""))
                .dockerfile()
                .dir(".dockerignore")
                .docker()
                .expect(".dockerignore"),
        ],
    );
}

// ------------------------------------------------------------------------------------------
// Paths: -C, --config, ohdev.yaml found upwards

#[test]
fn paths() {
    run_area(
        "paths",
        vec![
            case("path_project_dir_missing", &["-C", "nope", "up"])
                .expect("-C [PROJECT]/nope: no such directory")
                .expect("pass the directory that holds ohdev.yaml"),
            case("path_project_dir_is_a_file", &["-C", "ohdev.yaml", "plan"])
                .expect("-C [PROJECT]/ohdev.yaml")
                .expect("not a directory"),
            case("path_config_missing", &["--config", "nope.yaml", "up"])
                .expect("[PROJECT]/nope.yaml: cannot read: No such file or directory")
                .expect("check the path given to --config"),
            case("path_config_is_a_directory", &["--config", "kind", "status"])
                .expect("[PROJECT]/kind: cannot read")
                .expect("--config"),
            case("path_config_relative_to_project_dir", &["-C", "sub", "--config", "ohdev.yaml", "plan"])
                .dir("sub")
                .expect("[PROJECT]/sub/ohdev.yaml: cannot read"),
            case("path_config_empty", &["--config", "", "plan"]).expect("a value is required for '--config <FILE>'"),
            case("path_no_ohdev_yaml", &["up"])
                .remove("ohdev.yaml")
                .expect("no ohdev.yaml found in [PROJECT] or any parent directory")
                .expect("pass --config FILE"),
            case("path_found_upwards_with_an_error", &["plan"])
                .config("cluster:\n  name: t\n  nmae: u\n")
                .dir("src/deep")
                .in_dir("src/deep")
                .expect("[PROJECT]/ohdev.yaml:3:")
                .expect("did you mean `name`?"),
            case("path_found_upwards_cluster_config_missing", &["status"])
                .remove("kind/cluster.yaml")
                .dir("src/deep")
                .in_dir("src/deep")
                .expect("[PROJECT]/kind/cluster.yaml: cannot read the kind cluster config"),
            case("path_found_upwards_manifests_missing", &["up"])
                .config("cluster:\n  name: t\nimages: {}\nmanifests: [k8s]\n")
                .dir("src")
                .in_dir("src")
                .expect("manifest path [PROJECT]/k8s does not exist"),
            case("path_config_elsewhere_resolves_its_own_paths", &["--config", "conf/ohdev.yaml", "up"])
                .file(
                    "conf/ohdev.yaml",
                    "cluster:\n  name: t\n  config: ../kind/cluster.yaml\nimages: {}\nmanifests: [k8s]\n",
                )
                .manifest(CONFIG_MAP)
                .expect("manifest path [PROJECT]/conf/k8s does not exist"),
            case("path_cluster_config_absolute_missing", &["up"])
                .config("cluster:\n  name: t\n  config: /nonexistent/ohdev-{id}/cluster.yaml\nmanifests: []\n")
                .expect("/nonexistent/ohdev-{id}/cluster.yaml: cannot read the kind cluster config"),
            case("path_manifests_outside_the_project", &["plan"])
                .config("cluster:\n  name: t\nmanifests: [/nonexistent/ohdev-{id}/k8s]\n")
                .expect("manifest path /nonexistent/ohdev-{id}/k8s does not exist"),
        ],
    );
}

// ------------------------------------------------------------------------------------------
// Command-line flags and arguments

#[test]
fn flags() {
    let image = format!("cluster:\n  name: t\nimages:\n  app-{ID}: {{}}\nmanifests: []\n");
    run_area(
        "flags",
        vec![
            case("flag_up_timeout_zero", &["up", "--timeout", "0s"])
                .expect("invalid value '0s' for '--timeout <DURATION>'")
                .expect("leaves no time to wait"),
            case("flag_up_timeout_word", &["up", "--timeout", "soon"]).expect("`soon` is not a duration"),
            case("flag_up_timeout_negative", &["up", "--timeout=-5s"]).expect("`-5s` is not a duration"),
            case("flag_rebuild_timeout_zero", &["rebuild", "--timeout", "0"]).expect("`0` leaves no time to wait"),
            case("flag_build_unknown_image", &["build", "ap-{id}"])
                .config(&image)
                .dockerfile()
                .expect("no image named `ap-{id}` in [PROJECT]/ohdev.yaml")
                .expect("did you mean `app-{id}`?"),
            case("flag_build_unknown_image_among_known", &["build", "app-{id}", "web"])
                .config(&image)
                .dockerfile()
                .expect("no image named `web`")
                .expect("images: app-{id}"),
            case("flag_build_image_when_there_are_none", &["build", "web"])
                .expect("no image named `web`")
                .expect("images: (none)"),
            case("flag_rebuild_unknown_image", &["rebuild", "ap-{id}"])
                .config(&image)
                .dockerfile()
                .expect("`ap-{id}` is neither an image in ohdev.yaml nor an object of the manifests")
                .expect("did you mean `app-{id}`?"),
            case("flag_logs_since_bad_unit", &["logs", "--since", "5x"])
                .expect("--since 5x: not a duration")
                .expect("like 30s, 5m, 2h or 1h30m"),
            case("flag_logs_since_empty", &["logs", "--since", ""]).expect("not a duration"),
            case("flag_logs_since_negative", &["logs", "--since=-5m"]).expect("--since -5m: not a duration"),
            case("flag_logs_tail_negative", &["logs", "--tail", "-1"]).expect("unexpected argument '-1'"),
            case("flag_logs_tail_word", &["logs", "--tail", "all"]).expect("invalid value 'all' for '--tail <N>'"),
            case("flag_logs_container_empty", &["logs", "-c", ""]).expect("--container needs a container name"),
            case("flag_logs_target_without_name", &["logs", "Deployment/"]).expect("`Deployment/`: expected KIND/NAME"),
            case("flag_unknown_subcommand", &["deploy"]).expect("unrecognized subcommand 'deploy'"),
            case("flag_no_subcommand", &[]).expect("Usage: ohdev"),
            case("flag_color_purple", &["--color", "purple", "up"])
                .expect("invalid value 'purple' for '--color <WHEN>'")
                .expect("[possible values: auto, always, never]"),
            case("flag_unknown_flag", &["up", "--frce"]).expect("unexpected argument '--frce'").expect("--force"),
            case("flag_completions_unknown_shell", &["completions", "tcsh"]).expect("invalid value 'tcsh'"),
            case("flag_down_extra_argument", &["down", "now"]).expect("unexpected argument 'now'"),
            case("flag_json_config_error", &["--json", "up"])
                .config("cluster:\n  name: t\n  nmae: u\n")
                .expect("did you mean `name`?"),
            case("flag_json_unknown_image", &["--json", "build", "web"]).expect("no image named `web`"),
        ],
    );
}

// ------------------------------------------------------------------------------------------
// State: `.ohdev`, the lock, what the cluster must already have

#[test]
fn state() {
    let image = format!("cluster:\n  name: t\nimages:\n  app-{ID}:\n    context: .\nmanifests: []\n");
    let holder = format!(
        "cluster:\n  name: t\nimages:\n  holder-{ID}:\n    context: .\n    prebuild: [sh, -c, \"touch .holding && exec sleep 60\"]\nmanifests: []\n"
    );
    run_area(
        "state",
        vec![
            case("state_dir_is_a_file_up", &["up"])
                .file(".ohdev", "not a directory\n")
                .docker()
                .expect("[PROJECT]/.ohdev is a file, but ohdev keeps its state in a directory of that name")
                .expect("move the file away"),
            case("state_dir_is_a_file_build", &["build"])
                .config(&image)
                .dockerfile()
                .file(".ohdev", "not a directory\n")
                .docker()
                .expect("[PROJECT]/.ohdev is a file"),
            case("state_dir_is_a_file_down", &["down", "--yes"])
                .file(".ohdev", "not a directory\n")
                .expect("[PROJECT]/.ohdev is a file"),
            case("state_dir_is_a_file_rebuild", &["rebuild"])
                .config(&image)
                .dockerfile()
                .file(".ohdev", "not a directory\n")
                .setup(Setup::Cluster)
                .expect("[PROJECT]/.ohdev is a file"),
            case("state_lock_is_a_directory", &["down", "--yes"])
                .dir(".ohdev/lock")
                .expect("[PROJECT]/.ohdev/lock is a directory, but ohdev keeps its lock in a file of that name"),
            case("state_lock_held_up", &["up"])
                .config(&holder)
                .setup(Setup::LockHeld)
                .expect("another ohdev (pid ")
                .expect("build) is changing this project ([PROJECT]/.ohdev/lock)")
                .expect("wait for it to finish, or stop it"),
            case("state_lock_held_down", &["down", "--yes"])
                .config(&holder)
                .setup(Setup::LockHeld)
                .expect("another ohdev (pid "),
            case("state_rebuild_without_a_cluster", &["rebuild"])
                .config(&image)
                .dockerfile()
                .docker()
                .expect("kind cluster \"t\" does not exist")
                .expect("run `ohdev up` first"),
            case("state_watch_without_a_cluster", &["watch"])
                .config(&image)
                .dockerfile()
                .docker()
                .expect("kind cluster \"t\" does not exist"),
        ],
    );
}

// ------------------------------------------------------------------------------------------
// gc: `gc.keep`, `images.<name>.keep`, `ohdev gc --keep`

#[test]
fn gc() {
    run_area(
        "gc",
        vec![
            case("gc_keep_zero", &["gc"])
                .config("cluster:\n  name: t\nimages: {}\nmanifests: []\ngc:\n  keep: 0\n")
                .expect("ohdev.yaml:6: `gc.keep` is 0: ohdev gc would keep no earlier tag to go back to")
                .expect("write a whole number from 1 to 1000"),
            case("gc_keep_not_a_number", &["rebuild"])
                .config("cluster:\n  name: t\nimages: {}\nmanifests: []\ngc:\n  keep: all\n")
                .setup(Setup::Cluster)
                .expect("ohdev.yaml:6: `gc.keep` is `all`, which is not a number of tags"),
            case("gc_unknown_key", &["gc"])
                .config("cluster:\n  name: t\nimages: {}\nmanifests: []\ngc:\n  kepe: 2\n")
                .expect("ohdev.yaml:6: unknown key `kepe` at `gc`")
                .expect("did you mean `keep`?"),
            case("gc_image_keep_too_large", &["up"])
                .config(&one_image("    keep: 5000\n"))
                .dockerfile()
                .expect("`images.app-{id}.keep` is 5000, more than ohdev keeps (1000)"),
            case("gc_flag_keep_zero", &["gc", "--keep", "0"]).expect("invalid value '0' for '--keep <N>'"),
        ],
    );
}
