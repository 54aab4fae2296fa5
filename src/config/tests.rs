use super::*;

fn write(dir: &Path, text: &str) -> PathBuf {
    let file = dir.join(FILE_NAME);
    std::fs::write(&file, text).unwrap();
    file
}

fn env(name: &str) -> Option<String> {
    (name == "OPENHANDS_ROOT").then(|| "/src/OpenHands".to_string())
}

#[test]
fn an_empty_mapping_gets_openhands_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let config = load_with_env(&write(dir.path(), "{}\n"), &env).unwrap();
    assert_eq!(config.cluster.name, "local-hands");
    assert_eq!(config.cluster.context(), "kind-local-hands");
    assert_eq!(config.cluster.config_path, dir.path().join("kind/cluster.yaml"));
    assert_eq!(config.namespace, "openhands");
    assert_eq!(config.images["app"].context, PathBuf::from("/src/OpenHands"));
    assert_eq!(config.images["app"].dockerfile, PathBuf::from("containers/app/Dockerfile"));
    assert_eq!(config.manifests, vec![ManifestSource::Path(dir.path().join("kind/manifests"))]);
    assert_eq!(config.deploy_timeout, Duration::from_secs(300));
}

#[test]
fn paths_resolve_against_the_file_and_variables_interpolate() {
    let dir = tempfile::tempdir().unwrap();
    let text = "cluster:\n  name: demo\n  config: ./k/../kind/c.yaml\n  wait: 2m\nimages:\n  web:\n    context: ${OPENHANDS_ROOT}/web\n    build_args: {BASE: \"${NOPE:-busybox}\"}\nmanifests:\n  - m\n  - url: https://example.org/a.yaml\n    sha256: abc\n";
    let config = load_with_env(&write(dir.path(), text), &env).unwrap();
    assert_eq!(config.cluster.config_path, dir.path().join("kind/c.yaml"));
    assert_eq!(config.cluster.wait, Duration::from_secs(120));
    assert_eq!(config.images["web"].context, PathBuf::from("/src/OpenHands/web"));
    assert_eq!(config.images["web"].build_args["BASE"], "busybox");
    assert_eq!(
        config.manifests[1],
        ManifestSource::Remote { url: "https://example.org/a.yaml".into(), sha256: Some("abc".into()) }
    );
}

#[test]
fn errors_name_file_line_and_fix() {
    let cases: &[(&str, usize, &str)] = &[
        ("cluster:\n  nmae: x\n", 2, "did you mean `name`"),
        ("clustr:\n  name: x\n", 1, "did you mean `cluster`"),
        ("images:\n  app:\n    contxt: .\n", 3, "did you mean `context`"),
        ("images:\n  app:\n    context: ${UNSET_THING}\n", 3, "export UNSET_THING"),
        ("cluster:\n  name: Local_Hands\n", 2, "lower-case"),
        ("cluster:\n  wait: soon\n", 2, "90s"),
        ("images:\n  app:\n    depends_on: [rutime]\n", 3, "not an image"),
        ("cluster: [\n", 1, "invalid type"),
        ("images:\n  app:\n    platform: banana\n", 3, "write linux/<architecture>, e.g. linux/amd64"),
        ("images:\n  app:\n    platform: windows/amd64\n", 3, "not a platform a kind node can run"),
        ("images:\n  app:\n    platform: linux/z80\n", 3, "`z80` is not a known architecture"),
        (
            "images:\n  app:\n    dockerfile: /etc/Dockerfile\n",
            3,
            "`images.app.dockerfile` is `/etc/Dockerfile`, which is not inside the build context",
        ),
        ("images:\n  app:\n    dockerfile: docker/../../Dockerfile\n", 3, "relative to `context`"),
        ("cluster: [t]\n", 1, "cluster: invalid type: sequence, expected a mapping"),
        ("manifests:\n  - [k8s]\n", 2, "a `manifests:` entry is a path (e.g. `kind/manifests`), a remote bundle"),
        ("manifests:\n  - url: https://example.org/a.yaml\n    sha: abc\n", 2, "did you mean `sha256`?"),
        ("manifests:\n  - kustomize: overlay\n    timout: 1s\n", 2, "did you mean `timeout`?"),
        ("manifests:\n  - kustomise: overlay\n", 2, "did you mean `kustomize`?"),
        ("cluster:\n  name: x\n   wait: 1s\n", 3, "YAML"),
    ];
    for (text, line, fix) in cases {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), text);
        let error = load_with_env(&file, &env).unwrap_err();
        let shown = error.to_string();
        assert!(shown.starts_with(&format!("{}:{line}:", file.display())), "for {text:?}: {shown}");
        assert!(shown.contains(fix), "for {text:?}: {shown}");
        assert_eq!(error.exit_code(), 2);
    }
}

#[test]
fn an_empty_file_is_an_error_not_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    for text in ["", "\n\n", "# only a comment\n"] {
        let error = load_with_env(&write(dir.path(), text), &env).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("the file is empty: there is nothing to do"), "{error}");
    }
}

#[test]
fn a_duplicate_key_is_an_error_naming_both_lines() {
    let dir = tempfile::tempdir().unwrap();
    let text = "cluster:\n  name: t\nimages:\n  app:\n    context: a\n  app:\n    context: b\n";
    let file = write(dir.path(), text);
    let error = load_with_env(&file, &env).unwrap_err();
    assert_eq!(error.exit_code(), 2);
    assert_eq!(
        error.to_string(),
        format!(
            "{}:6: `app` is set more than once in the same mapping (lines 4 and 6)\n  fix: keep one of them: YAML would silently use only the last",
            file.display()
        )
    );
}

#[test]
fn a_symlink_loop_is_named_as_a_loop() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("ohdev.yaml", dir.path().join(FILE_NAME)).unwrap();
    let error = find(dir.path()).unwrap_err();
    assert_eq!(error.exit_code(), 2);
    assert!(error.to_string().contains("is a symbolic link loop (→ ohdev.yaml)"), "{error}");
}

#[test]
fn find_walks_up() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "");
    let nested = dir.path().join("a/b/c");
    std::fs::create_dir_all(&nested).unwrap();
    assert_eq!(find(&nested).unwrap(), file);
    let other = tempfile::tempdir().unwrap();
    assert!(matches!(find(other.path()), Err(Error::ConfigNotFound { .. })));
}

#[test]
fn durations() {
    assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
    assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
    assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
    assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
    assert_eq!(parse_duration("42"), Some(Duration::from_secs(42)));
    assert_eq!(parse_duration("soon"), None);
    assert_eq!(parse_duration("5"), Some(Duration::from_secs(5)));
    assert_eq!(parse_duration("5x"), None);
}

#[test]
fn platforms_and_dockerfiles_inside_the_context_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let with_platform = |platform: &str| {
        let text = format!("images:\n  app:\n    platform: \"{platform}\"\n");
        load_with_env(&write(dir.path(), &text), &env)
    };
    for platform in ["linux/amd64", "linux/arm64", "linux/arm64/v8", "linux/arm/v7", "linux/386"] {
        assert!(with_platform(platform).is_ok(), "{platform}");
    }
    for (platform, says) in [
        ("", "which is not a platform"),
        ("amd64", "not a platform a kind node can run"),
        ("linux/", "which is not a platform"),
        ("linux/amd46", "did you mean `linux/amd64`?"),
        ("darwin/arm64", "kind's nodes run Linux"),
        ("windows/amd64", "kind's nodes run Linux"),
        ("linux/a/b/c", "which is not a platform"),
    ] {
        let error = with_platform(platform).unwrap_err();
        assert_eq!(error.exit_code(), 2, "{platform}");
        assert!(error.to_string().contains(says), "{platform}: {error}");
    }
    let text = "images:\n  app:\n    dockerfile: docker/./app/../Dockerfile\n    platform: linux/arm64\n";
    let config = load_with_env(&write(dir.path(), text), &env).unwrap();
    assert_eq!(config.images["app"].dockerfile, PathBuf::from("docker/./app/../Dockerfile"));
    assert_eq!(config.images["app"].platform.as_deref(), Some("linux/arm64"));
}

#[test]
fn gc_keep_defaults_to_three_and_an_image_may_say_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let config = load_with_env(&write(dir.path(), "images:\n  app: {}\n  web: {}\n"), &env).unwrap();
    assert_eq!((config.gc_keep, config.keep_for("app"), config.keep_for("web")), (3, 3, 3));
    let text = "gc:\n  keep: 5\nimages:\n  app: {keep: 1}\n  web: {keep: \"${KEEP:-2}\"}\n  api: {}\n";
    let config = load_with_env(&write(dir.path(), text), &env).unwrap();
    assert_eq!(config.gc_keep, 5);
    assert_eq!((config.keep_for("app"), config.keep_for("web"), config.keep_for("api")), (1, 2, 5));
}

#[test]
fn a_bad_keep_names_the_key_its_line_and_the_fix() {
    let cases: &[(&str, usize, &str)] = &[
        ("gc:\n  keep: 0\n", 2, "`gc.keep` is 0: ohdev gc would keep no earlier tag to go back to"),
        ("gc:\n  keep: -1\n", 2, "`gc.keep` is `-1`, which is not a number of tags"),
        ("gc:\n  keep: three\n", 2, "`gc.keep` is `three`, which is not a number of tags"),
        ("gc:\n  keep: 2.5\n", 2, "`gc.keep` is `2.5`, which is not a number of tags"),
        ("gc:\n  keep: 1001\n", 2, "`gc.keep` is 1001, more than ohdev keeps (1000)"),
        ("gc:\n  keep: [1]\n", 2, "which is not a number of tags"),
        ("images:\n  app:\n    context: .\n    keep: 0\n", 4, "`images.app.keep` is 0"),
        ("images:\n  app:\n    keep: many\n", 3, "`images.app.keep` is `many`"),
        ("gc:\n  kep: 3\n", 2, "did you mean `keep`"),
    ];
    for (text, line, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let error = load_with_env(&write(dir.path(), text), &env).unwrap_err();
        let shown = error.to_string();
        assert_eq!(error.exit_code(), 2, "{text}: {shown}");
        assert!(shown.contains(expected), "{text}: {shown}");
        assert!(shown.contains(&format!("ohdev.yaml:{line}")), "{text}: line {line} expected: {shown}");
        if !expected.starts_with("did you mean") {
            assert!(shown.contains("write a whole number from 1 to 1000"), "{text}: {shown}");
        }
    }
}

#[test]
fn registry_defaults_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let config = load_with_env(&write(dir.path(), "{}\n"), &env).unwrap();
    assert_eq!(config.registry, None);
    let config = load_with_env(&write(dir.path(), "registry: {}\n"), &env).unwrap();
    let registry = config.registry.unwrap();
    assert_eq!(
        (registry.host.as_str(), registry.port, registry.create, registry.image.as_str()),
        ("localhost:5001", 5001, true, "registry:2")
    );
    let text = "registry:\n  host: registry.local:5000\n  create: false\n";
    let registry = load_with_env(&write(dir.path(), text), &env).unwrap().registry.unwrap();
    assert_eq!((registry.hostname.as_str(), registry.create), ("registry.local", false));

    let cases: &[(&str, usize, &str)] = &[
        ("registry:\n  hots: localhost:5001\n", 2, "did you mean `host`"),
        ("registry:\n  host: localhost\n", 2, "add the port the registry listens on, e.g. `host: localhost:5001`"),
        ("registry:\n  host: http://localhost:5001\n", 2, "write the host and port only: `host: localhost:5001`"),
        ("registry:\n  host: registry.local:5000\n", 2, "add `create: false`"),
        ("registry:\n  create: maybe\n", 2, "registry.create"),
        ("registry:\n  host: localhost:5001\n  image: \"Registry:2\"\n", 3, "repository names are lower case"),
        ("registry: localhost:5001\n", 1, "registry"),
    ];
    for (text, line, fix) in cases {
        let file = write(dir.path(), text);
        let error = load_with_env(&file, &env).unwrap_err();
        let shown = error.to_string();
        assert!(shown.starts_with(&format!("{}:{line}:", file.display())), "for {text:?}: {shown}");
        assert!(shown.contains(fix), "for {text:?}: {shown}");
        assert_eq!(error.exit_code(), 2);
    }
}
