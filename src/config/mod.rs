//! `ohdev.yaml`: found like git finds `.git`, typed, interpolated, with paths resolved against the
//! file's own directory and defaults that fit the OpenHands layout. Validation happens here, before
//! any command touches Docker or the cluster.

mod dev;
mod duration;
pub mod interpolate;
pub mod kind_cluster;
mod ports;
mod raw;
pub mod registry;
mod resolve;
pub mod target;
pub mod yaml_error;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use dev::{DevConfig, Mode};
pub use duration::parse_duration;
pub use ports::{ForwardKind, PortForward};

use crate::error::Error;
use raw::RawConfig;
use resolve::Resolver;

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
    /// `registry:`: where images are pushed instead of `kind load`ed; `None` when the key is absent.
    pub registry: Option<registry::RegistryConfig>,
    /// `gc.keep`: content tags of each image `ohdev gc` keeps, unless the image says otherwise.
    pub gc_keep: usize,
    /// The `dev:` section; in force only when `mode` is [`Mode::Dev`].
    pub dev: DevConfig,
    /// Production unless a command chose dev mode ([`Config::with_mode`]).
    pub mode: Mode,
    /// `ports:`: port-forwards from 127.0.0.1 to a workload, kept up across pod restarts.
    pub ports: Vec<PortForward>,
    /// `targets:`: other kubeconfig contexts this project can be deployed to.
    pub targets: BTreeMap<String, target::TargetConfig>,
    /// The target this run works on (`--target`); `None` is the kind cluster of `cluster:`.
    pub target: Option<target::TargetConfig>,
}

/// Content tags of each image `ohdev gc` keeps when ohdev.yaml says nothing.
pub const DEFAULT_GC_KEEP: usize = 3;

impl Config {
    /// The same project in `mode`: which patches render and which sync rules route.
    pub fn with_mode(mut self, mode: Mode) -> Config {
        self.mode = mode;
        self
    }

    /// The `dev.patches` in force: none in production mode.
    pub fn dev_patches(&self) -> &[Patch] {
        match self.mode {
            Mode::Dev => &self.dev.patches,
            Mode::Production => &[],
        }
    }

    /// The sync rules in force for `image`: its own, then (in dev mode) those of `dev.images.<image>`.
    pub fn sync_rules(&self, image: &str) -> Vec<SyncRule> {
        let own = self.images.get(image).map(|config| config.sync.as_slice()).unwrap_or_default();
        let dev = match self.mode {
            Mode::Dev => self.dev.sync.get(image).map(Vec::as_slice).unwrap_or_default(),
            Mode::Production => &[],
        };
        own.iter().chain(dev).cloned().collect()
    }

    /// How many content tags of image `name` gc keeps (`images.<name>.keep`, else `gc.keep`).
    pub fn keep_for(&self, name: &str) -> usize {
        self.images.get(name).and_then(|image| image.keep).unwrap_or(self.gc_keep)
    }
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
    /// `images.<name>.keep`: content tags gc keeps of this image (None: `gc.keep`).
    pub keep: Option<usize>,
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
    Remote {
        url: String,
        sha256: Option<String>,
    },
    /// `kustomize: DIR`: `kubectl kustomize DIR`'s output.
    Kustomize {
        dir: PathBuf,
        /// The directory as written (`overlays/dev`), for `kustomize:overlays/dev` in messages.
        as_written: String,
        timeout: Duration,
    },
    /// `command: [argv…]`: a renderer run in the project's directory; its stdout is the manifests.
    Command {
        argv: Vec<String>,
        /// Files or directories whose change means the output changes (the watch loop re-renders).
        watch: Vec<PathBuf>,
        timeout: Duration,
    },
}

/// How long a renderer may run when its entry names no `timeout:`.
pub const RENDER_TIMEOUT: Duration = Duration::from_secs(60);

impl ManifestSource {
    /// How objects from this source are named in plans and messages: `kustomize:overlays/dev`,
    /// `command:helm`. `None` for files, which are named by their path.
    pub fn label(&self) -> Option<String> {
        match self {
            ManifestSource::Path(_) | ManifestSource::Remote { .. } => None,
            ManifestSource::Kustomize { as_written, .. } => Some(format!("kustomize:{as_written}")),
            ManifestSource::Command { argv, .. } => {
                let program = argv.first().map(String::as_str).unwrap_or("");
                let program = Path::new(program).file_name().map(|name| name.to_string_lossy().into_owned());
                Some(format!("command:{}", program.unwrap_or_default()))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Patch {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub ops: Vec<serde_json::Value>,
}

impl Patch {
    /// A `patches:` entry (top level or `dev:`) as written.
    fn from_raw(patch: raw::RawPatch) -> Patch {
        Patch { kind: patch.target.kind, name: patch.target.name, namespace: patch.target.namespace, ops: patch.ops }
    }
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
        // A link that leads nowhere readable is named, not passed over: the user meant that file.
        if let Ok(metadata) = std::fs::symlink_metadata(&candidate) {
            if metadata.file_type().is_symlink() {
                let why = match std::fs::metadata(&candidate) {
                    Err(error) if error.raw_os_error() == Some(libc::ELOOP) => "a symbolic link loop".to_string(),
                    Err(error) => format!("a symbolic link that cannot be followed ({error})"),
                    Ok(_) => "a symbolic link to something that is not a file".to_string(),
                };
                let target =
                    std::fs::read_link(&candidate).map(|target| target.display().to_string()).unwrap_or_default();
                return Err(Error::config(
                    &candidate,
                    None,
                    format!("{} is {why} (→ {target})", candidate.display()),
                    "point the link at the real ohdev.yaml (`ln -sf /path/to/ohdev.yaml ohdev.yaml`), or replace it with the file",
                ));
            }
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
    if text.lines().all(|line| line.trim().is_empty() || line.trim_start().starts_with('#')) {
        return Err(Error::config(
            file,
            None,
            "the file is empty: there is nothing to do",
            "describe the environment (see docs/ohdev-yaml.md), or write `{}` to use the OpenHands defaults",
        ));
    }
    let raw: RawConfig = yaml_error::from_str_strict(file, text)?;
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
