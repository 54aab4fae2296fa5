use super::*;
use crate::app::testing::call;
use crate::app::Env;
use crate::kubectl::ustar::tests::entry;
use std::time::Duration;

/// A ready deployment `web` in `app` and the name of its pod.
fn running_pod(w: &World, extra_template_meta: &str) -> String {
    let d = deployment("web", "nginx:1", extra_template_meta).replace("replicas: 2", "replicas: 1");
    assert_eq!(w.apply(&d).code, 0);
    for _ in 0..2 {
        w.get("deploy web -n app");
    }
    w.get("pods -n app -l app=web")["items"][0]["metadata"]["name"].as_str().unwrap().to_string()
}

fn log_file(w: &World, pod: &str) -> std::path::PathBuf {
    let dir = w.dir.join("logs/app").join(pod);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("main.log")
}

#[test]
fn logs_print_tail_prefix_and_timestamps() {
    let w = world("logs-basic");
    let pod = running_pod(&w, "");
    std::fs::write(log_file(&w, &pod), "one\ntwo\nthree\n").unwrap();
    assert_eq!(w.kubectl(&format!("logs {pod} -n app"), "").stdout, "one\ntwo\nthree\n");
    assert_eq!(w.kubectl(&format!("logs {pod} -n app --tail=2 -c main"), "").stdout, "two\nthree\n");
    assert_eq!(
        w.kubectl(&format!("logs {pod} -n app --tail=1 --prefix"), "").stdout,
        format!("[pod/{pod}/main] three\n")
    );
    let ts = w.kubectl(&format!("logs {pod} -n app --tail=1 --timestamps"), "").stdout;
    let (stamp, rest) = ts.split_once(' ').unwrap();
    assert_eq!(rest, "three\n");
    assert!(stamp.len() == 30 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T', "{stamp}");
    assert_eq!(w.kubectl("logs deployment/web -n app --tail=1", "").stdout, "three\n");
    let o = w.kubectl("logs nope -n app", "");
    assert_eq!((o.code, o.stderr.as_str()), (1, "Error from server (NotFound): pods \"nope\" not found\n"));
    let o = w.kubectl(&format!("logs {pod} -n app -c sidecar"), "");
    assert_eq!(o.stderr, format!("error: container sidecar is not valid for pod {pod}\n"));
}

#[test]
fn logs_of_a_container_that_never_started_fail() {
    let w = world("logs-waiting");
    let d = deployment("web", "ohdev.local/app:1", "")
        .replace("image: ohdev.local/app:1\n", "image: ohdev.local/app:1\n        imagePullPolicy: Never\n");
    w.apply(&d);
    w.get("deploy web -n app");
    let pod = w.get("pods -n app -l app=web")["items"][0]["metadata"]["name"].as_str().unwrap().to_string();
    let o = w.kubectl(&format!("logs {pod} -n app"), "");
    assert_eq!((o.code, o.stderr.as_str()), (1, format!("Error from server (BadRequest): container \"main\" in pod \"{pod}\" is waiting to start: image can't be pulled\n").as_str()));
}

#[test]
fn logs_follow_prints_appended_lines_until_the_pod_is_gone() {
    let w = world("logs-follow");
    let pod = running_pod(&w, "");
    let file = log_file(&w, &pod);
    std::fs::write(&file, "first\n").unwrap();
    let dir = w.dir.to_path_buf();
    let (tx, rx) = std::sync::mpsc::channel();
    let pod2 = pod.clone();
    let clock = w.env.clock.clone();
    std::thread::spawn(move || {
        let mut env = Env::for_test(&dir);
        env.clock = clock;
        let args = ["logs", "-f", pod2.as_str(), "-n", "app", "--context", "kind-dev"];
        tx.send(call(&env, "kubectl", &args, b"")).unwrap();
    });
    std::thread::sleep(Duration::from_millis(200));
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(&file).unwrap();
    f.write_all(b"second\nthi").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    f.write_all(b"rd\nunfinished").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(rx.try_recv().is_err(), "still following while the pod exists");
    assert_eq!(w.kubectl("delete deployment web -n app", "").code, 0);
    let o = rx.recv_timeout(Duration::from_secs(10)).expect("follow ends once the pod is gone");
    assert_eq!((o.code, o.stdout.as_str()), (0, "first\nsecond\nthird\n"));
}

#[test]
fn exec_tar_unpacks_stdin_into_the_container_fs() {
    let w = world("exec-tar");
    let pod = running_pod(&w, "");
    let mut tar = entry("pkg/", b'5', b"", 0o755);
    tar.extend(entry("pkg/mod.py", b'0', b"x = 1\n", 0o644));
    tar.extend(vec![0u8; 1024]);
    let args = [
        "exec",
        "-i",
        pod.as_str(),
        "-n",
        "app",
        "-c",
        "main",
        "--context",
        "kind-dev",
        "--",
        "tar",
        "-x",
        "-C",
        "/app/src",
    ];
    let o = call(&w.env, "kubectl", &args, &tar);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let unpacked = w.dir.join("fs/app").join(&pod).join("main/app/src/pkg/mod.py");
    assert_eq!(std::fs::read_to_string(unpacked).unwrap(), "x = 1\n");
    let calls = std::fs::read_to_string(w.dir.join("calls.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(calls.lines().last().unwrap()).unwrap();
    assert_eq!(last["stdin_b64"].as_str().unwrap().len(), tar.len().div_ceil(3) * 4);
    let other = call(
        &w.env,
        "kubectl",
        &["exec", &pod, "-n", "app", "--context", "kind-dev", "--", "sh", "-c", "kill -HUP 1"],
        b"",
    );
    assert_eq!((other.code, other.stdout.as_str()), (0, ""));
    let bad = call(&w.env, "kubectl", &args, b"not a tar at all");
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.ends_with("command terminated with exit code 2\n"), "{}", bad.stderr);
}

#[test]
fn exec_without_tar_fails_like_the_oci_runtime() {
    let w = world("exec-no-tar");
    let pod = running_pod(&w, "      annotations:\n        fake-kube/no-tar: \"true\"\n");
    let o = call(
        &w.env,
        "kubectl",
        &["exec", "-i", &pod, "-n", "app", "--context", "kind-dev", "--", "tar", "xf", "-", "-C", "/app"],
        b"",
    );
    assert_eq!(o.code, 126);
    assert_eq!(o.stderr, "OCI runtime exec failed: exec failed: unable to start container process: exec: \"tar\": executable file not found in $PATH: unknown\ncommand terminated with exit code 126\n");
    let missing = call(&w.env, "kubectl", &["exec", "nope", "-n", "app", "--context", "kind-dev", "--", "true"], b"");
    assert_eq!(missing.stderr, "Error from server (NotFound): pods \"nope\" not found\n");
}
