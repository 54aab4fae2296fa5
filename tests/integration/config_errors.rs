//! Bad input: exit 2, file and line named, and the stand-ins recorded nothing.

use crate::support::Test;

#[test]
fn malformed_files_exit_2_with_location_and_touch_nothing() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("ohdev.yaml", "cluster:\n  name: t\n  nmae: x\n", "ohdev.yaml:3:", "did you mean `name`"),
        ("ohdev.yaml", "cluster:\n  name: t\n   config: x\n", "ohdev.yaml:3:", "YAML"),
        ("ohdev.yaml", "cluster:\n  name: t\nimages:\n  app:\n    context: ${OHDEV_TEST_UNSET_VAR}\n", "ohdev.yaml:5:", "export OHDEV_TEST_UNSET_VAR"),
        ("kind/cluster.yaml", "kind: Pod\napiVersion: kind.x-k8s.io/v1alpha4\n", "cluster.yaml:1:", "kind: Cluster"),
        ("kind/cluster.yaml", "kind: Cluster\napiVersion: v1\n", "cluster.yaml:2:", "kind.x-k8s.io/v1alpha4"),
        ("kind/cluster.yaml", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: boss\n", "cluster.yaml:4:", "role: worker"),
        ("kind/cluster.yaml", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes: [\n", "cluster.yaml:", "YAML"),
    ];
    for (file, content, location, fix) in cases {
        for command in [&["up"][..], &["status"], &["down", "--yes"]] {
            let test = Test::new().file(file, content).args(command);
            let output = test.expect(2);
            assert!(output.stderr.contains(location), "{command:?} {content:?}\n{}", output.stderr);
            assert!(output.stderr.contains(fix), "{command:?} {content:?}\n{}", output.stderr);
            assert!(test.calls().is_empty(), "stand-ins were called: {:?}", test.calls());
            assert!(!test.project().join(".ohdev/state.json").exists());
        }
    }
}

#[test]
fn image_input_errors_stop_before_the_cluster_is_touched() {
    let cases: &[(&str, &str)] = &[
        (
            "cluster:\n  name: t\nimages:\n  app:\n    context: .\n    prebuild: [no-such-generator-xyz, --flag]\nmanifests: []\n",
            "images.app.prebuild runs `no-such-generator-xyz`",
        ),
        (
            "cluster:\n  name: t\nimages:\n  base:\n    context: .\n  app:\n    context: .\n    build_args: {BASE: \"${image:base}\"}\nmanifests: []\n",
            "add `depends_on: [base]` to images.app",
        ),
    ];
    for (config, expected) in cases {
        let mut test = Test::new().file("ohdev.yaml", config).file("Dockerfile", "FROM scratch\n");
        for command in [&["up"][..], &["build"]] {
            test.set_args(command);
            let output = test.expect(2);
            assert!(output.stderr.contains(expected), "{command:?}\n{}", output.stderr);
            assert!(test.calls().is_empty(), "stand-ins were called: {:?}", test.calls());
        }
    }
}
