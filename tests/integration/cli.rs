//! The command-line surface: help with examples, completions, usage errors.

use crate::ohdev_snapshot;
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
    ohdev_snapshot!("unknown_flag", output);

    test.set_args(&["--color", "sometimes", "status"]);
    let output = test.expect(2);
    assert!(output.stderr.contains("'sometimes'"), "{}", output.stderr);
    ohdev_snapshot!("bad_color_value", output);

    test.set_args(&["up", "--timeout", "soon"]);
    let output = test.expect(2);
    assert!(output.stderr.contains("`soon` is not a duration"), "{}", output.stderr);
    ohdev_snapshot!("bad_timeout_value", output);

    test.set_args(&["logs", "--tail", "many"]);
    let output = test.expect(2);
    assert!(output.stderr.contains("'many' for '--tail <N>'"), "{}", output.stderr);
    ohdev_snapshot!("bad_tail_value", output);

    assert!(test.calls().is_empty(), "{:?}", test.calls());
}

#[test]
fn no_project_found_says_how_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().to_str().unwrap().to_string();
    let output = Test::new().args(&["-C", &outside, "status"]).expect(2);
    assert!(output.stderr.contains("no ohdev.yaml found"), "{}", output.stderr);
    assert!(output.stderr.contains("ohdev -C examples/demo up"), "{}", output.stderr);
    ohdev_snapshot!(output);
}

#[test]
fn config_flag_naming_a_missing_file_is_exit_2() {
    let test = Test::new().args(&["--config", "nope.yaml", "status"]);
    let output = test.expect(2);
    assert!(output.stderr.contains("nope.yaml: cannot read"), "{}", output.stderr);
    assert!(output.stderr.contains("check the path given to --config"), "{}", output.stderr);
    assert!(test.calls().is_empty(), "{:?}", test.calls());
    ohdev_snapshot!(output);
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
