//! From the raw ohdev.yaml to a [`Config`]: `${VAR}` interpolation, the OpenHands defaults, paths
//! resolved against the file's directory, and every check that names the key and its line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{self, RawConfig, RawManifestSource};
use super::{dev, interpolate, normalize, parse_duration, yaml_error};
use super::{ClusterConfig, Config, ImageConfig, ManifestSource, Mode, Patch, SecretConfig, SyncRule, RENDER_TIMEOUT};
use crate::error::Error;

/// The most content tags `keep` may ask for: beyond it, gc never removes anything in practice.
const MAX_KEEP: usize = 1000;

/// Applies interpolation, defaults and path resolution, naming the key on any error.
pub(super) struct Resolver<'a> {
    pub(super) file: &'a Path,
    pub(super) text: &'a str,
    pub(super) env: &'a dyn Fn(&str) -> Option<String>,
    pub(super) root: &'a Path,
}

impl Resolver<'_> {
    pub(super) fn string(&self, key: &str, value: &str) -> Result<String, Error> {
        interpolate::interpolate(value, self.env).map_err(|error| {
            let line = self.line_of(value);
            match error {
                interpolate::InterpolateError::Unset { variable } => Error::config(
                    self.file,
                    line,
                    format!("`{key}` uses ${{{variable}}}, but {variable} is not set"),
                    format!("export {variable}=… before running ohdev, or write ${{{variable}:-default}}"),
                ),
                interpolate::InterpolateError::BadName { written } => Error::config(
                    self.file,
                    line,
                    format!("`{key}` has `{written}`, which does not name an environment variable"),
                    "write ${NAME} or ${NAME:-default} (letters, digits and _), or $$ for a literal $",
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

    /// The Dockerfile, relative to the context and inside it (the context is all the builder sends).
    fn dockerfile(&self, key: &str, value: &str) -> Result<PathBuf, Error> {
        let dockerfile = PathBuf::from(self.string(key, value)?);
        let outside = dockerfile.is_absolute() || normalize(&dockerfile).starts_with("..");
        if outside {
            return Err(Error::config(
                self.file,
                self.line_of(value),
                format!(
                    "`{key}` is `{}`, which is not inside the build context: the builder only has the context's files",
                    dockerfile.display()
                ),
                "give the Dockerfile's path relative to `context` (as with `docker build -f`), or make `context` a directory that holds it",
            ));
        }
        Ok(dockerfile)
    }

    /// `linux/<architecture>[/<variant>]`: kind's nodes run Linux, so an image for anything else never
    /// runs; a typo (`linux/amd46`) gets the nearest valid spelling.
    fn platform(&self, key: &str, value: &str) -> Result<String, Error> {
        let platform = self.string(key, value)?;
        let refuse = |message: String, fix: String| Err(Error::config(self.file, self.line_of(value), message, fix));
        let syntax = "write linux/<architecture>, e.g. linux/amd64 or linux/arm64";
        if let Err(problem) = crate::platform::check_platform(&platform) {
            let fix = match &problem.suggestion {
                Some(suggestion) => format!("did you mean `{suggestion}`? {syntax}"),
                None => syntax.to_string(),
            };
            return refuse(format!("`{key}` is `{platform}`, which is not a platform: {}", problem.reason), fix);
        }
        if platform.split('/').next() != Some("linux") {
            return refuse(
                format!("`{key}` is `{platform}`, which is not a platform a kind node can run"),
                format!("kind's nodes run Linux: {syntax}"),
            );
        }
        Ok(platform)
    }

    /// A count of content tags to keep: a whole number from 1 to [`MAX_KEEP`]. The tag that runs is
    /// kept whatever the count, so 0 would only mean "no way back"; a typo must not delete images.
    fn keep(&self, key: &str, value: &serde_yaml::Value) -> Result<usize, Error> {
        let written = match value {
            serde_yaml::Value::String(text) => self.string(key, text)?,
            other => serde_json::to_string(other).unwrap_or_default(),
        };
        let field = key.rsplit('.').next().unwrap_or(key);
        let line = self
            .text
            .lines()
            .position(|line| line.contains(&format!("{field}:")) && line.contains(written.as_str()))
            .map(|index| index + 1)
            .or_else(|| self.line_of(&written));
        match written.trim().parse::<usize>() {
            Ok(count) if (1..=MAX_KEEP).contains(&count) => Ok(count),
            parsed => Err(Error::config(
                self.file,
                line,
                match parsed {
                    Ok(0) => format!("`{key}` is 0: ohdev gc would keep no earlier tag to go back to"),
                    Ok(_) => format!("`{key}` is {written}, more than ohdev keeps ({MAX_KEEP})"),
                    Err(_) => format!("`{key}` is `{written}`, which is not a number of tags"),
                },
                format!(
                    "write a whole number from 1 to {MAX_KEEP}, e.g. `keep: {}` (the newest tags of each image that ohdev gc keeps)",
                    super::DEFAULT_GC_KEEP
                ),
            )),
        }
    }

    /// `registry:`: `host` is `name:port`; ohdev runs the registry container itself only on this
    /// machine's loopback, so `create: true` (the default) needs `localhost:<port>` or `127.0.0.1:<port>`.
    fn registry(&self, raw: raw::RawRegistry) -> Result<super::registry::RegistryConfig, Error> {
        let line = |needle: &str| self.line_of(needle).or_else(|| self.line_of("registry:"));
        let host = match &raw.host {
            Some(host) => self.string("registry.host", host)?,
            None => super::registry::DEFAULT_HOST.to_string(),
        };
        let image = match &raw.image {
            Some(image) => self.string("registry.image", image)?,
            None => super::registry::DEFAULT_IMAGE.to_string(),
        };
        let create = raw.create.unwrap_or(true);
        super::registry::RegistryConfig::new(&host, create, &image).map_err(|problem| {
            let needle = match problem.key {
                "registry.image" => raw.image.as_deref().unwrap_or("image:"),
                "registry.create" => "create:",
                _ => raw.host.as_deref().unwrap_or("registry:"),
            };
            Error::config(self.file, line(needle), problem.message, problem.fix)
        })
    }

    /// The line of `needle` at or after the line of `after` (a key inside a section).
    pub(super) fn line_after(&self, after: &str, needle: &str) -> Option<usize> {
        let start = self.line_of(after).unwrap_or(1) - 1;
        self.text.lines().skip(start).position(|line| line.contains(needle)).map(|index| index + start + 1)
    }

    pub(super) fn line_of(&self, needle: &str) -> Option<usize> {
        self.text.lines().position(|line| line.contains(needle)).map(|index| index + 1)
    }

    fn duration(&self, key: &str, value: Option<&str>, default: Duration) -> Result<Duration, Error> {
        let Some(value) = value else { return Ok(default) };
        let value = self.string(key, value)?;
        match parse_duration(&value) {
            Some(duration) if !duration.is_zero() => Ok(duration),
            parsed => Err(Error::config(
                self.file,
                self.line_of(&value),
                match parsed {
                    Some(_) => format!("`{key}` is `{value}`, which leaves no time to wait"),
                    None => format!("`{key}` is `{value}`, which is not a duration"),
                },
                "write a number with a unit, e.g. 90s, 5m or 1h30m",
            )),
        }
    }

    /// `sync:` rules of `key` (`images.app.sync`, `dev.images.app.sync`): interpolated, `dest` absolute.
    fn sync_rules(&self, key: &str, rules: Vec<raw::RawSyncRule>) -> Result<Vec<SyncRule>, Error> {
        let mut sync = Vec::new();
        for rule in rules {
            let dest = self.string(&format!("{key}.dest"), &rule.dest)?;
            if !dest.starts_with('/') {
                return Err(Error::config(
                    self.file,
                    self.line_of(&rule.dest),
                    format!("`{key}.dest` is `{dest}`, a relative path: it would land wherever the container's working directory is"),
                    format!("write the absolute path in the container, e.g. `/app/{}`", dest.trim_start_matches("./")),
                ));
            }
            sync.push(SyncRule {
                src: self.string(&format!("{key}.src"), &rule.src)?,
                dest,
                run: rule.run.iter().map(|part| self.string(&format!("{key}.run"), part)).collect::<Result<_, _>>()?,
            });
        }
        Ok(sync)
    }

    /// A `manifests:` list (top level or a target's), interpolated, paths resolved.
    pub(super) fn manifests(&self, manifests: Vec<RawManifestSource>) -> Result<Vec<ManifestSource>, Error> {
        manifests
            .into_iter()
            .map(|source| match source {
                RawManifestSource::Path(path) => Ok(ManifestSource::Path(self.path("manifests", &path)?)),
                RawManifestSource::Remote(remote) => Ok(ManifestSource::Remote {
                    url: self.string("manifests.url", &remote.url)?,
                    sha256: remote.sha256,
                }),
                RawManifestSource::Kustomize(kustomize) => Ok(ManifestSource::Kustomize {
                    dir: self.path("manifests.kustomize", &kustomize.kustomize)?,
                    as_written: kustomize.kustomize.trim_end_matches('/').to_string(),
                    timeout: self.duration("manifests.timeout", kustomize.timeout.as_deref(), RENDER_TIMEOUT)?,
                }),
                RawManifestSource::Command(command) => {
                    if command.command.first().is_none_or(|program| program.trim().is_empty()) {
                        return Err(Error::config(
                            self.file,
                            self.line_of("command:"),
                            "`manifests.command` is empty: it names no program to run",
                            "write the renderer's argv, e.g. `command: [helm, template, app, ./charts/app]`",
                        ));
                    }
                    Ok(ManifestSource::Command {
                        argv: command
                            .command
                            .iter()
                            .map(|part| self.string("manifests.command", part))
                            .collect::<Result<_, _>>()?,
                        watch: command
                            .watch
                            .iter()
                            .map(|path| self.path("manifests.watch", path))
                            .collect::<Result<_, _>>()?,
                        timeout: self.duration("manifests.timeout", command.timeout.as_deref(), RENDER_TIMEOUT)?,
                    })
                }
            })
            .collect::<Result<Vec<_>, Error>>()
    }

    pub(super) fn resolve(&self, raw: RawConfig) -> Result<Config, Error> {
        let cluster_name = self.string("cluster.name", raw.cluster.name.as_deref().unwrap_or("local-hands"))?;
        validate_name(self.file, self.line_of(&cluster_name), "cluster.name", &cluster_name)?;
        let cluster = ClusterConfig {
            config_path: self.path("cluster.config", raw.cluster.config.as_deref().unwrap_or("kind/cluster.yaml"))?,
            wait: self.duration("cluster.wait", raw.cluster.wait.as_deref(), Duration::from_secs(120))?,
            name: cluster_name,
        };
        let namespace = self.string("namespace", raw.namespace.as_deref().unwrap_or("openhands"))?;
        validate_name(self.file, self.line_of(&namespace), "namespace", &namespace)?;
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
            let sync = self.sync_rules(&key("sync"), image.sync)?;
            resolved_images.insert(
                name.clone(),
                ImageConfig {
                    context: self.path(&key("context"), image.context.as_deref().unwrap_or("."))?,
                    dockerfile: self
                        .dockerfile(&key("dockerfile"), image.dockerfile.as_deref().unwrap_or("Dockerfile"))?,
                    target: image.target.map(|target| self.string(&key("target"), &target)).transpose()?,
                    build_args,
                    platform: image.platform.map(|platform| self.platform(&key("platform"), &platform)).transpose()?,
                    depends_on: image.depends_on,
                    prebuild: image
                        .prebuild
                        .iter()
                        .map(|part| self.string(&key("prebuild"), part))
                        .collect::<Result<_, _>>()?,
                    sync,
                    expect: image.expect.clone(),
                    keep: image.keep.as_ref().map(|value| self.keep(&key("keep"), value)).transpose()?,
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
        let manifests = self.manifests(manifests)?;
        let patches = raw.patches.into_iter().map(Patch::from_raw).collect();
        let dev =
            dev::resolve(raw.dev, &resolved_images, self.file, self.text, &|key, rules| self.sync_rules(key, rules))?;
        let mut secrets = BTreeMap::new();
        for (name, secret) in raw.secrets {
            validate_subdomain(self.file, self.line_of(&format!("{name}:")), &format!("secrets.{name}"), &name)?;
            if let Some(namespace) = &secret.namespace {
                validate_name(self.file, self.line_of(namespace), &format!("secrets.{name}.namespace"), namespace)?;
            }
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
        let ports = super::ports::resolve(self.file, self.text, &raw.ports, &namespace)?;
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
            gc_keep: match &raw.gc.keep {
                Some(value) => self.keep("gc.keep", value)?,
                None => super::DEFAULT_GC_KEEP,
            },
            registry: raw.registry.map(|registry| self.registry(registry)).transpose()?,
            targets: self.targets(raw.targets)?,
            target: None,
            dev,
            mode: Mode::Production,
            ports,
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
            keep: None,
            expect: vec!["pyproject.toml".into(), "openhands".into(), "frontend".into()],
        },
    );
    images
}

/// Names become kind cluster names, image repositories and label values: keep them DNS-label-like.
fn validate_name(file: &Path, line: Option<usize>, key: &str, name: &str) -> Result<(), Error> {
    if crate::names::is_dns_label(name) {
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

/// A DNS-1123 subdomain, as Kubernetes wants for Secret and ConfigMap names: lower-case letters,
/// digits, '-' and '.', at most 253 characters, each dot-separated part starting and ending with a
/// letter or digit.
fn validate_subdomain(file: &Path, line: Option<usize>, key: &str, name: &str) -> Result<(), Error> {
    if crate::names::is_dns_subdomain(name) {
        Ok(())
    } else {
        Err(Error::config(
            file,
            line,
            format!("`{key}` is `{name}`, which Kubernetes does not accept as a name"),
            "use lower-case letters, digits, '-' and '.', at most 253 characters, starting and ending with a letter or digit",
        ))
    }
}
