//! From ohdev.yaml to the exact objects to apply, and their order: fetch remote bundles, parse,
//! generate Secrets, default namespaces, patch, substitute image tags, label, plan. Every input error
//! surfaces here, before anything is applied.

use std::collections::BTreeMap;
use std::path::Path;

use super::plan::graph::{self, Plan};
use super::plan::manifest::{self, Object};
use super::plan::secrets;
use super::plan::subset::{self, Subset};
use super::plan::substitute::{self, Patch};
use super::plan::{namespaces, object_names};
use super::{remote, sources};
use crate::config::{Config, ManifestSource};
use crate::error::Error;

pub struct Rendered {
    pub objects: Vec<Object>,
    pub plan: Plan,
    pub warnings: Vec<String>,
}

/// Bad input in manifests: exit 2, every problem listed, nothing applied.
fn input_error(problems: String, cache_names: &BTreeMap<String, String>) -> Error {
    let mut text = problems;
    for (cached, url) in cache_names {
        text = text.replace(cached.as_str(), url);
    }
    Error::Input {
        message: format!("the manifests cannot be applied:\n  {}", text.replace('\n', "\n  ")),
        fix: "correct the problems above; nothing was applied".to_string(),
    }
}

impl Rendered {
    /// Only the objects the names of `subset` mean in this set (all when `None`), planned again: a
    /// subset holds every dependency of its objects, so its plan is the whole plan's, minus what is
    /// left out. The names are resolved again (`tags`: the tags this set was rendered with): a
    /// manifest edited since they were first resolved may have added a dependency.
    pub fn only(self, subset: Option<&Subset>, tags: &BTreeMap<String, String>) -> Result<Rendered, Error> {
        let Some(subset) = subset else { return Ok(self) };
        let subset = subset::select(&subset.names, tags, &self.objects, &self.plan)
            .map_err(|error| Error::Input { message: error.to_string(), fix: error.fix() })?;
        let objects = subset::restrict(self.objects, &subset);
        let plan = graph::plan(&objects).map_err(|error| input_error(error.to_string(), &BTreeMap::new()))?;
        Ok(Rendered { objects, plan, warnings: self.warnings })
    }
}

impl Rendered {
    /// The set without the objects `drop` picks, ordered again.
    pub fn without(self, drop: impl Fn(&Object) -> bool) -> Result<Rendered, Error> {
        let objects: Vec<Object> = self.objects.into_iter().filter(|object| !drop(object)).collect();
        let plan = graph::plan(&objects).map_err(|error| input_error(error.to_string(), &BTreeMap::new()))?;
        Ok(Rendered { objects, plan, warnings: self.warnings })
    }
}

pub async fn render(config: &Config, tags: &BTreeMap<String, String>) -> Result<Rendered, Error> {
    let env = |name: &str| std::env::var(name).ok();
    render_with_env(config, tags, &env).await
}

pub async fn render_with_env(
    config: &Config,
    tags: &BTreeMap<String, String>,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Rendered, Error> {
    let mut cache_names = BTreeMap::new();
    let mut objects = Vec::new();
    let mut problems = Vec::new();
    let secret_values: Vec<String> = config
        .secrets
        .values()
        .flat_map(|secret| secrets::values(secret.env_file.as_deref(), &secret.keys, env))
        .collect();
    // Sources in the order ohdev.yaml names them; every file and every renderer's output is read
    // before any problem is reported, so one round fixes them all.
    for source in &config.manifests {
        let loaded = match source {
            ManifestSource::Path(path) => manifest::load(std::slice::from_ref(path)),
            ManifestSource::Remote { url, sha256 } => {
                let cached = remote::fetch(url, sha256.as_deref(), &config.root, &config.file).await?;
                cache_names.insert(cached.display().to_string(), url.clone());
                manifest::load(&[cached])
            }
            ManifestSource::Kustomize { .. } | ManifestSource::Command { .. } => {
                let output = sources::render(config, source, &secret_values).await?;
                let label = source.label().unwrap_or_default();
                manifest::parse_documents(Path::new(&label), &output)
            }
        };
        match loaded {
            Ok(found) => objects.extend(found),
            Err(manifest::InputErrors(found)) => problems.extend(found),
        }
    }
    if !problems.is_empty() {
        return Err(input_error(manifest::InputErrors(problems).to_string(), &cache_names));
    }
    for secret in config.secrets.values() {
        let mut object =
            secrets::generate(&secret.name, &secret.namespace, secret.env_file.as_deref(), &secret.keys, env)
                .map_err(|error| input_error(error.to_string(), &cache_names))?;
        object.source.file = config.file.clone();
        objects.push(object);
    }
    let mut objects = manifest::normalize(objects, &config.namespace)
        .map_err(|errors| input_error(errors.to_string(), &cache_names))?;
    object_names::check_names(&objects).map_err(|invalid| input_error(invalid.to_string(), &cache_names))?;
    namespaces::ensure_namespaces(&mut objects, &config.namespace, &config.file)
        .map_err(|missing| input_error(missing.to_string(), &cache_names))?;
    let patches = typed_patches(config, "patches", &config.patches)?;
    substitute::apply_patches(&mut objects, &patches).map_err(|error| input_error(error.to_string(), &cache_names))?;
    // Dev mode: `dev.patches` after the top-level ones, named as such in every error.
    let dev_patches = typed_patches(config, "dev.patches", config.dev_patches())?;
    substitute::apply_patches(&mut objects, &dev_patches)
        .map_err(|error| input_error(format!("dev.{error}"), &cache_names))?;
    if !patches.is_empty() || !dev_patches.is_empty() {
        // A patch may rename an object, move it to another namespace or give it labels: check the
        // patched set as the loaded one was checked, naming the patches as the cause.
        let which = if dev_patches.is_empty() { "`patches:`" } else { "`patches:` and `dev.patches:`" };
        let after_patches = |problems: String| {
            input_error(
                format!("after the {which} of {} were applied:\n{problems}", config.file.display()),
                &cache_names,
            )
        };
        objects =
            manifest::normalize(objects, &config.namespace).map_err(|errors| after_patches(errors.to_string()))?;
        object_names::check_names(&objects).map_err(|invalid| after_patches(invalid.to_string()))?;
        namespaces::ensure_namespaces(&mut objects, &config.namespace, &config.file)
            .map_err(|missing| after_patches(missing.to_string()))?;
    }
    let warnings = substitute::substitute_images(&mut objects, tags)
        .map_err(|error| input_error(error.to_string(), &cache_names))?
        .into_iter()
        .map(|warning| warning.to_string())
        .collect();
    substitute::label_managed_by(&mut objects);
    label_pod_templates(&mut objects);
    let plan = graph::plan(&objects).map_err(|error| input_error(error.to_string(), &cache_names))?;
    Ok(Rendered { objects, plan, warnings })
}

/// ohdev.yaml's patches (`key`: `patches` or `dev.patches`) in the renderer's typed form.
fn typed_patches(config: &Config, key: &str, patches: &[crate::config::Patch]) -> Result<Vec<Patch>, Error> {
    patches
        .iter()
        .enumerate()
        .map(|(index, patch)| {
            let value = serde_json::json!({
                "target": {"kind": patch.kind, "name": patch.name, "namespace": patch.namespace},
                "ops": patch.ops,
            });
            serde_json::from_value(value).map_err(|error| {
                Error::config(
                    &config.file,
                    None,
                    format!("{key}[{index}]: {error}"),
                    "each op is {op: add|replace|remove, path: /json/pointer, value: …}",
                )
            })
        })
        .collect()
}

/// Pods do not inherit their owner's labels: label pod templates too, so `ohdev logs` and
/// diagnosis find every pod of the environment by one selector.
fn label_pod_templates(objects: &mut [Object]) {
    for object in objects {
        for pointer in ["/spec/template/metadata", "/spec/jobTemplate/spec/template/metadata"] {
            let Some(spec) = object.value.pointer_mut(pointer.rsplit_once('/').map(|(parent, _)| parent).unwrap_or(""))
            else {
                continue;
            };
            let Some(spec) = spec.as_object_mut() else { continue };
            let metadata = spec.entry("metadata").or_insert_with(|| serde_json::json!({}));
            if let Some(metadata) = metadata.as_object_mut() {
                let labels = metadata.entry("labels").or_insert_with(|| serde_json::json!({}));
                if let Some(labels) = labels.as_object_mut() {
                    labels.insert(substitute::MANAGED_BY_LABEL.to_string(), substitute::MANAGED_BY_VALUE.into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders a project of ohdev.yaml (`patches:` given) and one ConfigMap `settings` plus one `other`.
    async fn render_patched(patches: &str) -> Result<Rendered, Error> {
        let dir = tempfile::tempdir().unwrap();
        let config_map = |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
        std::fs::create_dir_all(dir.path().join("k8s")).unwrap();
        std::fs::write(
            dir.path().join("k8s/m.yaml"),
            format!("{}---\n{}", config_map("settings"), config_map("other")),
        )
        .unwrap();
        let text = format!("cluster: {{name: t}}\nnamespace: app\nimages: {{}}\nmanifests: [k8s]\npatches:\n{patches}");
        std::fs::write(dir.path().join("ohdev.yaml"), text).unwrap();
        let config = crate::config::load(&dir.path().join("ohdev.yaml")).unwrap();
        render_with_env(&config, &BTreeMap::new(), &|_| None).await
    }

    #[tokio::test]
    async fn the_patched_set_is_checked_again() {
        let target = "  - target: {kind: ConfigMap, name: settings}\n    ops: ";
        let cases = [
            ("[{op: replace, path: /metadata/name, value: Bad_Name}]", "ConfigMap has the name `Bad_Name`"),
            ("[{op: replace, path: /metadata/name, value: other}]", "ConfigMap app/other is defined twice"),
            (
                "[{op: add, path: /metadata/namespace, value: elsewhere}]",
                "namespace `elsewhere` is used by ConfigMap elsewhere/settings",
            ),
            ("[{op: add, path: /metadata/labels, value: {\"a b\": c}}]", "has label `a b`"),
        ];
        for (ops, expected) in cases {
            let error = match render_patched(&format!("{target}{ops}\n")).await {
                Err(error) => error.to_string(),
                Ok(_) => panic!("{ops}: rendered"),
            };
            assert!(error.contains("after the `patches:` of "), "{ops}: {error}");
            assert!(error.contains(expected), "{ops}: {error}");
        }
        let fine = render_patched(&format!("{target}[{{op: add, path: /data, value: {{mode: dev}}}}]\n")).await;
        assert!(fine.is_ok(), "a harmless patch was refused");
    }

    /// A project with one ConfigMap `settings` and `dev:` patching it, rendered in `mode`.
    async fn render_dev(dev_patches: &str, mode: crate::config::Mode) -> Result<Rendered, Error> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("k8s")).unwrap();
        std::fs::write(dir.path().join("k8s/m.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n")
            .unwrap();
        let text = format!(
            "cluster: {{name: t}}\nnamespace: app\nimages: {{}}\nmanifests: [k8s]\npatches:\n  - target: {{kind: ConfigMap, name: settings}}\n    ops: [{{op: add, path: /data, value: {{level: info}}}}]\ndev:\n  patches:\n{dev_patches}"
        );
        std::fs::write(dir.path().join("ohdev.yaml"), text).unwrap();
        let config = crate::config::load(&dir.path().join("ohdev.yaml")).unwrap().with_mode(mode);
        render_with_env(&config, &BTreeMap::new(), &|_| None).await
    }

    #[tokio::test]
    async fn dev_patches_apply_after_the_others_and_only_in_dev_mode() {
        use crate::config::Mode;
        let patch =
            "    - target: {kind: ConfigMap, name: settings}\n      ops: [{op: add, path: /data/mode, value: dev}]\n";
        let data = |rendered: &Rendered| rendered.objects[0].value["data"].clone();
        let production = render_dev(patch, Mode::Production).await.unwrap();
        assert_eq!(data(&production), serde_json::json!({"level": "info"}));
        let dev = render_dev(patch, Mode::Dev).await.unwrap();
        assert_eq!(data(&dev), serde_json::json!({"level": "info", "mode": "dev"}), "after the top-level patch");

        let nothing =
            "    - target: {kind: ConfigMap, name: setings}\n      ops: [{op: add, path: /data/mode, value: dev}]\n";
        assert!(render_dev(nothing, Mode::Production).await.is_ok(), "production mode never looks at dev patches");
        let error = match render_dev(nothing, Mode::Dev).await {
            Err(error) => error.to_string(),
            Ok(_) => panic!("a dev patch that targets nothing was accepted"),
        };
        assert!(
            error.contains("dev.patches[0] targets ConfigMap/setings, which is not in the manifest set"),
            "{error}"
        );
        let rename = "    - target: {kind: ConfigMap, name: settings}\n      ops: [{op: replace, path: /metadata/name, value: Bad_Name}]\n";
        let error = match render_dev(rename, Mode::Dev).await {
            Err(error) => error.to_string(),
            Ok(_) => panic!("a bad name from a dev patch was accepted"),
        };
        assert!(error.contains("after the `patches:` and `dev.patches:` of "), "{error}");
        let shape = "    - target: {kind: ConfigMap, name: settings}\n      ops: [{op: move, path: /data}]\n";
        let error = match render_dev(shape, Mode::Dev).await {
            Err(error) => error.to_string(),
            Ok(_) => panic!("an unknown op was accepted"),
        };
        assert!(error.contains("dev.patches[0]: unknown variant `move`"), "{error}");
    }
}

#[cfg(test)]
#[path = "render_dev_tests.rs"]
mod dev_tests;
