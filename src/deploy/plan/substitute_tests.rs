use std::path::Path;

use super::*;
use crate::deploy::plan::manifest::{normalize, parse_documents};

fn objects(yaml: &str) -> Vec<Object> {
    normalize(parse_documents(Path::new("set.yaml"), yaml).unwrap(), "openhands").unwrap()
}

fn images() -> BTreeMap<String, String> {
    [("app", "ohdev.local/app:0123456789abcdef"), ("runtime", "ohdev.local/runtime:fedcba9876543210")]
        .into_iter()
        .map(|(name, tag)| (name.to_string(), tag.to_string()))
        .collect()
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      initContainers: [{name: init, image: runtime}]
      containers:
      - {name: app, image: app}
      - {name: side, image: busybox:1.36}
      - {name: other, image: application}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: config}
data:
  config.toml: |
    [sandbox]
    runtime_container_image = \"${image:runtime}\"
    both = \"${image:app} and ${image:runtime}\"
  untouched: \"${other} $image:app\"
";

#[test]
fn logical_images_and_placeholders_become_tags() {
    let mut set = objects(DEPLOYMENT);
    let warnings = substitute_images(&mut set, &images()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let pod = set[0].value.pointer("/spec/template/spec").unwrap();
    assert_eq!(pod.pointer("/initContainers/0/image").unwrap(), "ohdev.local/runtime:fedcba9876543210");
    assert_eq!(pod.pointer("/containers/0/image").unwrap(), "ohdev.local/app:0123456789abcdef");
    assert_eq!(pod.pointer("/containers/1/image").unwrap(), "busybox:1.36", "unknown images are left alone");
    assert_eq!(pod.pointer("/containers/2/image").unwrap(), "application");
    let config = set[1].value.pointer("/data/config.toml").unwrap().as_str().unwrap();
    assert!(config.contains("runtime_container_image = \"ohdev.local/runtime:fedcba9876543210\""), "{config}");
    assert!(config.contains("both = \"ohdev.local/app:0123456789abcdef and ohdev.local/runtime:fedcba9876543210\""));
    assert_eq!(set[1].value.pointer("/data/untouched").unwrap(), "${other} $image:app");
}

#[test]
fn custom_resources_with_image_fields_are_substituted() {
    let mut set = objects("apiVersion: example.com/v1\nkind: Sandbox\nmetadata: {name: s}\nspec: {runtime: {image: runtime}, list: [\"${image:app}\"]}\n");
    substitute_images(&mut set, &images()).unwrap();
    assert_eq!(set[0].value.pointer("/spec/runtime/image").unwrap(), "ohdev.local/runtime:fedcba9876543210");
    assert_eq!(set[0].value.pointer("/spec/list/0").unwrap(), "ohdev.local/app:0123456789abcdef");
}

#[test]
fn unknown_placeholder_is_an_error_naming_it() {
    let mut set = objects("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: \"x ${image:nope} y\"}\n");
    let message = substitute_images(&mut set, &images()).unwrap_err().to_string();
    assert_eq!(
        message,
        "set.yaml:1 (document 1): ConfigMap openhands/c uses ${image:nope} at /data/a, but ohdev.yaml has no image `nope` (known: app, runtime): fix the name or add it under `images:`"
    );
    let none = substitute_images(&mut set, &BTreeMap::new()).unwrap_err().to_string();
    assert!(none.contains("has no image `nope` (known: none)"), "{none}");
}

#[test]
fn latest_untagged_and_pull_always_warn_with_the_fix() {
    let table = [
        ("app:latest", None, Some(ImageProblem::LatestOrUntagged)),
        ("ohdev.local/app", None, Some(ImageProblem::LatestOrUntagged)),
        ("ohdev.local/app:latest", None, Some(ImageProblem::LatestOrUntagged)),
        ("app", Some("Always"), Some(ImageProblem::PullPolicyAlways)),
        ("app", Some("IfNotPresent"), None),
        ("app:1.0", None, None),
        ("app@sha256:abcd", None, None),
        ("nginx:latest", None, None),
        ("registry.io:5000/app", None, None),
        ("ap", None, Some(ImageProblem::UnknownName)),
        ("runtim", None, Some(ImageProblem::UnknownName)),
        ("nginx", None, None),
        ("busybox", None, None),
    ];
    for (image, policy, expected) in table {
        let policy = policy.map(|policy| format!(", imagePullPolicy: {policy}")).unwrap_or_default();
        let yaml = format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec: {{containers: [{{name: c, image: \"{image}\"{policy}}}]}}\n");
        let mut set = objects(&yaml);
        let warnings = substitute_images(&mut set, &images()).unwrap();
        let problems: Vec<_> = warnings.iter().map(|warning| warning.problem).collect();
        assert_eq!(problems, expected.into_iter().collect::<Vec<_>>(), "{image} {policy}");
    }
    let mut set = objects(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: \"app:latest\"}]}\n",
    );
    let warning = substitute_images(&mut set, &images()).unwrap().remove(0).to_string();
    assert!(
        warning.starts_with(
            "set.yaml:1 (document 1): Pod openhands/p uses image `app:latest` at /spec/containers/0/image;"
        ),
        "{warning}"
    );
    assert!(warning.ends_with("write `image: app` so ohdev puts in the exact built tag"), "{warning}");
    let mut set =
        objects("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: \"runtim\"}]}\n");
    let warning = substitute_images(&mut set, &images()).unwrap().remove(0).to_string();
    assert_eq!(
        warning,
        "set.yaml:1 (document 1): Pod openhands/p uses image `runtim` at /spec/containers/0/image, which is not an image \
         in ohdev.yaml, so the kubelet would pull docker.io/library/runtim: did you mean `image: runtime`?"
    );
}

#[test]
fn every_object_gets_the_managed_by_label() {
    let mut set = objects("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, labels: {keep: me}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: null}\n");
    label_managed_by(&mut set);
    for object in &set {
        assert_eq!(object.labels().unwrap().get(MANAGED_BY_LABEL).unwrap(), "ohdev", "{object:?}");
    }
    assert_eq!(set[1].labels().unwrap().get("keep").unwrap(), "me");
}
