//! Every kubectl argument vector ohdev produced during the suite, checked against the REAL kubectl:
//! kubectl parses flags before printing help, so `kubectl <argv> --help` fails on an unknown flag.
//! Run last by scripts/test.sh (`cargo test --test integration -- --ignored kubectl_argv`).

use std::collections::BTreeSet;
use std::process::Command;

use crate::support::kubectl_argv_log;

fn real_kubectl() -> Option<std::path::PathBuf> {
    which::which("kubectl").ok().filter(|path| {
        // The stand-in is a symlink to fake-kube; the real one is not.
        std::fs::canonicalize(path).map(|real| !real.ends_with("fake-kube")).unwrap_or(false)
    })
}

#[test]
#[ignore = "run by scripts/test.sh after the suite has produced the argv log"]
fn kubectl_argv_accepted_by_real_kubectl() {
    let text =
        std::fs::read_to_string(kubectl_argv_log()).expect("no kubectl argv log: run the integration suite first");
    let argvs: BTreeSet<Vec<String>> = text.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    assert!(!argvs.is_empty(), "the suite produced no kubectl calls");
    let kubectl = real_kubectl().expect("the real kubectl must be installed for this check");
    let mut checked = 0;
    for argv in &argvs {
        // Drop stdin-only payload markers; keep flags and positionals as ohdev passed them.
        let output = Command::new(&kubectl)
            .args(argv)
            .arg("--help")
            .env("KUBECONFIG", "/dev/null")
            .output()
            .expect("kubectl runs");
        assert!(
            output.status.success(),
            "real kubectl rejected `kubectl {}`:\n{}",
            argv.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        checked += 1;
    }
    eprintln!("real kubectl accepted {checked} distinct argument vectors");
}

#[test]
fn real_kubectl_rejects_a_bad_flag() {
    // The check above can fail: prove it on a vector that is wrong.
    let Some(kubectl) = real_kubectl() else {
        eprintln!("SKIPPED: real kubectl not installed");
        return;
    };
    let output = Command::new(kubectl)
        .args(["--context", "kind-x", "get", "nodes", "--no-such-flag", "--help"])
        .output()
        .unwrap();
    assert!(!output.status.success());
}
