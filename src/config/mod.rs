//! `ohdev.yaml`: found like git finds `.git`, typed, interpolated, with paths resolved against the
//! file's own directory and defaults that fit the OpenHands layout. Validation happens here, before
//! any command touches Docker or the cluster.

mod duration;
pub mod interpolate;
pub mod kind_cluster;
mod raw;
pub mod yaml_error;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use duration::parse_duration;

use crate::error::Error;
use raw::{RawConfig, RawManifestSource};

pub const FILE_NAME: &str = "ohdev.yaml";

#[derive(Debug, Clone)]
pub struct Config {
    /// The ohdev.yaml that was read.
    pub file: PathBuf,
    /// Its directory: every relative path is resolved against it; `.ohdev/` lives here.
    pub root: PathBuf,
    pub cluster: ClusterConfig,
    pub namespace: String,
    pub images: BTreeMap<String, ImageConfig>,
    pub manifests: Vec<ManifestSource>,
    pub patches: Vec<Patch>,
    pub secrets: BTreeMap<String, SecretConfig>,
    pub deploy_timeout: Duration,
    pub urls: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub name: String,
    pub config_path: PathBuf,
    pub wait: Duration,
}

impl ClusterConfig {
    /// The kubectl context kind writes for this cluster; ohdev always passes it explicitly.
    pub fn context(&self) -> String {
        format!("kind-{}", self.name)
    }
}

#[derive(Debug, Clone)]
pub struct ImageConfig {
    pub name: String,
    pub context: PathBuf,
    /// Relative to the context, as in `docker build -f`.
    pub dockerfile: PathBuf,
    pub target: Option<String>,
    pub build_args: BTreeMap<String, String>,
    pub platform: Option<String>,
    pub depends_on: Vec<String>,
    pub prebuild: Vec<String>,
    pub sync: Vec<SyncRule>,
    /// Paths that must exist in the context.
    pub expect: Vec<String>,
    /// `context` as written in ohdev.yaml, before interpolation (for messages).
    pub context_as_written: String,
}

#[derive(Debug, Clone)]
pub struct SyncRule {
    pub src: String,
    pub dest: String,
    pub run: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestSource {
    Path(PathBuf),
    Remote { url: String, sha256: Option<String> },
}

#[derive(Debug, Clone)]
pub struct Patch {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub ops: Vec<serde_json::Value>,
}

#[derive(Debug, Clone)]
pub struct SecretConfig {
    pub name: String,
    pub env_file: Option<PathBuf>,
    pub keys: Vec<String>,
    pub namespace: String,
}

/// Walk up from `start` to the first directory holding ohdev.yaml.
pub fn find(start: &Path) -> Result<PathBuf, Error> {
    let mut directory = Some(start);
    while let Some(current) = directory {
        let candidate = current.join(FILE_NAME);
        if candidate.is_file() {
            return Ok(candidate);
        }
        directory = current.parent();
    }
    Err(Error::ConfigNotFound { start: start.to_path_buf() })
}

pub fn load(file: &Path) -> Result<Config, Error> {
    load_with_env(file, &|name| std::env::var(name).ok())
}

pub fn load_with_env(file: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, Error> {
    let file = absolute(file);
    let text = std::fs::read_to_string(&file).map_err(|error| {
        Error::config(&file, None, format!("cannot read: {error}"), "check the path given to --config")
    })?;
    parse_text(&file, &text, env)
}

/// The text of an ohdev.yaml, parsed and resolved as if read from `file` (an absolute path: its
/// directory is `OHDEV_ROOT` and the base of every relative path). Touches no file.
pub(crate) fn parse_text(file: &Path, text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, Error> {
    let root_text = file.parent().map(|dir| dir.display().to_string()).unwrap_or_default();
    let with_builtins = |name: &str| env(name).or_else(|| (name == "OHDEV_ROOT").then(|| root_text.clone()));
    let env: &dyn Fn(&str) -> Option<String> = &with_builtins;
    let raw: RawConfig = if text.trim().is_empty() {
        RawConfig::default()
    } else {
        serde_yaml::from_str(text).map_err(|error| yaml_error::to_config_error(file, &error))?
    };
    let root = file.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    Resolver { file, text, env, root: &root }.resolve(raw)
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|dir| dir.join(path)).unwrap_or_else(|_| path.to_path_buf())
    }
}

/// Applies interpolation, defaults and path resolution, naming the key on any error.
struct Resolver<'a> {
    file: &'a Path,
    text: &'a str,
    env: &'a dyn Fn(&str) -> Option<String>,
    root: &'a Path,
}

impl Resolver<'_> {
    fn string(&self, key: &str, value: &str) -> Result<String, Error> {
        interpolate::interpolate(value, self.env).map_err(|error| {
            let line = self.line_of(value);
            match error {
                interpolate::InterpolateError::Unset { variable } => Error::config(
                    self.file,
                    line,
                    format!("`{key}` uses ${{{variable}}}, but {variable} is not set"),
                    format!("export {variable}=… before running ohdev, or write ${{{variable}:-default}}"),
                ),
                interpolate::InterpolateError::Unterminated => Error::config(
                    self.file,
                    line,
                    format!("`{key}` has a `${{` without its closing `}}`"),
                    "close it: ${NAME} or ${NAME:-default}; write $$ for a literal $",
                ),
            }
        })
    }

    fn path(&self, key: &str, value: &str) -> Result<PathBuf, Error> {
        let value = self.string(key, value)?;
        let path = PathBuf::from(&value);
        Ok(if path.is_absolute() { path } else { normalize(&self.root.join(path)) })
    }

    fn line_of(&self, needle: &str) -> Option<usize> {
        self.text.lines().position(|line| line.contains(needle)).map(|index| index + 1)
    }

    fn duration(&self, key: &str, value: Option<&str>, default: Duration) -> Result<Duration, Error> {
        let Some(value) = value else { return Ok(default) };
        let value = self.string(key, value)?;
        parse_duration(&value).ok_or_else(|| {
            Error::config(
                self.file,
                self.line_of(&value),
                format!("`{key}` is `{value}`, which is not a duration"),
                "write a number with a unit, e.g. 90s, 5m or 1h30m",
            )
        })
    }

    fn resolve(&self, raw: RawConfig) -> Result<Config, Error> {
        let cluster_name = self.string("cluster.name", raw.cluster.name.as_deref().unwrap_or("local-hands"))?;
        validate_name(self.file, self.line_of(&cluster_name), "cluster.name", &cluster_name)?;
        let cluster = ClusterConfig {
            config_path: self.path("cluster.config", raw.cluster.config.as_deref().unwrap_or("kind/cluster.yaml"))?,
            wait: self.duration("cluster.wait", raw.cluster.wait.as_deref(), Duration::from_secs(120))?,
            name: cluster_name,
        };
        let namespace = self.string("namespace", raw.namespace.as_deref().unwrap_or("openhands"))?;
        let images = match raw.images {
            Some(images) => images,
            None => default_images(),
        };
        let mut resolved_images = BTreeMap::new();
        for (name, image) in images {
            validate_name(self.file, self.line_of(&format!("{name}:")), &format!("images.{name}"), &name)?;
            let key = |field: &str| format!("images.{name}.{field}");
            let mut build_args = BTreeMap::new();
            for (arg, value) in image.build_args {
                build_args.insert(arg.clone(), self.string(&key(&format!("build_args.{arg}")), &value)?);
            }
            let mut sync = Vec::new();
            for rule in image.sync {
                sync.push(SyncRule {
                    src: self.string(&key("sync.src"), &rule.src)?,
                    dest: self.string(&key("sync.dest"), &rule.dest)?,
                    run: rule.run.iter().map(|part| self.string(&key("sync.run"), part)).collect::<Result<_, _>>()?,
                });
            }
            resolved_images.insert(
                name.clone(),
                ImageConfig {
                    context: self.path(&key("context"), image.context.as_deref().unwrap_or("."))?,
                    dockerfile: PathBuf::from(
                        self.string(&key("dockerfile"), image.dockerfile.as_deref().unwrap_or("Dockerfile"))?,
                    ),
                    target: image.target.map(|target| self.string(&key("target"), &target)).transpose()?,
                    build_args,
                    platform: image.platform.map(|platform| self.string(&key("platform"), &platform)).transpose()?,
                    depends_on: image.depends_on,
                    prebuild: image
                        .prebuild
                        .iter()
                        .map(|part| self.string(&key("prebuild"), part))
                        .collect::<Result<_, _>>()?,
                    sync,
                    expect: image.expect.clone(),
                    context_as_written: image.context.clone().unwrap_or_else(|| ".".to_string()),
                    name,
                },
            );
        }
        for image in resolved_images.values() {
            for dependency in &image.depends_on {
                if !resolved_images.contains_key(dependency) {
                    let known: Vec<String> = resolved_images.keys().cloned().collect();
                    return Err(Error::config(
                        self.file,
                        self.line_of(dependency),
                        format!("images.{}.depends_on names `{dependency}`, which is not an image here", image.name),
                        match yaml_error::nearest(dependency, &known) {
                            Some(candidate) => format!("did you mean `{candidate}`?"),
                            None => format!("use one of: {}", known.join(", ")),
                        },
                    ));
                }
            }
        }
        let manifests = match raw.manifests {
            Some(manifests) => manifests,
            None => vec![RawManifestSource::Path("kind/manifests".into())],
        };
        let manifests = manifests
            .into_iter()
            .map(|source| match source {
                RawManifestSource::Path(path) => Ok(ManifestSource::Path(self.path("manifests", &path)?)),
                RawManifestSource::Remote(remote) => Ok(ManifestSource::Remote {
                    url: self.string("manifests.url", &remote.url)?,
                    sha256: remote.sha256,
                }),
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let patches = raw
            .patches
            .into_iter()
            .map(|patch| Patch {
                kind: patch.target.kind,
                name: patch.target.name,
                namespace: patch.target.namespace,
                ops: patch.ops,
            })
            .collect();
        let mut secrets = BTreeMap::new();
        for (name, secret) in raw.secrets {
            secrets.insert(
                name.clone(),
                SecretConfig {
                    env_file: secret
                        .env_file
                        .map(|file| self.path(&format!("secrets.{name}.env_file"), &file))
                        .transpose()?,
                    keys: secret.keys,
                    namespace: secret.namespace.unwrap_or_else(|| namespace.clone()),
                    name,
                },
            );
        }
        Ok(Config {
            file: self.file.to_path_buf(),
            root: self.root.to_path_buf(),
            cluster,
            namespace,
            images: resolved_images,
            manifests,
            patches,
            secrets,
            deploy_timeout: self.duration("deploy.timeout", raw.deploy.timeout.as_deref(), Duration::from_secs(300))?,
            urls: raw.urls.iter().map(|url| self.string("urls", url)).collect::<Result<_, _>>()?,
        })
    }
}

/// The OpenHands app image, when ohdev.yaml names no images.
fn default_images() -> BTreeMap<String, raw::RawImage> {
    let mut images = BTreeMap::new();
    images.insert(
        "app".to_string(),
        raw::RawImage {
            context: Some("${OPENHANDS_ROOT:-.}".into()),
            dockerfile: Some("containers/app/Dockerfile".into()),
            target: None,
            build_args: BTreeMap::new(),
            platform: None,
            depends_on: Vec::new(),
            prebuild: Vec::new(),
            sync: Vec::new(),
            expect: vec!["pyproject.toml".into(), "openhands".into(), "frontend".into()],
        },
    );
    images
}

/// Names become kind cluster names, image repositories and label values: keep them DNS-label-like.
fn validate_name(file: &Path, line: Option<usize>, key: &str, name: &str) -> Result<(), Error> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if valid {
        Ok(())
    } else {
        Err(Error::config(
            file,
            line,
            format!("`{key}` is `{name}`, which is not a valid name"),
            "use lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit",
        ))
    }
}

/// `a/./b/../c` → `a/c`, without touching the filesystem (the path may not exist yet).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests;
