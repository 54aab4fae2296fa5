//! Bad input: exit 2, file and line named, and the stand-ins recorded nothing.

use crate::ohdev_snapshot;
use crate::support::Test;

#[test]
fn malformed_files_exit_2_with_location_and_touch_nothing() {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        ("unknown_key", "ohdev.yaml", "cluster:\n  name: t\n  nmae: x\n", "ohdev.yaml:3:", "did you mean `name`"),
        ("bad_indentation", "ohdev.yaml", "cluster:\n  name: t\n   config: x\n", "ohdev.yaml:3:", "YAML"),
        (
            "unset_variable",
            "ohdev.yaml",
            "cluster:\n  name: t\nimages:\n  app:\n    context: ${OHDEV_TEST_UNSET_VAR}\n",
            "ohdev.yaml:5:",
            "export OHDEV_TEST_UNSET_VAR",
        ),
        (
            "cluster_wrong_kind",
            "kind/cluster.yaml",
            "kind: Pod\napiVersion: kind.x-k8s.io/v1alpha4\n",
            "cluster.yaml:1:",
            "kind: Cluster",
        ),
        (
            "cluster_wrong_api_version",
            "kind/cluster.yaml",
            "kind: Cluster\napiVersion: v1\n",
            "cluster.yaml:2:",
            "kind.x-k8s.io/v1alpha4",
        ),
        (
            "cluster_unknown_role",
            "kind/cluster.yaml",
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: boss\n",
            "cluster.yaml:4:",
            "role: worker",
        ),
        (
            "cluster_invalid_yaml",
            "kind/cluster.yaml",
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes: [\n",
            "cluster.yaml:",
            "YAML",
        ),
    ];
    for (name, file, content, location, fix) in cases {
        let mut up_stderr = None;
        for command in [&["up"][..], &["status"], &["down", "--yes"]] {
            let test = Test::new().file(file, content).args(command);
            let output = test.expect(2);
            assert!(output.stderr.contains(location), "{command:?} {content:?}\n{}", output.stderr);
            assert!(output.stderr.contains(fix), "{command:?} {content:?}\n{}", output.stderr);
            assert!(test.calls().is_empty(), "stand-ins were called: {:?}", test.calls());
            assert!(!test.project().join(".ohdev/state.json").exists());
            // The same text whichever command read the file (paths differ: one project each).
            let stderr = output.stderr.replace(&test.project().display().to_string(), "[PROJECT]");
            match &up_stderr {
                None => {
                    ohdev_snapshot!(name = name, output);
                    up_stderr = Some(stderr);
                }
                Some(first) => assert_eq!(&stderr, first, "{command:?} {content:?}"),
            }
        }
    }
}

#[test]
fn image_input_errors_stop_before_the_cluster_is_touched() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "prebuild_not_installed",
            "cluster:\n  name: t\nimages:\n  app:\n    context: .\n    prebuild: [no-such-generator-xyz, --flag]\nmanifests: []\n",
            "images.app.prebuild runs `no-such-generator-xyz`",
        ),
        (
            "image_reference_without_depends_on",
            "cluster:\n  name: t\nimages:\n  base:\n    context: .\n  app:\n    context: .\n    build_args: {BASE: \"${image:base}\"}\nmanifests: []\n",
            "add `depends_on: [base]` to images.app",
        ),
    ];
    for (name, config, expected) in cases {
        let mut test = Test::new().file("ohdev.yaml", config).file("Dockerfile", "FROM scratch\n");
        let mut up_stderr = None;
        for command in [&["up"][..], &["build"]] {
            test.set_args(command);
            let output = test.expect(2);
            assert!(output.stderr.contains(expected), "{command:?}\n{}", output.stderr);
            assert!(test.calls().is_empty(), "stand-ins were called: {:?}", test.calls());
            match &up_stderr {
                None => {
                    ohdev_snapshot!(name = name, output);
                    up_stderr = Some(output.stderr);
                }
                Some(first) => assert_eq!(&output.stderr, first, "{command:?}"),
            }
        }
    }
}
