use std::path::Path;

use super::*;
use crate::deploy::plan::manifest::{normalize, parse_documents};

fn objects(yaml: &str) -> Vec<Object> {
    normalize(parse_documents(Path::new("set.yaml"), yaml).unwrap(), "openhands").unwrap()
}

fn patch(yaml: &str) -> Vec<Patch> {
    serde_yaml::from_str(yaml).expect("patch yaml")
}

#[test]
fn patches_add_replace_remove_and_append() {
    let mut set = objects("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: metrics-server, namespace: kube-system}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - {name: m, args: [--a, --b], env: [{name: X, value: '1'}]}\n");
    let patches = patch(
        r#"
- target: {kind: Deployment, name: metrics-server, namespace: kube-system}
  ops:
  - {op: add, path: /spec/template/spec/containers/0/args/-, value: --kubelet-insecure-tls}
  - {op: add, path: /spec/template/spec/containers/0/args/0, value: --first}
  - {op: replace, path: /spec/replicas, value: 1}
  - {op: remove, path: /spec/template/spec/containers/0/env/0}
  - {op: add, path: /metadata/annotations, value: {a~b/c: yes}}
  - {op: replace, path: /metadata/annotations/a~0b~1c, value: "no"}
- target: {kind: Deployment, name: metrics-server}
  ops: [{op: add, path: /spec/paused, value: false}]
"#,
    );
    apply_patches(&mut set, &patches).unwrap();
    let value = &set[0].value;
    assert_eq!(
        value.pointer("/spec/template/spec/containers/0/args").unwrap(),
        &serde_json::json!(["--first", "--a", "--b", "--kubelet-insecure-tls"])
    );
    assert_eq!(value.pointer("/spec/replicas").unwrap(), 1);
    assert_eq!(value.pointer("/spec/template/spec/containers/0/env").unwrap(), &serde_json::json!([]));
    assert_eq!(value.pointer("/metadata/annotations/a~0b~1c").unwrap(), "no");
    assert_eq!(value.pointer("/spec/paused").unwrap(), false);
}

#[test]
fn patch_errors_name_the_patch_and_the_problem() {
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: x}\nlist: []\n";
    let table = [
        ("{target: {kind: ConfigMap, name: missing}, ops: []}", "patches[0] targets ConfigMap/missing, which is not in the manifest set"),
        ("{target: {kind: ConfigMap, name: c, namespace: other}, ops: []}", "patches[0] targets ConfigMap other/c, which is not in the manifest set"),
        ("{target: {kind: ConfigMap, name: c}, ops: [{op: replace, path: /data/b, value: 1}]}", "patches[0].ops[0] (replace /data/b) on ConfigMap openhands/c from set.yaml:1 (document 1): /data/b does not exist: fix the path in ohdev.yaml"),
        ("{target: {kind: ConfigMap, name: c}, ops: [{op: remove, path: /nope/x}]}", "/nope does not exist"),
        ("{target: {kind: ConfigMap, name: c}, ops: [{op: add, path: /list/1, value: 1}]}", "index 1 is out of range (the array has 0 items)"),
        ("{target: {kind: ConfigMap, name: c}, ops: [{op: remove, path: /list/-}]}", "`-` is not an array index"),
        ("{target: {kind: ConfigMap, name: c}, ops: [{op: add, path: /data/a/x, value: 1}]}", "/data/a is a string"),
        ("{target: {kind: ConfigMap, name: c}, ops: [{op: add, path: data, value: 1}]}", "`data` is not a JSON pointer"),
        ("{target: {kind: ConfigMap, name: c}, ops: [{op: remove, path: ''}]}", "the whole object cannot be patched"),
        ("{target: {kind: ConfigMap, name: c}, ops: [{op: remove, path: /apiVersion}]}", "patches[0] leaves ConfigMap openhands/c from set.yaml:1 (document 1) without apiVersion: every object needs apiVersion, kind and metadata.name"),
        ("{target: {kind: ConfigMap, name: c}, ops: [{op: replace, path: /kind, value: ''}]}", "without kind"),
        ("{target: {kind: ConfigMap, name: c}, ops: [{op: replace, path: /metadata, value: {}}]}", "without metadata.name"),
        ("{target: {kind: ConfigMap, name: c}, ops: [{op: replace, path: /metadata/name, value: 5}]}", "without metadata.name"),
    ];
    for (patch_yaml, expected) in table {
        let mut set = objects(yaml);
        let message = apply_patches(&mut set, &patch(&format!("[{patch_yaml}]"))).unwrap_err().to_string();
        assert!(message.contains(expected), "{patch_yaml}: {message}");
    }
}

#[test]
fn patch_config_rejects_unknown_operations_and_fields() {
    assert!(serde_yaml::from_str::<Vec<Patch>>(
        "[{target: {kind: A, name: b}, ops: [{op: move, from: /a, path: /b}]}]"
    )
    .is_err());
    assert!(serde_yaml::from_str::<Vec<Patch>>("[{target: {kind: A, name: b, nmespace: c}, ops: []}]").is_err());
    assert!(serde_yaml::from_str::<Vec<Patch>>(
        "[{target: {kind: A, name: b}, ops: [{op: remove, path: /a, value: 1}]}]"
    )
    .is_err());
}
