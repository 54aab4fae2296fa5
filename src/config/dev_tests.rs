use std::path::{Path, PathBuf};

use super::*;
use crate::config::{load_with_env, Config, FILE_NAME};

fn load(dir: &Path, text: &str) -> Result<Config, Error> {
    let file = dir.join(FILE_NAME);
    std::fs::write(&file, text).unwrap();
    load_with_env(&file, &|_| None)
}

const DEV: &str = "\
images:
  app:
    sync:
      - {src: \"static/**\", dest: /srv/static}
  worker: {}
patches:
  - target: {kind: ConfigMap, name: settings}
    ops: [{op: add, path: /data/level, value: info}]
dev:
  patches:
    - target: {kind: Deployment, name: web}
      ops: [{op: add, path: /spec/template/metadata/annotations, value: {mode: dev}}]
  images:
    app:
      sync:
        - {src: \"openhands/**/*.py\", dest: /app/openhands, run: [sh, -c, kill -HUP 1]}
";

#[test]
fn dev_patches_and_sync_rules_are_in_force_only_in_dev_mode() {
    let dir = tempfile::tempdir().unwrap();
    let production = load(dir.path(), DEV).unwrap();
    assert_eq!(production.mode, Mode::Production, "a loaded config is production until a command chooses");
    assert!(production.dev.declared);
    assert!(production.dev_patches().is_empty());
    let sources = |config: &Config, image: &str| -> Vec<String> {
        config.sync_rules(image).into_iter().map(|rule| rule.src).collect()
    };
    assert_eq!(sources(&production, "app"), ["static/**"]);
    assert_eq!(production.patches.len(), 1);

    let dev = production.with_mode(Mode::Dev);
    assert_eq!(dev.dev_patches().len(), 1);
    assert_eq!(dev.dev_patches()[0].name, "web");
    assert_eq!(dev.patches.len(), 1, "top-level patches stay as they are");
    assert_eq!(sources(&dev, "app"), ["static/**", "openhands/**/*.py"], "the image's own rules first");
    assert!(sources(&dev, "worker").is_empty());
    let rule = dev.sync_rules("app").pop().unwrap();
    assert_eq!(rule.dest, "/app/openhands");
    assert_eq!(rule.run, ["sh", "-c", "kill -HUP 1"]);
}

#[test]
fn the_mode_is_described_only_when_there_is_a_dev_section() {
    let dir = tempfile::tempdir().unwrap();
    let config = load(dir.path(), DEV).unwrap();
    assert_eq!(
        config.describe_mode().as_deref(),
        Some("production mode: the `dev:` section of ohdev.yaml (1 patch, sync rules for app) is not applied")
    );
    assert_eq!(
        config.with_mode(Mode::Dev).describe_mode().as_deref(),
        Some("dev mode: the `dev:` section of ohdev.yaml is applied (1 patch, sync rules for app)")
    );
    let plain = load(dir.path(), "images:\n  app: {}\n").unwrap();
    assert!(!plain.dev.declared);
    assert_eq!(plain.with_mode(Mode::Dev).describe_mode(), None);
    let empty = load(dir.path(), "images:\n  app: {}\ndev: {}\n").unwrap();
    assert_eq!(empty.dev.summary(), "nothing");
}

#[test]
fn a_bad_dev_section_names_the_key_its_line_and_the_fix() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "images:\n  app: {}\ndev:\n  images:\n    ap:\n      sync: [{src: x, dest: /x}]\n",
            5,
            "`dev.images.ap` names an image that is not under `images:`\n  fix: did you mean `app`?",
        ),
        (
            "images:\n  app: {}\ndev:\n  images:\n    app:\n      sync:\n        - {src: \"a/*.py\", dest: app/a}\n",
            7,
            "`dev.images.app.sync.dest` is `app/a`, a relative path",
        ),
        (
            "images:\n  app: {}\ndev:\n  images:\n    app:\n      sync:\n        - {src: a, dest: /a, run: [\"${NOPE}\"]}\n",
            7,
            "`dev.images.app.sync.run` uses ${NOPE}",
        ),
        ("images:\n  app: {}\ndev:\n  patchs: []\n", 4, "did you mean `patches`?"),
        ("images:\n  app: {}\ndev:\n  images:\n    app:\n      synk: []\n", 6, "did you mean `sync`?"),
        ("images:\n  app: {}\ndev:\n  patches:\n    - target: {kind: Deployment}\n      ops: []\n", 5, "missing field `name`"),
        ("dev: [patches]\n", 1, "invalid type: sequence, expected a mapping"),
    ];
    for (text, line, says) in cases {
        let dir = tempfile::tempdir().unwrap();
        let error = load(dir.path(), text).unwrap_err();
        let shown = error.to_string();
        let file: PathBuf = dir.path().join(FILE_NAME);
        assert!(shown.starts_with(&format!("{}:{line}:", file.display())), "for {text:?}: {shown}");
        assert!(shown.contains(says), "for {text:?}: {shown}");
        assert_eq!(error.exit_code(), 2, "{shown}");
    }
}
