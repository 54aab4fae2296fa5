//! containers/app/entrypoint.sh for real, in a container of the busybox base, run as Kubernetes
//! runs the app (uid 42420, read-only root filesystem, no capabilities). There is no Python in
//! that base: a shell loop stands in for uvicorn. It prints its pid and the "source" it serves
//! (the file /src/version, on a writable tmpfs as the dev-source volume is) and exits on SIGTERM.
//!
//! - Production (no OHDEV_DEV_MODE): the server is exec'd, so it is PID 1.
//! - Dev mode: the sync rule's `sh -c "kill -HUP 1"`, run with `docker exec` as ohdev runs it with
//!   `kubectl exec`, stops the server (SIGTERM) and starts it again on the synced source, in the
//!   same container (same start time, no restart).
//! - A server that crashes is not restarted in a loop; the container stays up and the next SIGHUP
//!   starts it. A server that ignores SIGTERM is killed after OHDEV_RESTART_GRACE.
//! - `docker stop` (SIGTERM to PID 1) stops the server and ends the container with its status.
//!
//!
//! The dev-mode seed (the init container's `cp -a` from ohdev.yaml) runs with GNU cp, as in the
//! Debian-based app image, as the app's uid, into a root-owned 0777 directory like an emptyDir:
//! it must succeed and keep the files' times (busybox's cp only warns where GNU cp fails).
//!
//! Waits poll the container's logs with a generous deadline; nothing asserts on timing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::Docker;
use futures_util::StreamExt;

use crate::support::docker::{runtime, unique};

const DEADLINE: Duration = Duration::from_secs(60);
/// How long nothing may happen after a crash for "not restarted in a loop" to hold.
const QUIET: Duration = Duration::from_secs(3);
const ENTRYPOINT: &str = include_str!("../../containers/app/entrypoint.sh");
/// The stand-in for uvicorn: `server <pid> serves <version>`; `/src/stubborn` makes it ignore SIGTERM.
const FAKE_SERVER: &str = r#"
version="$(cat /src/version 2>/dev/null || echo none)"
echo "server $$ serves $version"
if [ -e /src/stubborn ]; then
    trap 'echo "server $$ ignores TERM"' TERM
else
    trap 'echo "server $$ stops"; exit 0' TERM
fi
while :; do sleep 1 & wait $!; done
"#;

/// Removes the test's containers and image, also when it panics.
struct Cleanup {
    containers: Vec<String>,
    image: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let containers = std::mem::take(&mut self.containers);
        let image = self.image.clone();
        let _ = std::thread::spawn(move || {
            crate::support::docker::with_docker(|docker| async move {
                for id in containers {
                    let options =
                        bollard::query_parameters::RemoveContainerOptionsBuilder::default().force(true).v(true).build();
                    let _ = docker.remove_container(&id, Some(options)).await;
                }
                let options = bollard::query_parameters::RemoveImageOptionsBuilder::default().force(true).build();
                let _ = docker.remove_image(&image, Some(options), None).await;
            })
        })
        .join();
    }
}

/// An image of the busybox base with the entrypoint at /app/entrypoint.sh (mode 0755), as the app
/// image has it.
async fn build_image(docker: &Docker, base: &str, tag: &str) {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, mode, text) in [
        ("Dockerfile", 0o644, "ARG BASE\nFROM ${BASE}\nCOPY entrypoint.sh /app/entrypoint.sh\nUSER 42420:42420\n"),
        ("entrypoint.sh", 0o755, ENTRYPOINT),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(mode);
        header.set_cksum();
        builder.append_data(&mut header, path, text.as_bytes()).expect("context tar");
    }
    let context = builder.into_inner().expect("context tar");
    let options = bollard::query_parameters::BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(tag)
        .buildargs(&HashMap::from([("BASE", base)]))
        .labels(&HashMap::from([("ohdev.test", "1")]))
        .rm(true)
        .forcerm(true)
        .build();
    let mut stream = docker.build_image(options, None, Some(bollard::body_full(context.into())));
    let mut log = String::new();
    while let Some(item) = stream.next().await {
        let info = item.unwrap_or_else(|error| panic!("building the entrypoint image: {error}\n{log}"));
        log.push_str(&info.stream.unwrap_or_default());
        if let Some(detail) = info.error_detail {
            panic!("building the entrypoint image: {:?}\n{log}", detail.message);
        }
    }
}

/// Starts the image as Kubernetes runs the app: read-only root, no capabilities, no new
/// privileges, writable tmpfs at /src (the synced sources) and /tmp.
async fn start(docker: &Docker, image: &str, env: &[&str], cleanup: &mut Cleanup) -> String {
    let host_config = bollard::models::HostConfig {
        readonly_rootfs: Some(true),
        cap_drop: Some(vec!["ALL".into()]),
        security_opt: Some(vec!["no-new-privileges".into()]),
        tmpfs: Some(HashMap::from([
            ("/src".to_string(), "mode=1777".to_string()),
            ("/tmp".into(), "mode=1777".into()),
        ])),
        ..Default::default()
    };
    let body = bollard::models::ContainerCreateBody {
        image: Some(image.to_string()),
        entrypoint: Some(vec!["/app/entrypoint.sh".into()]),
        cmd: Some(vec!["sh".into(), "-c".into(), FAKE_SERVER.into()]),
        env: Some(env.iter().map(|var| var.to_string()).collect()),
        labels: Some(HashMap::from([("ohdev.test".to_string(), "1".to_string())])),
        host_config: Some(host_config),
        ..Default::default()
    };
    let name = format!("ohdev-test-entrypoint-{}", unique());
    let create = bollard::query_parameters::CreateContainerOptionsBuilder::default().name(&name).build();
    let created = docker.create_container(Some(create), body).await.expect("create container");
    cleanup.containers.push(created.id.clone());
    docker.start_container(&created.id, None).await.expect("start container");
    created.id
}

async fn logs(docker: &Docker, id: &str) -> String {
    let options = bollard::query_parameters::LogsOptionsBuilder::default().stdout(true).stderr(true).build();
    let mut stream = docker.logs(id, Some(options));
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        text.push_str(&chunk.expect("container logs").to_string());
    }
    text
}

/// Polls the logs until a line satisfies `find`; returns what it extracted.
async fn wait_for_line<T>(docker: &Docker, id: &str, what: &str, find: impl Fn(&str) -> Option<T>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let text = logs(docker, id).await;
        if let Some(found) = text.lines().find_map(&find) {
            return found;
        }
        assert!(Instant::now() < deadline, "waited {DEADLINE:?} for {what}; logs:\n{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The pid of the server that printed `serves <version>`, other than those in `not`.
async fn server_serving(docker: &Docker, id: &str, version: &str, not: &[u32]) -> u32 {
    wait_for_line(docker, id, &format!("a server serving {version}"), |line| {
        let rest = line.strip_prefix("server ")?;
        let (pid, served) = rest.split_once(" serves ")?;
        let pid: u32 = pid.parse().ok()?;
        (served == version && !not.contains(&pid)).then_some(pid)
    })
    .await
}

async fn exec(docker: &Docker, id: &str, script: &str) {
    let config = bollard::models::ExecConfig {
        cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        ..Default::default()
    };
    let created = docker.create_exec(id, config).await.expect("create exec");
    let mut output = String::new();
    if let bollard::exec::StartExecResults::Attached { output: mut stream, .. } =
        docker.start_exec(&created.id, None::<bollard::exec::StartExecOptions>).await.expect("start exec")
    {
        while let Some(chunk) = stream.next().await {
            output.push_str(&chunk.expect("exec output").to_string());
        }
    }
    let code = docker.inspect_exec(&created.id).await.expect("inspect exec").exit_code;
    assert_eq!(code, Some(0), "`{script}` in the container: {output}");
}

/// (running, restart count, started at) of the container.
async fn state(docker: &Docker, id: &str) -> (bool, i64, String) {
    let inspect = docker.inspect_container(id, None).await.expect("inspect container");
    let state = inspect.state.expect("state");
    (state.running.unwrap_or(false), inspect.restart_count.unwrap_or(-1), state.started_at.unwrap_or_default())
}

#[test]
fn the_entrypoint_restarts_the_server_on_sighup_in_dev_mode_and_the_container_stays() {
    let Some(docker) = crate::support::docker::client() else { return };
    let Some(base) = crate::support::busybox::base_image() else { return };
    runtime().block_on(async move {
        let tag = format!("ohdev-test/entrypoint:{}", unique());
        let mut cleanup = Cleanup { containers: Vec::new(), image: tag.clone() };
        build_image(&docker, &base, &tag).await;

        // Production: the server is exec'd and is PID 1 (no supervisor, SIGHUP means nothing).
        let production = start(&docker, &tag, &[], &mut cleanup).await;
        let pid = server_serving(&docker, &production, "none", &[]).await;
        assert_eq!(pid, 1, "without OHDEV_DEV_MODE the server must be exec'd as PID 1");
        assert!(!logs(&docker, &production).await.contains("dev mode"));

        // Dev mode: the entrypoint stays PID 1 and the server is its child.
        let id = start(&docker, &tag, &["OHDEV_DEV_MODE=1", "OHDEV_RESTART_GRACE=2"], &mut cleanup).await;
        let first = server_serving(&docker, &id, "none", &[]).await;
        assert_ne!(first, 1, "in dev mode the supervisor is PID 1");
        let logged = logs(&docker, &id).await;
        assert!(logged.contains(&format!("entrypoint: dev mode: server started (pid {first})")), "{logged}");
        let (running, restarts, started_at) = state(&docker, &id).await;
        assert!(running);

        // A sync: the new source lands, then the sync rule's command.
        exec(&docker, &id, "echo v2 > /src/version && kill -HUP 1").await;
        let second = server_serving(&docker, &id, "v2", &[first]).await;
        let logged = logs(&docker, &id).await;
        assert!(logged.contains(&format!("server {first} stops")), "the old server got SIGTERM:\n{logged}");
        assert_eq!(state(&docker, &id).await, (true, restarts, started_at.clone()), "the container was restarted");

        // A crash is not restarted in a loop: the container waits for the next change.
        exec(&docker, &id, &format!("kill -KILL {second}")).await;
        wait_for_line(&docker, &id, "the crash notice", |line| {
            line.contains("the server exited with status 137; waiting for a change").then_some(())
        })
        .await;
        assert_eq!(state(&docker, &id).await, (true, restarts, started_at.clone()), "a crash ended the container");
        // Far longer than the supervisor's one-second wait step: a restart loop would show by now.
        let servers = |text: &str| text.lines().filter(|line| line.contains(" serves ")).count();
        let before = servers(&logs(&docker, &id).await);
        tokio::time::sleep(QUIET).await;
        let logged = logs(&docker, &id).await;
        assert_eq!(servers(&logged), before, "the crashed server was restarted without a SIGHUP:\n{logged}");
        exec(&docker, &id, "kill -HUP 1").await;
        let third = server_serving(&docker, &id, "v2", &[first, second]).await;

        // A server that ignores SIGTERM is killed after the grace period, then started again.
        exec(&docker, &id, "touch /src/stubborn && kill -HUP 1").await;
        let stubborn = server_serving(&docker, &id, "v2", &[first, second, third]).await;
        exec(&docker, &id, "rm /src/stubborn && echo v3 > /src/version && kill -HUP 1").await;
        let last = server_serving(&docker, &id, "v3", &[]).await;
        let logged = logs(&docker, &id).await;
        assert!(logged.contains(&format!("server {stubborn} ignores TERM")), "{logged}");
        assert!(
            logged.contains(&format!("the server (pid {stubborn}) did not stop within 2s: killing it")),
            "{logged}"
        );
        assert_eq!(state(&docker, &id).await, (true, restarts, started_at.clone()));

        // `docker stop` (SIGTERM to PID 1) stops the server; the container ends with its status.
        let options = bollard::query_parameters::StopContainerOptionsBuilder::default().t(20).build();
        docker.stop_container(&id, Some(options)).await.expect("stop container");
        let inspect = docker.inspect_container(&id, None).await.expect("inspect container");
        let state = inspect.state.expect("state");
        assert_eq!(state.running, Some(false));
        let logged = logs(&docker, &id).await;
        assert_eq!(state.exit_code, Some(0), "the server's own exit status on SIGTERM; logs:\n{logged}");
        assert!(logged.contains(&format!("server {last} stops")), "{logged}");
        assert_eq!(logged.matches("killing it").count(), 1, "only the stubborn server was killed:\n{logged}");
        drop(cleanup);
    });
}

/// The init container's command of ohdev.yaml's `dev.patches`.
fn seed_command() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ohdev.yaml")).expect("ohdev.yaml");
    let config: serde_yaml::Value = serde_yaml::from_str(&text).expect("ohdev.yaml is YAML");
    let ops = config["dev"]["patches"][0]["ops"].as_sequence().expect("dev.patches[0].ops");
    let init = ops
        .iter()
        .find(|op| op["path"] == "/spec/template/spec/initContainers")
        .expect("a dev patch adds the init containers");
    init["value"][0]["command"]
        .as_sequence()
        .expect("the seed container's command")
        .iter()
        .map(|arg| arg.as_str().expect("a string argument").to_string())
        .collect()
}

#[test]
fn the_dev_seed_copies_the_sources_as_the_app_user_into_an_empty_dir_keeping_their_times() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || which::which("setpriv").is_err() {
        eprintln!("SKIPPED: running the seed as uid 42420 needs root and setpriv (util-linux)");
        return;
    }
    let command = seed_command();
    assert_eq!(command.first().map(String::as_str), Some("cp"), "{command:?}");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
    let source = root.join("app/openhands/server");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(source.join("listen.py"), "app = None\n").unwrap();
    let old = std::time::UNIX_EPOCH + Duration::from_secs(1_577_836_800);
    std::fs::File::options().write(true).open(source.join("listen.py")).unwrap().set_modified(old).unwrap();
    let volume = root.join("dev-source");
    std::fs::create_dir(&volume).unwrap();
    std::fs::set_permissions(&volume, std::fs::Permissions::from_mode(0o777)).unwrap();
    // The command's absolute paths, moved under the temp dir; nothing else changes.
    let moved: Vec<String> = command
        .iter()
        .map(|arg| match arg.strip_prefix('/') {
            Some(path) if path.starts_with("app/") || path.starts_with("dev-source") => {
                root.join(path).display().to_string()
            }
            _ => arg.clone(),
        })
        .collect();
    let output = std::process::Command::new("setpriv")
        .args(["--reuid=42420", "--regid=42420", "--clear-groups", "--"])
        .args(&moved)
        .output()
        .expect("setpriv runs");
    assert!(
        output.status.success(),
        "`{}` as uid 42420 failed:\n{}",
        command.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    // The app mounts the volume's `openhands/` (subPath) over /app/openhands.
    let seeded = volume.join("openhands/server/listen.py");
    assert_eq!(std::fs::read_to_string(&seeded).unwrap(), "app = None\n");
    assert_eq!(std::fs::metadata(&seeded).unwrap().modified().unwrap(), old, "the seed must keep the file's time");
}
