use super::*;

fn parse(yaml: &str) -> Vec<Object> {
    parse_documents(Path::new("set.yaml"), yaml).expect("valid manifests")
}

fn errors(yaml: &str) -> Vec<String> {
    match parse_documents(Path::new("bad.yaml"), yaml) {
        Ok(objects) => panic!("expected errors, got {objects:?}"),
        Err(InputErrors(found)) => found.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn empty_documents_are_skipped_but_counted() {
    let yaml = "# header comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n...\n";
    let objects = parse(yaml);
    let seen: Vec<_> =
        objects.iter().map(|object| (object.name(), object.source.doc_index, object.source.line)).collect();
    assert_eq!(seen, vec![("a", 0, Some(3)), ("b", 3, Some(10))]);
}

#[test]
fn first_document_without_separator_and_inline_separator_content() {
    let objects = parse("apiVersion: v1\nkind: Namespace\nmetadata: {name: one}\n--- {apiVersion: v1, kind: Namespace, metadata: {name: two}}\n");
    let seen: Vec<_> =
        objects.iter().map(|object| (object.name(), object.source.doc_index, object.source.line)).collect();
    assert_eq!(seen, vec![("one", 0, Some(1)), ("two", 1, Some(4))]);
}

#[test]
fn list_kinds_are_flattened() {
    let yaml = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n---\napiVersion: v1\nkind: ConfigMapList\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n";
    let kinds: Vec<_> = parse(yaml)
        .iter()
        .map(|object| format!("{}/{}@{}", object.kind(), object.name(), object.source.doc_index))
        .collect();
    assert_eq!(kinds, ["ConfigMap/a@0", "Secret/b@0", "ConfigMap/c@1"]);
}

#[test]
fn missing_fields_name_file_document_and_line() {
    let table = [
        ("kind: ConfigMap\nmetadata: {name: a}\n", "bad.yaml:1 (document 1): ConfigMap/a has no apiVersion"),
        ("---\napiVersion: v1\nmetadata: {name: a}\n", "bad.yaml:2 (document 1): the object named a has no kind"),
        (
            "x: 1\n---\napiVersion: v1\nkind: Pod\nmetadata: {generateName: p-}\n",
            "bad.yaml:3 (document 2): the Pod has no metadata.name",
        ),
        ("{}\n", "bad.yaml:1 (document 1): the object has no apiVersion, kind, metadata.name"),
        ("- a\n- b\n", "bad.yaml:1 (document 1): the document is a list, not a Kubernetes object"),
    ];
    for (yaml, expected) in table {
        let found = errors(yaml);
        assert!(found.iter().any(|message| message.starts_with(expected)), "{yaml:?}: {found:?}");
    }
}

#[test]
fn every_bad_document_is_reported_at_once() {
    let found = errors("kind: A\nmetadata: {name: a}\n---\nkind: B\nmetadata: {name: b}\n");
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[1].starts_with("bad.yaml:4 (document 2): B/b has no apiVersion"), "{found:?}");
}

#[test]
fn yaml_syntax_errors_carry_the_file_line() {
    let found = errors("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: [unclosed\n");
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("bad.yaml:"), "{found:?}");
    assert!(found[0].contains("(document 2): invalid YAML"), "{found:?}");
    assert!(found[0].contains("line 6") || found[0].contains("line 7"), "{found:?}");
}

#[test]
fn merge_keys_are_applied() {
    let objects = parse("base: &base {app: web}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    <<: *base\n    tier: front\n");
    assert_eq!(objects[0].labels().unwrap().get("app").unwrap(), "web");
}

#[test]
fn accessors() {
    let objects = parse("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop, annotations: {a: b}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
    let deployment = &objects[0];
    assert_eq!((deployment.api_version(), deployment.group(), deployment.version()), ("apps/v1", "apps", "v1"));
    assert_eq!(deployment.key().to_string(), "Deployment shop/web");
    assert_eq!(deployment.annotation("a"), Some("b"));
    assert_eq!((objects[1].group(), objects[1].version()), ("", "v1"));
    assert_eq!(objects[1].key().to_string(), "Namespace/shop");
}

#[test]
fn default_namespace_scopes_and_stray_namespaces() {
    let objects = parse(concat!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n---\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: placed, namespace: other}\n---\n",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader, namespace: ignored}\n---\n",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec: {group: example.com, scope: Cluster, names: {kind: Widget, plural: widgets}}\n---\n",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\n",
        "apiVersion: other.io/v1\nkind: Gadget\nmetadata: {name: g}\n",
    ));
    let normalized = normalize(objects, "openhands").unwrap();
    let keys: Vec<_> = normalized.iter().map(|object| object.key().to_string()).collect();
    assert_eq!(
        keys,
        [
            "ConfigMap openhands/plain",
            "ConfigMap other/placed",
            "ClusterRole/reader",
            "CustomResourceDefinition/widgets.example.com",
            "Widget/w",
            "Gadget openhands/g",
        ]
    );
    let scopes = ScopeTable::new(&normalized);
    assert_eq!(scopes.resolve(&normalized[4]), (Scope::Cluster, ScopeOrigin::CustomResourceDefinition));
    assert_eq!(scopes.resolve(&normalized[5]), (Scope::Namespaced, ScopeOrigin::CrdNotInSet));
    assert_eq!(scopes.resolve(&normalized[0]), (Scope::Namespaced, ScopeOrigin::BuiltIn));
}

#[test]
fn duplicates_name_both_places() {
    let mut objects =
        parse_documents(Path::new("first.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n").unwrap();
    objects.extend(
        parse_documents(
            Path::new("second.yaml"),
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: openhands}\n",
        )
        .unwrap(),
    );
    let InputErrors(found) = normalize(objects, "openhands").unwrap_err();
    assert_eq!(
        found[0].to_string(),
        "ConfigMap openhands/a is defined twice: in first.yaml:1 (document 1) and in second.yaml:2 (document 1): remove one of them or rename it"
    );
}

#[test]
fn load_reads_directories_sorted_and_reports_missing_paths() {
    let directory = tempfile::tempdir().unwrap();
    let nested = directory.path().join("nested");
    std::fs::create_dir(&nested).unwrap();
    std::fs::write(directory.path().join("b.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n").unwrap();
    std::fs::write(directory.path().join("a.yml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n").unwrap();
    std::fs::write(nested.join("c.json"), r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}"#)
        .unwrap();
    std::fs::write(directory.path().join("notes.txt"), "not yaml: [").unwrap();
    std::fs::write(directory.path().join(".hidden.yaml"), "not yaml: [").unwrap();
    let names: Vec<_> =
        load(&[directory.path().to_path_buf()]).unwrap().iter().map(|object| object.name().to_string()).collect();
    assert_eq!(names, ["a", "b", "c"]);

    let missing = directory.path().join("missing");
    let empty = directory.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let InputErrors(found) = load(&[missing, empty]).unwrap_err();
    assert!(found[0].to_string().contains("missing does not exist"), "{found:?}");
    assert!(found[1].to_string().contains("holds no *.yaml"), "{found:?}");
}

#[test]
fn debug_output_redacts_secret_values() {
    let objects = parse(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {KEY: c2VjcmV0}\nstringData: {OTHER: plain-secret}\n",
    );
    let shown = format!("{objects:?}");
    assert!(!shown.contains("c2VjcmV0") && !shown.contains("plain-secret"), "{shown}");
    assert!(shown.contains("<redacted>"));
}

/// `count` small ConfigMaps, each `---` first: document `n` (1-based) starts on line `4 * (n - 1) + 1`.
fn config_maps(count: usize) -> String {
    (0..count).map(|index| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{index}}}\n")).collect()
}

/// What serde_yaml says about `body` when it starts on line `first_line` of a file: the document parsed
/// with every line before it there (blank), as ohdev parsed documents before it stopped padding them.
fn padded_error(first_line: usize, body: &str) -> (String, usize) {
    let padded = format!("{}{body}", "\n".repeat(first_line - 1));
    let error = serde_yaml::from_str::<serde_yaml::Value>(&padded).expect_err("broken YAML");
    (error.to_string(), error.location().expect("a position").line())
}

#[test]
fn errors_deep_in_a_large_file_name_the_lines_of_the_file() {
    let broken = [
        // A flow sequence left open: the problem and libyaml's context, each with its position.
        "---\napiVersion: v1\nkind: [unclosed\n",
        // Bad indentation: the context is the mapping at the document's first line and column.
        "---\napiVersion: v1\nkind: ConfigMap\n  bad: indent\nmetadata: {name: x}\n",
        // A tab where YAML wants spaces.
        "---\napiVersion: v1\n\tkind: ConfigMap\n",
        // serde_yaml's own errors (not libyaml's) carry one position.
        "---\napiVersion: v1\nkind: *missing\n",
        // Content on the `---` line itself: its positions are on the separator's line.
        "--- [unclosed\n",
        "---\t{apiVersion: v1, kind: *missing}\n",
        "--- \t- a\n  b: c\n",
    ];
    for document in broken {
        let text = format!("{}{document}{}", config_maps(4_999), config_maps(2));
        let separator_line = 4 * 4_999 + 1;
        let found = errors(&text);
        assert_eq!(found.len(), 1, "{document:?}: {found:?}");
        // As split_documents keeps it: the `---` line without the `---`.
        let (message, line) = padded_error(separator_line, document.strip_prefix("---").unwrap());
        assert_eq!(found[0], format!("bad.yaml:{line} (document 5000): invalid YAML: {message}"), "{document:?}");
        assert!(line >= separator_line, "{document:?}: {line}");
    }
}

#[test]
fn duplicate_keys_deep_in_a_large_file_name_the_lines_of_the_file() {
    let text = format!(
        "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {{}}\n  name: b\n{}",
        config_maps(4_999),
        config_maps(1)
    );
    let found = errors(&text);
    // Document 5,000's `---` is line 19,997: `name` is set on lines 20,001 and 20,003.
    assert_eq!(
        found,
        ["bad.yaml:20003 (document 5000): invalid YAML: `name` is set more than once in the same mapping (lines 20001 and 20003): keep one of them"]
    );
}

#[test]
fn objects_deep_in_a_large_file_keep_their_document_and_line() {
    let objects = parse(&config_maps(10_000));
    assert_eq!(objects.len(), 10_000);
    for index in [0, 1, 4_999, 9_999] {
        let object = &objects[index];
        assert_eq!(object.name(), format!("cm-{index}"));
        assert_eq!((object.source.doc_index, object.source.line), (index, Some(4 * index + 2)));
    }
    let text = format!("{}---\nkind: ConfigMap\nmetadata: {{name: late}}\n", config_maps(9_999));
    assert_eq!(errors(&text), ["bad.yaml:39998 (document 10000): ConfigMap/late has no apiVersion: every object needs apiVersion, kind and metadata.name (generateName does not work with apply)"]);
}

#[test]
fn the_first_document_and_one_starting_on_line_one_keep_their_positions() {
    // No `---`: the document is the file from line 1; `---` on line 1: the same lines.
    for text in ["apiVersion: v1\nkind: [unclosed\n", "---\napiVersion: v1\nkind: [unclosed\n"] {
        let found = errors(text);
        let body = text.strip_prefix("---").unwrap_or(text);
        let (message, line) = padded_error(1, body);
        assert_eq!(found, [format!("bad.yaml:{line} (document 1): invalid YAML: {message}")], "{text:?}");
    }
}

#[test]
fn only_serde_yaml_positions_move_not_quoted_text() {
    let location = Some((2, 5));
    assert_eq!(
        lines_in_file(
            "did not find expected ',' or ']' at line 2 column 5, while parsing a flow sequence at line 1 column 7",
            location,
            100
        ),
        "did not find expected ',' or ']' at line 102 column 5, while parsing a flow sequence at line 101 column 7"
    );
    assert_eq!(
        lines_in_file("key \"x at line 2 column 5, y\" is odd at line 2 column 5", location, 100),
        "key \"x at line 2 column 5, y\" is odd at line 102 column 5"
    );
    assert_eq!(lines_in_file("unknown anchor at line 2 column 5", location, 0), "unknown anchor at line 2 column 5");
    assert_eq!(lines_in_file("recursion limit exceeded", None, 7), "recursion limit exceeded");
}

#[test]
fn a_symlink_loop_in_a_manifest_directory_is_named_not_walked_forever() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("k8s");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("a.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n").unwrap();
    std::os::unix::fs::symlink("..", root.join("sub/up")).unwrap();
    let error = load(std::slice::from_ref(&root)).unwrap_err().to_string();
    assert!(error.contains("sub/up is a symbolic link loop"), "{error}");
    // A link to itself, named like a manifest.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::os::unix::fs::symlink("self.yaml", other.join("self.yaml")).unwrap();
    let error = load(&[other]).unwrap_err().to_string();
    assert!(error.contains("self.yaml is a symbolic link loop"), "{error}");
}
