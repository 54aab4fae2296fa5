//! Signals to a running `ohdev`: it stops every child's process group and exits 128 + the signal,
//! as a shell reports it; a second signal kills the groups at once and exits with the same code.
//! The children are the kind stand-in hanging in `create cluster` (FAKE_KUBE_HANG), or a wrapper
//! around it that survives the polite signal, so only SIGKILL can end it.

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::support::{docker, fake_kube_binary, process_gone, Test};

fn docker_or_skip() -> bool {
    docker::client().is_some()
}

/// `ohdev up`, started with stderr piped, and the pid the stand-in wrote to `pid_file` once it hangs.
fn start_up(test: &Test, command: std::process::Command, pid_file: &Path) -> (Child, i32) {
    let mut command = command;
    let mut child = command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("ohdev starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pid: Option<i32> = std::fs::read_to_string(pid_file).ok().and_then(|text| text.trim().parse().ok());
        let problem = match pid {
            Some(pid) if !process_gone(pid) => return (child, pid),
            Some(pid) => format!("the stand-in {pid} is not running"),
            None if Instant::now() > deadline => "the stand-in never started hanging".to_string(),
            None => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let _ = child.kill();
        let _ = child.wait();
        panic!("{problem}; calls: {:?}", test.calls().iter().map(|call| call.line()).collect::<Vec<_>>());
    }
}

fn send(child: &Child, signal: i32) {
    // SAFETY: kill(2) on the pid of a child this test spawned and has not waited for.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
}

/// Wait for ohdev to exit (bounded), returning its status and stderr.
#[track_caller]
fn wait_exit(mut child: Child) -> (ExitStatus, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "ohdev did not exit after the signal");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    use std::io::Read;
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read stderr");
    (status, stderr)
}

/// The stand-in is gone: ohdev stopped it before exiting (a moment is allowed for a SIGKILLed
/// process to disappear, and to be reaped once ohdev, its parent, is gone).
#[track_caller]
fn assert_gone(pid: i32, stderr: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !process_gone(pid) {
        assert!(Instant::now() < deadline, "stand-in {pid} outlived ohdev; stderr:\n{stderr}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_signal_stops_the_children_and_exits_128_plus_the_signal() {
    if !docker_or_skip() {
        return;
    }
    let cases = [
        (libc::SIGTERM, 143, "error: terminated by SIGTERM; child processes were stopped"),
        (libc::SIGHUP, 129, "error: terminated by SIGHUP (the terminal closed); child processes were stopped"),
        (libc::SIGINT, 130, "error: interrupted by SIGINT (Ctrl-C); child processes were stopped"),
    ];
    for (signal, code, message) in cases {
        let test = Test::new().arg("up").env("FAKE_KUBE_HANG", "create cluster");
        let (child, hung) = start_up(&test, test.command(), &test.state_dir().join("hang.pid"));
        send(&child, signal);
        let (status, stderr) = wait_exit(child);
        assert_eq!(status.code(), Some(code), "signal {signal}; stderr:\n{stderr}");
        assert!(stderr.contains(message), "signal {signal}; stderr:\n{stderr}");
        assert_gone(hung, &stderr);
    }
}

/// A `kind` that answers like the stand-in, except that `create cluster` records every polite
/// signal it gets (in `stubborn.signals`) and keeps going: only SIGKILL ends it. Its output goes
/// nowhere, so ohdev closing the pipes cannot end it either (sh reports the killed `sleep` on
/// stderr, which would be a SIGPIPE).
fn stubborn_kind(test: &Test, command: &std::process::Command) -> PathBuf {
    let real = test.project().join(".real");
    std::fs::create_dir_all(&real).unwrap();
    std::os::unix::fs::symlink(fake_kube_binary(), real.join("kind")).unwrap();
    let state = test.state_dir();
    let script = format!(
        r#"#!/bin/sh
case "$*" in
*"create cluster"*)
  exec >/dev/null 2>&1
  trap 'echo TERM >> "{state}/stubborn.signals"' TERM
  trap 'echo INT >> "{state}/stubborn.signals"' INT
  trap 'echo HUP >> "{state}/stubborn.signals"' HUP
  echo $$ > "{state}/stubborn.tmp" && mv "{state}/stubborn.tmp" "{state}/stubborn.pid"
  while :; do sleep 1; done ;;
*) exec "{real}/kind" "$@" ;;
esac
"#,
        state = state.display(),
        real = real.display()
    );
    // `command()` has laid out the PATH directory: replace its kind with the wrapper.
    let path = command.get_envs().find(|(key, _)| *key == "PATH").and_then(|(_, value)| value).expect("PATH set");
    let bin = PathBuf::from(path.to_str().unwrap().split(':').next().unwrap());
    let kind = bin.join("kind");
    std::fs::remove_file(&kind).unwrap();
    std::fs::write(&kind, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&kind, std::fs::Permissions::from_mode(0o755)).unwrap();
    state.join("stubborn.pid")
}

/// `ohdev up` with the stubborn `kind`, once its `create cluster` hangs.
fn start_stubborn_up(test: &Test) -> (Child, i32) {
    let command = test.command();
    let pid_file = stubborn_kind(test, &command);
    start_up(test, command, &pid_file)
}

fn signals_received(test: &Test) -> Vec<String> {
    std::fs::read_to_string(test.state_dir().join("stubborn.signals"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_child_that_survives_sigterm_is_killed_after_the_grace_before_ohdev_exits() {
    if !docker_or_skip() {
        return;
    }
    let test = Test::new().arg("up");
    let (child, stubborn) = start_stubborn_up(&test);
    send(&child, libc::SIGTERM);
    let (status, stderr) = wait_exit(child);
    assert_eq!(status.code(), Some(143), "stderr:\n{stderr}");
    assert!(stderr.contains("error: terminated by SIGTERM; child processes were stopped"), "{stderr}");
    assert_gone(stubborn, &stderr);
    let received = signals_received(&test);
    assert!(
        !received.is_empty() && received.iter().all(|signal| signal == "TERM"),
        "the polite signal first, and only SIGTERM: {received:?}"
    );
}

#[test]
fn a_second_signal_kills_the_children_at_once_and_exits_with_the_first_signals_code() {
    if !docker_or_skip() {
        return;
    }
    let test = Test::new().arg("up");
    let (child, stubborn) = start_stubborn_up(&test);
    send(&child, libc::SIGTERM);
    // The first signal was handled (and forwarded) once the stand-in has recorded it; only then
    // is a second one a second one (two pending SIGTERMs would be one).
    let deadline = Instant::now() + Duration::from_secs(30);
    while signals_received(&test).is_empty() {
        assert!(Instant::now() < deadline, "the stand-in never got the forwarded SIGTERM");
        std::thread::sleep(Duration::from_millis(10));
    }
    send(&child, libc::SIGINT);
    let (status, stderr) = wait_exit(child);
    assert_eq!(status.code(), Some(143), "stderr:\n{stderr}");
    assert!(stderr.contains("error: terminated by SIGTERM; child processes were stopped"), "{stderr}");
    assert_gone(stubborn, &stderr);
    assert_eq!(signals_received(&test), ["TERM"], "the stand-in's group got no SIGINT");
}

#[test]
fn a_hanging_kind_create_says_it_is_still_running_and_when_it_gives_up() {
    if !docker_or_skip() {
        return;
    }
    // Plain output (a pipe): no spinner, so a `still …` line comes at every heartbeat.
    let test = Test::new().arg("up").env("FAKE_KUBE_HANG", "create cluster").env("OHDEV_HEARTBEAT", "200ms");
    let mut command = test.command();
    command.stdout(Stdio::piped());
    let mut child = command.stderr(Stdio::piped()).spawn().expect("ohdev starts");
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let beats = loop {
        let line = receiver.recv_timeout(Duration::from_millis(100)).ok();
        seen.extend(line);
        let beats = seen.iter().filter(|line| line.starts_with("… still creating kind cluster \"t\" (")).count();
        if beats >= 2 || Instant::now() > deadline {
            break beats;
        }
    };
    send(&child, libc::SIGTERM);
    let (status, stderr) = wait_exit(child);
    assert!(beats >= 2, "no heartbeat while kind create hung:\n{}\n{stderr}", seen.join("\n"));
    // The step says when ohdev gives up: cluster.wait (default 2m) plus the margin for the node image.
    let started = seen.iter().find(|line| line.starts_with("→ creating kind cluster \"t\"")).expect("the step");
    assert!(started.contains("gives up after 12m: cluster.wait 2m + 10m to pull the node image"), "{started}");
    assert_eq!(status.code(), Some(143), "{stderr}");
}

/// The crash fixture without its fault: a Deployment (and its Namespace) that becomes ready.
fn healthy_deployment() -> String {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/deploy/failures/crash.yaml");
    std::fs::read_to_string(fixture)
        .unwrap()
        .replace("      annotations:\n        fake-kube/fail: CrashLoopBackOff\n", "")
}

#[test]
fn sigterm_in_every_phase_stops_the_child_and_leaves_a_valid_state() {
    if !docker_or_skip() {
        return;
    }
    let Some(base) = crate::support::busybox::base_image() else { return };
    let image = format!("sig{}", docker::unique());
    let phases = [
        ("kind load", "load docker-image", true),
        ("apply", " apply ", false),
        ("readiness wait", "get deployments", false),
    ];
    for (phase, hang, with_image) in phases {
        let mut test =
            Test::new().file("k8s/app.yaml", &healthy_deployment()).arg("up").env("FAKE_KUBE_HANG", hang.trim());
        test = if with_image {
            test.file("app/Dockerfile", &format!("ARG BASE\nFROM {base}\nRUN echo {image} > /built\n")).file(
                "ohdev.yaml",
                &format!("cluster:\n  name: t\nnamespace: app\nimages:\n  {image}:\n    context: app\n    build_args: {{BASE: {base}}}\nmanifests: []\n"),
            )
        } else {
            test.file("ohdev.yaml", "cluster:\n  name: t\nnamespace: app\nimages: {}\nmanifests: [k8s]\n")
        };
        let (child, hung) = start_up(&test, test.command(), &test.state_dir().join("hang.pid"));
        send(&child, libc::SIGTERM);
        let (status, stderr) = wait_exit(child);
        assert_eq!(status.code(), Some(143), "{phase}: {stderr}");
        assert_gone(hung, &stderr);
        let state = std::fs::read_to_string(test.project().join(".ohdev/state.json")).unwrap_or_else(|_| "{}".into());
        let state: serde_json::Value =
            serde_json::from_str(&state).unwrap_or_else(|error| panic!("{phase}: state.json is not JSON: {error}"));
        // The cluster record is complete (the create finished before the signal).
        assert_eq!(state["cluster"]["complete"], true, "{phase}: {state}");
        let leftovers: Vec<_> = std::fs::read_dir(test.project().join(".ohdev"))
            .unwrap()
            .filter_map(Result::ok)
            .filter(|entry| entry.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{phase}: half-written files {leftovers:?}");
    }
    // The image built for the load phase.
    let label = format!("dev.ohdev.image={image}");
    docker::with_docker(|docker| async move {
        let mut filters = std::collections::HashMap::new();
        filters.insert("label", vec![label]);
        let options = bollard::query_parameters::ListImagesOptionsBuilder::default().filters(&filters).build();
        for found in docker.list_images(Some(options)).await.unwrap_or_default() {
            let _ = docker.remove_image(&found.id, None::<bollard::query_parameters::RemoveImageOptions>, None).await;
        }
    });
}
