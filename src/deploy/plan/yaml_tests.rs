use super::*;

/// What the general path makes of a document, for comparing; `None` when it fails.
fn general_value(text: &str) -> Option<Value> {
    general(text).ok()
}

/// The direct reader either gives up or gives exactly what the general path gives.
fn assert_agrees(text: &str) -> Option<Value> {
    let direct = direct(text);
    if let Some(value) = &direct {
        assert_eq!(Some(value), general_value(text).as_ref(), "{text:?}");
    }
    direct
}

#[test]
fn plain_manifests_are_read_directly_and_the_same() {
    let documents = [
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b}\ndata: {key: value}\n",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: web\n        image: app\n        args: [\"--port\", '8080', x y]\n        env: [{name: A, value: \"1\"}]\n",
        // Scalars of every kind: null, booleans, integers (signed, hex, octal), floats, odd ones.
        "a: ~\nb: null\nc: true\nd: False\ne: -12\nf: 0x1F\ng: 0o17\nh: 1.5e3\ni: .inf\nj: -.inf\nk: .nan\nl: 18446744073709551615\nm: -9223372036854775808\nn: 1_000\no: yes\np: ''\nq:\n",
        // Block scalars, quoting, anchors and aliases, nested lists, comments, an empty list and map.
        "text: |\n  line one\n  line two\nfolded: >-\n  a\n  b\nquoted: \"a\\tb \\u00e9\"\nbase: &base {x: 1}\ncopy: *base\nlists: [[1, 2], [], {}]\n# a comment\n",
        // Integers beyond 64 bits.
        "a: 18446744073709551616\nb: -9223372036854775809\nc: 1234567890123456789012345678901234567890\n",
        // Core tags, which serde_yaml resolves itself.
        "a: !!str 1\nb: !!binary aGVsbG8=\nc: !!int \"3\"\n",
        // A document that is only a scalar, a list, or nothing at all.
        "just a string\n",
        "- a\n- b\n",
        "",
        "# only a comment\n",
        "\n---\n",
    ];
    for text in documents {
        let direct = assert_agrees(text);
        assert!(direct.is_some() || general_value(text).is_none(), "read directly: {text:?}");
    }
}

#[test]
fn what_the_general_path_treats_specially_is_left_to_it() {
    let documents = [
        // Merge keys (also quoted), at the top and deep down.
        "base: &base {app: web}\nlabels:\n  <<: *base\n  tier: front\n",
        "x: {'<<': {a: 1}}\n",
        "list:\n- {<<: [{a: 1}, {b: 2}], c: 3}\n",
        // Tags, on values and on keys.
        "a: !custom value\n",
        "!key a: 1\n",
        // Keys that are not strings: JSON turns some into strings, refuses others.
        "1: one\n",
        "true: yes\n",
        "~: nothing\n",
        "1.5: x\n",
        "[a, b]: list\n",
        "{a: 1}: map\n",
        // A key set twice.
        "a: 1\na: 2\n",
    ];
    for text in documents {
        assert_eq!(direct(text), None, "{text:?}");
        // `read` gives the general path's answer.
        match (read(text), general(text)) {
            (Ok(read), Ok(general)) => assert_eq!(read, general, "{text:?}"),
            (Err(ReadError::Yaml(read)), Err(ReadError::Yaml(general))) => {
                assert_eq!(read.to_string(), general.to_string(), "{text:?}")
            }
            (Err(ReadError::Other(read)), Err(ReadError::Other(general))) => assert_eq!(read, general, "{text:?}"),
            _ => panic!("read and the general path disagree on {text:?}"),
        }
    }
}

#[test]
fn broken_documents_are_left_to_the_general_path() {
    for text in ["kind: [unclosed\n", "a: *missing\n", "a:\n\tb: 1\n", "a: b: c\n", "- a\nb: c\n"] {
        assert_eq!(direct(text), None, "{text:?}");
        assert!(matches!(read(text), Err(ReadError::Yaml(_))), "{text:?}");
    }
}

/// Every document of every YAML file in the repository (examples, fixtures, kind manifests, the
/// project's own files) reads the same both ways.
#[test]
fn every_yaml_file_in_the_repository_reads_the_same_both_ways() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pending = vec![root.to_path_buf()];
    let mut documents = 0;
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name == "target" {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if name.ends_with(".yaml") || name.ends_with(".yml") {
                let text = std::fs::read_to_string(&path).unwrap();
                for document in text.split("\n---") {
                    assert_agrees(document);
                    documents += 1;
                }
            }
        }
    }
    assert!(documents > 40, "{documents} documents");
}
