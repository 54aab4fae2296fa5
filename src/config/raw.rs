//! The shape of `ohdev.yaml` exactly as written, before interpolation and path resolution.
//!
//! `deny_unknown_fields` everywhere: a typo must be an error with a line number, not a silent default.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub cluster: RawCluster,
    pub namespace: Option<String>,
    pub images: Option<BTreeMap<String, RawImage>>,
    pub manifests: Option<Vec<RawManifestSource>>,
    #[serde(default)]
    pub patches: Vec<RawPatch>,
    #[serde(default)]
    pub secrets: BTreeMap<String, RawSecret>,
    #[serde(default)]
    pub deploy: RawDeploy,
    #[serde(default)]
    pub urls: Vec<String>,
    #[serde(default)]
    pub gc: RawGc,
    /// What dev mode adds (`config/dev.rs`).
    pub dev: Option<RawDev>,
    pub registry: Option<RawRegistry>,
    #[serde(default)]
    pub ports: Vec<RawPortForward>,
    /// Other kubeconfig contexts to deploy to (`config/target.rs`).
    #[serde(default)]
    pub targets: BTreeMap<String, RawTarget>,
}

/// One `targets:` entry: a kubeconfig context, its registry and namespace.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub context: String,
    pub registry: String,
    pub namespace: String,
    pub manifests: Option<Vec<RawManifestSource>>,
    #[serde(default)]
    pub allow: bool,
}

/// One `ports:` entry. Ports are read as wide integers so that `70000` is named with the fix, not
/// as serde's "expected u16".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPortForward {
    pub to: String,
    pub namespace: Option<String>,
    pub local: i64,
    pub remote: i64,
}

/// `gc:` the garbage collection of old content tags (`ohdev gc`, and after a rollout).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGc {
    /// Read as any YAML value so a wrong one is named with the key and the fix, not serde's type text.
    pub keep: Option<serde_yaml::Value>,
}

/// `registry:` — push images to a registry instead of `kind load`ing them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegistry {
    pub host: Option<String>,
    pub create: Option<bool>,
    pub image: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    pub name: Option<String>,
    pub config: Option<String>,
    pub wait: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImage {
    pub context: Option<String>,
    pub dockerfile: Option<String>,
    pub target: Option<String>,
    #[serde(default)]
    pub build_args: BTreeMap<String, String>,
    pub platform: Option<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub prebuild: Vec<String>,
    #[serde(default)]
    pub sync: Vec<RawSyncRule>,
    /// Paths that must exist in the context, so a wrong context fails early with a clear message.
    #[serde(default)]
    pub expect: Vec<String>,
    /// How many content tags of this image `ohdev gc` keeps (default: `gc.keep`).
    pub keep: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSyncRule {
    pub src: String,
    pub dest: String,
    #[serde(default)]
    pub run: Vec<String>,
}

/// A path, a remote bundle `{url, sha256}`, a kustomization `{kustomize: DIR}` or a renderer
/// `{command: [argv…], watch: [paths]}`. Read by hand rather than `#[serde(untagged)]`, whose only
/// error is "data did not match any variant": a typo in an entry's keys is named like any other.
#[derive(Debug)]
pub enum RawManifestSource {
    Path(String),
    Remote(RawRemote),
    Kustomize(RawKustomize),
    Command(RawCommand),
}

/// The key that says which kind of entry a mapping under `manifests:` is.
const SOURCE_KEYS: [&str; 3] = ["url", "kustomize", "command"];

impl<'de> Deserialize<'de> for RawManifestSource {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_yaml::Value::deserialize(deserializer)? {
            serde_yaml::Value::String(path) => Ok(RawManifestSource::Path(path)),
            serde_yaml::Value::Mapping(mapping) => {
                let named: Vec<&str> = SOURCE_KEYS.into_iter().filter(|key| mapping.contains_key(*key)).collect();
                let value = serde_yaml::Value::Mapping(mapping.clone());
                match named.as_slice() {
                    ["url"] => RawRemote::deserialize(value).map(RawManifestSource::Remote).map_err(D::Error::custom),
                    ["kustomize"] => {
                        RawKustomize::deserialize(value).map(RawManifestSource::Kustomize).map_err(D::Error::custom)
                    }
                    ["command"] => {
                        RawCommand::deserialize(value).map(RawManifestSource::Command).map_err(D::Error::custom)
                    }
                    [] => {
                        let written: Vec<String> =
                            mapping.keys().filter_map(|key| key.as_str().map(str::to_string)).collect();
                        let known: Vec<String> = SOURCE_KEYS.iter().map(|key| key.to_string()).collect();
                        let guess = written
                            .iter()
                            .find_map(|key| crate::config::yaml_error::nearest(key, &known).map(|near| (key, near)));
                        Err(D::Error::custom(match guess {
                            Some((key, near)) => format!(
                                "a `manifests:` entry has `{key}`, which is not a kind of entry: did you mean `{near}`? (entries are a path, `url:`, `kustomize:` or `command:`)"
                            ),
                            None => format!(
                                "a `manifests:` entry with {} is none of a path, `url:`, `kustomize:` or `command:`",
                                if written.is_empty() { "no keys".to_string() } else { format!("the keys `{}`", written.join("`, `")) }
                            ),
                        }))
                    }
                    several => Err(D::Error::custom(format!(
                        "a `manifests:` entry has both `{}`: each entry is one source; write them as separate entries",
                        several.join("` and `")
                    ))),
                }
            }
            _ => Err(D::Error::custom(
                "a `manifests:` entry is a path (e.g. `kind/manifests`), a remote bundle (`url: https://…` and an optional `sha256:`), a kustomization (`kustomize: path/to/overlay`) or a renderer (`command: [helm, template, …]`)",
            )),
        }
    }
}

/// `- kustomize: overlays/dev`: rendered by `kubectl kustomize`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKustomize {
    pub kustomize: String,
    pub timeout: Option<String>,
}

/// `- command: [helm, template, …]`: any renderer, its standard output read as multi-document YAML.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommand {
    pub command: Vec<String>,
    #[serde(default)]
    pub watch: Vec<String>,
    pub timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRemote {
    pub url: String,
    pub sha256: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPatch {
    pub target: RawPatchTarget,
    pub ops: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPatchTarget {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecret {
    pub env_file: Option<String>,
    pub keys: Vec<String>,
    pub namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeploy {
    pub timeout: Option<String>,
}

/// `dev:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDev {
    /// Same shape as the top-level `patches:`, applied after them, only in dev mode.
    #[serde(default)]
    pub patches: Vec<RawPatch>,
    /// Per image: sync rules that hold only in dev mode (after the image's own `sync:` rules).
    #[serde(default)]
    pub images: BTreeMap<String, RawDevImage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDevImage {
    #[serde(default)]
    pub sync: Vec<RawSyncRule>,
}
