//! End to end against the REAL kind, kubectl and Docker (no stand-ins), for contributors'
//! machines: `OHDEV_E2E=1 cargo test --test integration e2e -- --nocapture`. Skipped, with the
//! reason printed, everywhere else (CI here has no kind and cannot run a cluster).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn enabled() -> bool {
    if std::env::var("OHDEV_E2E").as_deref() == Ok("1") {
        return true;
    }
    eprintln!("SKIPPED: end-to-end test against a real kind cluster; set OHDEV_E2E=1 on a machine with Docker, kind and kubectl");
    false
}

fn ohdev(args: &[&str]) -> std::process::Output {
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
    Command::new(env!("CARGO_BIN_EXE_ohdev"))
        .arg("-C")
        .arg(&demo)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("ohdev runs")
}

#[track_caller]
fn expect_success(output: &std::process::Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{what} failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

#[test]
fn demo_comes_up_answers_and_goes_down_on_a_real_kind_cluster() {
    if !enabled() {
        return;
    }
    let up = expect_success(&ohdev(&["up", "--timeout", "5m"]), "ohdev up");
    assert!(up.contains("environment is ready"), "{up}");
    assert!(up.contains("http://127.0.0.1:8080/"), "{up}");
    // The NodePort is mapped to 127.0.0.1:8080 by the demo's kind/cluster.yaml.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = std::net::TcpStream::connect("127.0.0.1:8080").ok().and_then(|mut stream| {
            use std::io::{Read, Write};
            stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
            stream.write_all(b"GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
            let mut response = String::new();
            stream.read_to_string(&mut response).ok()?;
            Some(response)
        });
        if answer
            .as_deref()
            .is_some_and(|response| response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "the demo never answered /health on 127.0.0.1:8080: {answer:?}");
        std::thread::sleep(Duration::from_secs(1));
    }
    let again = expect_success(&ohdev(&["--json", "up"]), "second ohdev up");
    assert!(!again.contains("\"state\":\"built\""), "second up rebuilt: {again}");
    assert!(!again.contains("\"state\":\"loaded\""), "second up reloaded: {again}");
    let status = expect_success(&ohdev(&["status"]), "ohdev status");
    assert!(status.contains("Ready"), "{status}");
    expect_success(&ohdev(&["logs", "--no-follow", "--tail", "5"]), "ohdev logs");
    expect_success(&ohdev(&["down", "--yes"]), "ohdev down");
}
