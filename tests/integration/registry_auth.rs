//! A registry that wants a login: the real distribution registry with `auth: htpasswd:` (bcrypt,
//! made by apache2-utils' `htpasswd` in the test), `registry: {host: 127.0.0.1:<port>, create:
//! false}`, and a test `DOCKER_CONFIG` holding the login as an `auths` entry or behind a
//! credential helper script on PATH. The password is unique per test and must never appear in
//! anything ohdev prints or writes under `.ohdev/`.

use std::path::Path;

use crate::registry::{content_tag_of, demo, fixtures, states, Images};
use crate::support::registry::{self, Containers};
use crate::support::{docker, Output, Test};

const USER: &str = "alice";

/// A running registry wanting `alice:<password>`, and the project's `registry:` lines.
struct AuthRegistry {
    port: u16,
    container: String,
    password: String,
    _dir: tempfile::TempDir,
}

fn auth_registry(id: &str, guard: &mut Containers) -> Option<AuthRegistry> {
    let password = format!("pw-{id}-Zq8");
    let line = registry::htpasswd(USER, &password)?;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("htpasswd"), format!("{line}\n")).expect("htpasswd file");
    let port = registry::free_port();
    let container = format!("auth-registry-{id}");
    registry::start_auth_registry(&container, port, dir.path(), guard);
    Some(AuthRegistry { port, container, password, _dir: dir })
}

impl AuthRegistry {
    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn yaml(&self) -> String {
        format!("registry:\n  host: {}\n  create: false\n", self.host())
    }
}

fn base64(text: &str) -> String {
    let output = std::process::Command::new("base64")
        .args(["-w0"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .expect("base64 runs");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A `DOCKER_CONFIG` directory (inside the project, so `.dockerignore` keeps it out of contexts).
fn docker_config(test: &Test, config_json: &str) -> String {
    test.write(".docker/config.json", config_json);
    test.project().join(".docker").display().to_string()
}

/// Nothing ohdev printed, and nothing under `.ohdev/`, holds the password.
#[track_caller]
fn assert_never_shown(test: &Test, outputs: &[&Output], password: &str) {
    for output in outputs {
        assert!(!output.stdout.contains(password), "password in stdout:\n{}", output.stdout);
        assert!(!output.stderr.contains(password), "password in stderr:\n{}", output.stderr);
    }
    let mut stack = vec![test.project().join(".ohdev")];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files += 1;
                let bytes = std::fs::read(&path).expect("read state file");
                assert!(!String::from_utf8_lossy(&bytes).contains(password), "password in {}", path.display());
            }
        }
    }
    assert!(files > 0, "ohdev wrote no state to check");
}

fn project(test_name: &str, registry: &AuthRegistry) -> Option<(Test, String)> {
    let fixtures = fixtures()?;
    let image = format!("{test_name}-{}", docker::unique());
    let test = demo(&fixtures, "unused", &image, &registry.yaml());
    test.write(".dockerignore", ".fake-kube\n.bin\n.docker\n");
    Some((test, image))
}

#[test]
fn build_pushes_with_the_login_from_an_auths_entry_and_never_shows_the_password() {
    let mut guard = Containers::default();
    let Some(registry) = auth_registry(&docker::unique(), &mut guard) else { return };
    let Some((test, image)) = project("auths", &registry) else { return };
    let _images = Images(image.clone());
    let config = format!(
        r#"{{"auths": {{"{}": {{"auth": "{}"}}}}}}"#,
        registry.host(),
        base64(&format!("{USER}:{}", registry.password))
    );
    let test = {
        let dir = docker_config(&test, &config);
        test.env("DOCKER_CONFIG", &dir)
    }
    .args(&["--json", "build"]);
    let built = test.expect(0);
    assert_eq!(states(&built), ["building", "built", "pushing", "pushed"], "{}", built.stdout);
    assert_eq!(registry::stored_tags(&registry.container, &image), [content_tag_of(&built)]);
    // The manifest check before the push is authenticated too: the second build pushes nothing.
    let again = test.expect(0);
    assert_eq!(states(&again), ["up_to_date", "already_pushed"], "{}", again.stdout);
    assert_never_shown(&test, &[&built, &again], &registry.password);
}

#[test]
fn build_pushes_with_the_login_a_credential_helper_gives() {
    let mut guard = Containers::default();
    let Some(registry) = auth_registry(&docker::unique(), &mut guard) else { return };
    let Some((test, image)) = project("helper", &registry) else { return };
    let _images = Images(image.clone());
    let helper = format!("ohdevtest{}", docker::unique().replace('-', ""));
    let helpers = tempfile::tempdir().expect("helper dir");
    let log = helpers.path().join("calls.log");
    let script = format!(
        "#!/bin/sh\nread -r host\necho \"$1 $host\" >> '{}'\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{}\"}}' \"$host\"\n",
        log.display(),
        registry.password
    );
    let path = helpers.path().join(format!("docker-credential-{helper}"));
    std::fs::write(&path, script).expect("helper script");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let config = format!(r#"{{"credHelpers": {{"{}": "{helper}"}}}}"#, registry.host());
    let dir = docker_config(&test, &config);
    let test = test.env("DOCKER_CONFIG", &dir).path_dir(helpers.path()).args(&["--json", "build"]);
    let built = test.expect(0);
    assert_eq!(states(&built), ["building", "built", "pushing", "pushed"], "{}", built.stdout);
    assert_eq!(registry::stored_tags(&registry.container, &image), [content_tag_of(&built)]);
    let calls = std::fs::read_to_string(&log).expect("the helper ran");
    assert!(calls.lines().all(|line| line == format!("get {}", registry.host())), "{calls}");
    assert_never_shown(&test, &[&built], &registry.password);
}

#[test]
fn a_wrong_password_is_exit_2_naming_the_registry_and_the_login_and_nothing_changes() {
    let mut guard = Containers::default();
    let Some(registry) = auth_registry(&docker::unique(), &mut guard) else { return };
    let Some((test, image)) = project("wrong", &registry) else { return };
    let _images = Images(image.clone());
    let wrong = format!("{}-not", registry.password);
    let config_file = Path::new(".docker/config.json");
    let config = format!(r#"{{"auths": {{"{}": {{"username": "{USER}", "password": "{wrong}"}}}}}}"#, registry.host());
    let test = {
        let dir = docker_config(&test, &config);
        test.env("DOCKER_CONFIG", &dir)
    }
    .args(&["up"]);
    let refused = test.expect(2);
    let host = registry.host();
    let expected = format!(
        "registry {host} refused the login (HTTP 401 Unauthorized); credentials used: the `auths` entry \"{host}\" in {}",
        test.project().join(config_file).display()
    );
    assert!(refused.stderr.contains(&expected), "{}", refused.stderr);
    assert!(refused.stderr.contains(&format!("fix: `docker login {host}`")), "{}", refused.stderr);
    assert!(!refused.stderr.contains(&wrong) && !refused.stdout.contains(&wrong), "{}", refused.stderr);
    // Nothing changed: no cluster created, nothing applied, nothing built or pushed.
    let changes: Vec<String> = test
        .calls()
        .iter()
        .map(|call| call.line())
        .filter(|line| !line.starts_with("kind version") && !line.starts_with("kind get"))
        .collect();
    assert!(changes.is_empty(), "{changes:?}");
    let built = std::process::Command::new("docker")
        .args(["images", "-q", "--filter", &format!("label=dev.ohdev.image={image}")])
        .output()
        .expect("docker images");
    assert!(built.stdout.is_empty(), "an image was built");
    assert!(registry::stored_tags(&registry.container, &image).is_empty());

    // No login at all: the same error says so.
    test.write(".docker/config.json", "{}");
    let none = test.expect(2);
    assert!(
        none.stderr.contains(&format!("registry {host} refused `GET /v2/` without credentials (HTTP 401 Unauthorized); credentials used: none (no entry for this registry in")),
        "{}",
        none.stderr
    );
}

#[test]
fn a_node_that_cannot_pull_from_the_registry_names_it_and_the_login_ohdev_pushed_with() {
    let mut guard = Containers::default();
    let id = docker::unique();
    let Some(registry) = auth_registry(&id, &mut guard) else { return };
    let Some(fixtures) = fixtures() else { return };
    let (cluster, image) = (format!("pull-{id}"), format!("pull-{id}"));
    guard.add(format!("{cluster}-control-plane"));
    let _images = Images(image.clone());
    let test = demo(&fixtures, &cluster, &image, &registry.yaml());
    test.write(".dockerignore", ".fake-kube\n.bin\n.docker\n");
    let config = format!(
        r#"{{"auths": {{"{}": {{"auth": "{}"}}}}}}"#,
        registry.host(),
        base64(&format!("{USER}:{}", registry.password))
    );
    let dir = docker_config(&test, &config);
    let test = test.env("DOCKER_CONFIG", &dir).args(&["--json", "up"]);
    // ohdev pushes with the login; the node (the stand-in, like a kind node without a registry
    // login) asks the registry anonymously and is refused: ErrImagePull, then ImagePullBackOff.
    let failed = test.expect(1);
    assert_eq!(registry::stored_tags(&registry.container, &image), [content_tag_of(&failed)]);
    let diagnosis = crate::support::json_lines(&failed.stdout)
        .into_iter()
        .find(|event| event["type"] == "diagnosis")
        .unwrap_or_else(|| panic!("no diagnosis: {}", failed.stdout));
    assert_eq!(diagnosis["reason"], "ImagePullBackOff", "{diagnosis}");
    let host = registry.host();
    let hint = diagnosis["hint"].as_str().unwrap_or_default();
    let source = format!("the `auths` entry \"{host}\" in {}", test.project().join(".docker/config.json").display());
    assert!(
        hint.starts_with(&format!(
            "the node could not pull {host}/{image}:{} from the registry {host}; ohdev pushed it there, credentials used: {source}.",
            content_tag_of(&failed)
        )),
        "{hint}"
    );
    // The kubelet's own words are on the screen too.
    let events = diagnosis["events"].to_string();
    assert!(events.contains("unexpected status from HEAD request: 401"), "{events}");
    assert_never_shown(&test, &[&failed], &registry.password);
}

#[test]
fn a_login_an_advertised_registry_refuses_is_exit_1_after_the_build_and_nothing_is_applied() {
    let mut guard = Containers::default();
    let id = docker::unique();
    let Some(registry) = auth_registry(&id, &mut guard) else { return };
    let Some(fixtures) = fixtures() else { return };
    let (cluster, image) = (format!("adv-{id}"), format!("adv-{id}"));
    guard.add(format!("{cluster}-control-plane"));
    let _images = Images(image.clone());
    // No `registry:`: the cluster advertises the registry (KEP-1755), found only once the cluster
    // is there, so the refusal comes after the build, before any apply.
    let test = demo(&fixtures, &cluster, &image, "").env("FAKE_KUBE_NODE_IMAGE", "");
    test.write(".dockerignore", ".fake-kube\n.bin\n.docker\n");
    let wrong = format!("{}-not", registry.password);
    let config = format!(r#"{{"auths": {{"{}": {{"username": "{USER}", "password": "{wrong}"}}}}}}"#, registry.host());
    let dir = docker_config(&test, &config);
    let test = test.env("DOCKER_CONFIG", &dir).args(&["up"]);
    let context = format!("kind-{cluster}");
    let created = test.tool("kind").args(["create", "cluster", "--name", &cluster]).output().expect("kind");
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let hosting = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: local-registry-hosting, namespace: kube-public}}\ndata:\n  localRegistryHosting.v1: |\n    host: \"{}\"\n",
        registry.host()
    );
    let mut apply = test.tool("kubectl");
    apply.args(["--context", &context, "apply", "-f", "-"]).stdin(std::process::Stdio::piped());
    let mut child = apply.stdout(std::process::Stdio::null()).spawn().expect("kubectl");
    use std::io::Write;
    child.stdin.take().expect("stdin").write_all(hosting.as_bytes()).expect("write");
    assert!(child.wait().expect("apply").success());
    let applies_before = test.calls_matching(" apply ").len();

    let refused = test.expect(1);
    let host = registry.host();
    assert!(
        refused.stderr.contains(&format!(
            "registry {host} refused the login (HTTP 401 Unauthorized); credentials used: the `auths` entry \"{host}\""
        )),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains(&format!("`docker login {host}`")), "{}", refused.stderr);
    assert_eq!(test.calls_matching(" apply ").len(), applies_before, "applied after the refusal: {:?}", test.calls());
    assert!(registry::stored_tags(&registry.container, &image).is_empty());
    assert!(!refused.stderr.contains(&wrong) && !refused.stdout.contains(&wrong));
}
