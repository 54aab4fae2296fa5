//! The command-line surface: help with examples, completions, usage errors.

use crate::support::Test;

#[test]
fn every_subcommand_help_has_an_example() {
    for subcommand in ["up", "build", "plan", "rebuild", "watch", "logs", "down", "status", "doctor", "completions"] {
        let output = Test::new().args(&[subcommand, "--help"]).expect(0);
        assert!(output.stdout.contains("Examples:"), "{subcommand} --help:\n{}", output.stdout);
        assert!(output.stdout.contains("ohdev "), "{subcommand} --help:\n{}", output.stdout);
    }
    let output = Test::new().arg("--help").expect(0);
    for flag in ["--json", "--color", "--project-dir", "--config"] {
        assert!(output.stdout.contains(flag), "{flag} missing:\n{}", output.stdout);
    }
}

#[test]
fn completions_are_printed() {
    let output = Test::new().args(&["completions", "bash"]).expect(0);
    assert!(output.stdout.contains("_ohdev()"), "{}", output.stdout);
    assert!(output.stdout.contains("doctor"), "{}", output.stdout);
}

#[test]
fn usage_errors_exit_2() {
    let mut test = Test::new().args(&["up", "--no-such-flag"]);
    let output = test.expect(2);
    assert!(output.stderr.contains("--no-such-flag"), "{}", output.stderr);
    test.set_args(&["--color", "sometimes", "status"]);
    test.expect(2);
    assert!(test.calls().is_empty());
}

#[test]
fn no_project_found_says_how_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().to_str().unwrap().to_string();
    let output = Test::new().args(&["-C", &outside, "status"]).expect(2);
    assert!(output.stderr.contains("no ohdev.yaml found"), "{}", output.stderr);
    assert!(output.stderr.contains("ohdev -C examples/demo up"), "{}", output.stderr);
}

#[test]
fn project_dir_and_config_flags_select_the_project() {
    let mut test = Test::new()
        .file("sub/ohdev.yaml", "cluster:\n  name: other\n  config: ../kind/cluster.yaml\nimages: {}\n")
        .args(&["-C", "sub", "status"]);
    assert!(test.expect(0).stdout.contains("other"));
    test.set_args(&["--config", "sub/ohdev.yaml", "status"]);
    assert!(test.expect(0).stdout.contains("other"));
    // Found by walking up from a nested directory.
    let nested = Test::new().file("deep/er/.keep", "").in_dir("deep/er").arg("status");
    assert!(nested.expect(0).stdout.contains("cluster  t"));
}
