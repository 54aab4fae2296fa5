//! The image phase: prebuild → walk → digest → skip if the tag exists → build (bounded, in
//! dependency waves) → report. A failed image stops everything that depends on it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bollard::Docker;
use futures_util::StreamExt;

use super::builder::{self, BuildError, BuildRequest, Builder};
use super::context::{self, ContextFiles};
use super::context_tar;
use super::digest::{self, DigestInput, HashCache};
use crate::config::{Config, ImageConfig};
use crate::error::Error;
use crate::events::{Event, ImageState, StepState};
use crate::tools::exec::Invocation;
use crate::ui::Reporter;

pub use crate::names::{IMAGE_REPOSITORY_HOST as REPOSITORY_HOST, MANAGED_BY_LABEL, MANAGED_BY_VALUE};
pub const DIGEST_LABEL: &str = "dev.ohdev.digest";
pub const IMAGE_LABEL: &str = "dev.ohdev.image";
/// Builds that run at once (2 cores here; BuildKit parallelises inside a build too).
const CONCURRENT_BUILDS: usize = 2;

/// An image ready to build: its exact content is known and named.
#[derive(Debug, Clone)]
pub struct PreparedImage {
    pub name: String,
    pub tag: String,
    pub digest: String,
    pub context: ContextFiles,
    pub config: ImageConfig,
    pub build_args: BTreeMap<String, String>,
    pub files_hashed: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Built { image_id: String },
    UpToDate { image_id: String },
    Failed,
    /// Not built because an image it depends on failed.
    Skipped,
}

#[derive(Debug, Clone)]
pub struct BuildResult {
    pub name: String,
    pub tag: String,
    pub digest: String,
    pub outcome: Outcome,
}

impl BuildResult {
    pub fn image_id(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Built { image_id } | Outcome::UpToDate { image_id } => Some(image_id),
            _ => None,
        }
    }
}

pub fn tag_for(name: &str, digest_hex: &str) -> String {
    format!("{REPOSITORY_HOST}/{name}:{}", &digest_hex[..16.min(digest_hex.len())])
}

/// The images to work on: the named ones plus everything they depend on, in dependency order.
pub fn select(config: &Config, names: &[String]) -> Result<Vec<String>, Error> {
    for name in names {
        if !config.images.contains_key(name) {
            let known: Vec<String> = config.images.keys().cloned().collect();
            return Err(Error::Input {
                message: format!("no image named `{name}` in {}", config.file.display()),
                fix: match crate::config::yaml_error::nearest(name, &known) {
                    Some(candidate) => format!("did you mean `{candidate}`? images: {}", known.join(", ")),
                    None => format!("images: {}", if known.is_empty() { "(none)".to_string() } else { known.join(", ") }),
                },
            });
        }
    }
    let wanted: Vec<String> = if names.is_empty() { config.images.keys().cloned().collect() } else { names.to_vec() };
    let mut ordered = Vec::new();
    let mut visiting = BTreeSet::new();
    for name in &wanted {
        visit(config, name, &mut visiting, &mut ordered)?;
    }
    Ok(ordered)
}

fn visit(config: &Config, name: &str, visiting: &mut BTreeSet<String>, ordered: &mut Vec<String>) -> Result<(), Error> {
    if ordered.iter().any(|done| done == name) {
        return Ok(());
    }
    if !visiting.insert(name.to_string()) {
        return Err(Error::config(
            &config.file,
            None,
            format!("images depend on each other in a cycle through `{name}`"),
            "remove one of the `depends_on` entries",
        ));
    }
    for dependency in &config.images[name].depends_on {
        visit(config, dependency, visiting, ordered)?;
    }
    visiting.remove(name);
    ordered.push(name.to_string());
    Ok(())
}

/// Check, before anything changes, that each image's context and Dockerfile exist.
pub fn validate(config: &Config, names: &[String]) -> Result<(), Error> {
    for name in names {
        let image = &config.images[name];
        if !image.context.is_dir() {
            return Err(Error::config(
                &config.file,
                None,
                format!("images.{name}.context is {}, which is not a directory", image.context.display()),
                "point `context` at the build context (for OpenHands: export OPENHANDS_ROOT=/path/to/OpenHands)",
            ));
        }
        let missing: Vec<&String> = image.expect.iter().filter(|path| !image.context.join(path.as_str()).exists()).collect();
        if !missing.is_empty() {
            return Err(Error::config(
                &config.file,
                None,
                format!(
                    "images.{name}.context is {} (from `{}`), which lacks {}: it does not look like the expected checkout",
                    image.context.display(),
                    image.context_as_written,
                    missing.iter().map(|path| path.as_str()).collect::<Vec<_>>().join(", ")
                ),
                "point it at the right directory; for OpenHands: git clone https://github.com/All-Hands-AI/OpenHands and export OPENHANDS_ROOT=/path/to/OpenHands",
            ));
        }
        if !image.prebuild.is_empty() && find_program(image).is_err() {
            return Err(Error::config(
                &config.file,
                None,
                format!("images.{name}.prebuild runs `{}`, which is neither on PATH nor in {}", image.prebuild[0], image.context.display()),
                format!("install `{}`, or fix the command", image.prebuild[0]),
            ));
        }
        for (argument, value) in &image.build_args {
            for reference in image_references(value) {
                if !image.depends_on.contains(&reference) {
                    return Err(Error::config(
                        &config.file,
                        None,
                        format!("images.{name}.build_args.{argument} uses ${{image:{reference}}}, but `{reference}` is not in images.{name}.depends_on"),
                        if config.images.contains_key(&reference) {
                            format!("add `depends_on: [{reference}]` to images.{name}")
                        } else {
                            format!("`{reference}` is not an image in ohdev.yaml: fix the name")
                        },
                    ));
                }
            }
        }
        if image.prebuild.is_empty() && !image.context.join(&image.dockerfile).is_file() {
            return Err(Error::config(
                &config.file,
                None,
                format!(
                    "images.{name}.dockerfile is {}, which is not a file in the context {}",
                    image.dockerfile.display(),
                    image.context.display()
                ),
                "give the Dockerfile's path relative to the context, as with `docker build -f`",
            ));
        }
    }
    Ok(())
}

/// Walk and digest one image's context (no prebuild), using and refreshing the hash cache.
pub async fn digest_image(
    config: &Config,
    image: &ImageConfig,
    build_args: &BTreeMap<String, String>,
    state_dir: &Path,
) -> Result<(ContextFiles, digest::DigestReport), Error> {
    let cache_path = cache_path(state_dir, &image.name);
    let input = DigestInput {
        dockerfile_rel: image.dockerfile.clone(),
        target: image.target.clone(),
        build_args: build_args.clone(),
        platform: image.platform.clone(),
    };
    let context_dir = image.context.clone();
    let dockerfile = image.dockerfile.clone();
    let name = image.name.clone();
    let own_state = state_dir_in_context(&context_dir, state_dir);
    let walked = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
        // Read the hash cache (20,000 entries: ~10 ms of JSON) while the walk runs.
        let (walked, mut cache) = std::thread::scope(|scope| {
            let loader = scope.spawn(|| HashCache::load(&cache_path).unwrap_or_default());
            let walked = context::walk(&context_dir, &dockerfile);
            (walked, loader.join().unwrap_or_default())
        });
        let mut files = walked?;
        if let Some(own_state) = &own_state {
            files.exclude_subtree(own_state);
        }
        let report = digest::digest(&files, &input, &mut cache)?;
        if let Some(parent) = cache_path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if cache.changed() {
            cache.save(&cache_path)?;
        }
        Ok((files, report))
    })
    .await
    .map_err(|error| Error::work(format!("digesting image {name} panicked: {error}"), None))?;
    walked.map_err(|error| {
        Error::work(
            format!("cannot read the build context of image {} ({}): {error}", image.name, image.context.display()),
            Some(format!("check images.{}.context and images.{}.dockerfile in {}", image.name, image.name, config.file.display())),
        )
    })
}

/// ohdev's state directory relative to `context`, when the context contains it (`context: .`).
/// It is never part of an image: ohdev rewrites it on every run (the hash cache, state.json), so
/// sending it would change the digest each time and could change under the tar as it streams.
fn state_dir_in_context(context: &Path, state_dir: &Path) -> Option<String> {
    let context = context.canonicalize().ok()?;
    let parent = state_dir.parent()?.canonicalize().ok()?;
    let state_dir = parent.join(state_dir.file_name()?);
    let relative = state_dir.strip_prefix(&context).ok()?;
    let relative = relative.to_str()?;
    (!relative.is_empty()).then(|| relative.to_string())
}

/// A prebuild program on PATH, or a path relative to the context (where it runs).
fn find_program(image: &ImageConfig) -> Result<PathBuf, which::Error> {
    which::which_in(&image.prebuild[0], std::env::var_os("PATH"), &image.context)
}

/// Names in `${image:NAME}` placeholders.
fn image_references(value: &str) -> Vec<String> {
    value
        .split("${image:")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

/// Run prebuild commands, walk and digest each image (in dependency order: `${image:X}` in build
/// args becomes X's tag, so a dependency's change changes its dependents' digests).
pub async fn prepare(config: &Config, names: &[String], state_dir: &Path, reporter: &Reporter) -> Result<Vec<PreparedImage>, Error> {
    let mut prepared: Vec<PreparedImage> = Vec::new();
    for name in names {
        let image = config.images[name].clone();
        if !image.prebuild.is_empty() {
            run_prebuild(name, &image, &config.root, reporter).await?;
        }
        let mut build_args = BTreeMap::new();
        for (key, value) in &image.build_args {
            build_args.insert(key.clone(), substitute_image_tags(value, &prepared, &config.file, name)?);
        }
        let started = Instant::now();
        let (files, report) = digest_image(config, &image, &build_args, state_dir).await?;
        let digest = report.digest.hex();
        reporter.emit(Event::step(
            format!("digest:{name}"),
            StepState::Done,
            format!("digested image {name}"),
            Some(format!(
                "{} files, {} hashed, {} ms",
                files.files().count(),
                report.files_hashed,
                started.elapsed().as_millis()
            )),
        ));
        prepared.push(PreparedImage {
            tag: tag_for(name, &digest),
            name: name.clone(),
            digest,
            context: files,
            config: image,
            build_args,
            files_hashed: report.files_hashed,
        });
    }
    Ok(prepared)
}

fn substitute_image_tags(value: &str, prepared: &[PreparedImage], file: &Path, image: &str) -> Result<String, Error> {
    let mut output = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${image:") {
        output.push_str(&rest[..start]);
        let after = &rest[start + "${image:".len()..];
        let Some(end) = after.find('}') else {
            output.push_str(&rest[start..]);
            return Ok(output);
        };
        let name = &after[..end];
        match prepared.iter().find(|candidate| candidate.name == name) {
            Some(dependency) => output.push_str(&dependency.tag),
            None => {
                return Err(Error::config(
                    file,
                    None,
                    format!("images.{image}.build_args uses ${{image:{name}}}, but `{name}` is not built before it"),
                    format!("add `depends_on: [{name}]` to images.{image}"),
                ))
            }
        }
        rest = &after[end + 1..];
    }
    output.push_str(rest);
    Ok(output)
}

async fn run_prebuild(name: &str, image: &ImageConfig, ohdev_root: &Path, reporter: &Reporter) -> Result<(), Error> {
    let label = format!("prebuild for image {name}: {}", image.prebuild.join(" "));
    reporter.emit(Event::step(format!("prebuild:{name}"), StepState::Started, &label, None));
    let program = find_program(image).map_err(|_| Error::Input {
        message: format!("images.{name}.prebuild runs `{}`, which is not on PATH", image.prebuild[0]),
        fix: format!("install `{}` or change the prebuild command", image.prebuild[0]),
    })?;
    let output = Invocation::new(program, &image.prebuild[0])
        .args(image.prebuild[1..].iter().cloned())
        .env("OHDEV_ROOT", ohdev_root.display().to_string())
        .current_dir(&image.context)
        .timeout(Duration::from_secs(1800))
        .run()
        .await;
    match output {
        Ok(_) => {
            reporter.emit(Event::step(format!("prebuild:{name}"), StepState::Done, &label, None));
            Ok(())
        }
        Err(error) => {
            reporter.emit(Event::step(format!("prebuild:{name}"), StepState::Failed, &label, None));
            Err(Error::work(format!("the prebuild command of image {name} failed: {error}"), Some(format!("fix it, then `ohdev build {name}`"))))
        }
    }
}

/// Prepare (prebuild, walk, digest) and build the named images: the image phase of `up`,
/// `rebuild` and the watch loop.
pub async fn prepare_and_build(
    config: &Config,
    names: &[String],
    state_dir: &Path,
    docker: &Docker,
    buildkit: bool,
    force: bool,
    reporter: &Reporter,
) -> Result<Vec<BuildResult>, Error> {
    let prepared = prepare(config, names, state_dir, reporter).await?;
    let builder = choose_builder(buildkit, reporter);
    Ok(build_all(docker, &prepared, builder, force, reporter).await)
}

/// Which builder to use: BuildKit when the daemon supports it, unless OHDEV_BUILDER=classic.
pub fn choose_builder(buildkit_supported: bool, reporter: &Reporter) -> Builder {
    let forced = std::env::var("OHDEV_BUILDER").ok();
    match forced.as_deref() {
        Some("classic") => Builder::Classic,
        Some("buildkit") => Builder::BuildKit,
        _ if buildkit_supported => Builder::BuildKit,
        _ => {
            reporter.emit(Event::warn("this Docker daemon does not support BuildKit: building with the classic builder (every stage is built)", None));
            Builder::Classic
        }
    }
}

/// Build every prepared image whose tag Docker does not have yet (all of them with `force`).
pub async fn build_all(docker: &Docker, prepared: &[PreparedImage], builder: Builder, force: bool, reporter: &Reporter) -> Vec<BuildResult> {
    let mut results: Vec<BuildResult> = Vec::new();
    let mut remaining: Vec<&PreparedImage> = prepared.iter().collect();
    while !remaining.is_empty() {
        let done: BTreeSet<String> = results.iter().map(|result| result.name.clone()).collect();
        let (ready, waiting): (Vec<&PreparedImage>, Vec<&PreparedImage>) = remaining
            .into_iter()
            .partition(|image| image.config.depends_on.iter().all(|dependency| done.contains(dependency) || !prepared.iter().any(|p| &p.name == dependency)));
        remaining = waiting;
        if ready.is_empty() {
            break;
        }
        let owned: Vec<PreparedImage> = ready.into_iter().cloned().collect();
        let wave: Vec<BuildResult> = futures_util::stream::iter(owned.into_iter().map(|image: PreparedImage| {
            let failed_dependency = image
                .config
                .depends_on
                .iter()
                .find(|dependency| results.iter().any(|result| &result.name == *dependency && result.image_id().is_none()))
                .cloned();
            let docker = docker.clone();
            let reporter = reporter.clone();
            async move {
                if let Some(dependency) = failed_dependency {
                    reporter.emit(Event::Image {
                        image: image.name.clone(),
                        tag: image.tag.clone(),
                        state: ImageState::Skipped,
                        detail: Some(format!("it depends on {dependency}, which failed")),
                    });
                    return result(&image, Outcome::Skipped);
                }
                build_one(&docker, &image, builder, force, &reporter).await
            }
        }))
        .buffer_unordered(CONCURRENT_BUILDS)
        .collect()
        .await;
        results.extend(wave);
    }
    // Keep the caller's order.
    results.sort_by_key(|result| prepared.iter().position(|image| image.name == result.name));
    results
}

fn result(image: &PreparedImage, outcome: Outcome) -> BuildResult {
    BuildResult {
        name: image.name.clone(),
        tag: image.tag.clone(),
        digest: image.digest.clone(),
        outcome,
    }
}

async fn build_one(docker: &Docker, image: &PreparedImage, builder: Builder, force: bool, reporter: &Reporter) -> BuildResult {
    if !force {
        if let Ok(existing) = docker.inspect_image(&image.tag).await {
            reporter.emit(Event::Image {
                image: image.name.clone(),
                tag: image.tag.clone(),
                state: ImageState::UpToDate,
                detail: None,
            });
            return result(image, Outcome::UpToDate { image_id: existing.id.unwrap_or_default() });
        }
    }
    reporter.emit(Event::Image {
        image: image.name.clone(),
        tag: image.tag.clone(),
        state: ImageState::Building,
        detail: Some(format!("{}, {} of context", builder.name(), human_bytes(context_tar::content_bytes(&image.context)))),
    });
    let started = Instant::now();
    let mut outcome = build_with(docker, image, builder, reporter).await;
    if matches!(outcome, Err(BuildError::Stalled)) {
        reporter.emit(Event::warn(
            format!("BuildKit made no progress building {} for {}s; retrying with the classic builder", image.name, builder::BUILDKIT_STALL.as_secs()),
            Some("set OHDEV_BUILDER=classic to skip BuildKit next time".to_string()),
        ));
        outcome = build_with(docker, image, Builder::Classic, reporter).await;
    }
    match outcome {
        Ok(image_id) => {
            reporter.emit(Event::Image {
                image: image.name.clone(),
                tag: image.tag.clone(),
                state: ImageState::Built,
                detail: Some(format!("{:.1}s", started.elapsed().as_secs_f64())),
            });
            result(image, Outcome::Built { image_id })
        }
        Err(error) => {
            let (step, message, output) = match error {
                BuildError::Step { step, message, output } => (step, message, output),
                other => ("build".to_string(), other.to_string(), Vec::new()),
            };
            reporter.emit(Event::BuildFailed {
                image: image.name.clone(),
                step,
                message,
                output,
            });
            reporter.emit(Event::Image {
                image: image.name.clone(),
                tag: image.tag.clone(),
                state: ImageState::Failed,
                detail: None,
            });
            result(image, Outcome::Failed)
        }
    }
}

async fn build_with(docker: &Docker, image: &PreparedImage, builder: Builder, reporter: &Reporter) -> Result<String, BuildError> {
    let mut labels = BTreeMap::new();
    labels.insert(MANAGED_BY_LABEL.to_string(), MANAGED_BY_VALUE.to_string());
    labels.insert(DIGEST_LABEL.to_string(), image.digest.clone());
    labels.insert(IMAGE_LABEL.to_string(), image.name.clone());
    let request = BuildRequest {
        tag: image.tag.clone(),
        dockerfile: image.context.dockerfile.clone(),
        target: image.config.target.clone(),
        build_args: image.build_args.clone(),
        platform: image.config.platform.clone(),
        labels,
    };
    let (body, tar_failure, sent) = super::stream::context_body(image.context.clone());
    let id = format!("image:{}", image.name);
    // Until the daemon has the whole context, the image's bar shows how much of it was sent.
    let total = context_tar::content_bytes(&image.context);
    let context_reporter = reporter.clone();
    let context_id = id.clone();
    let sending = tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            let now = sent.load(std::sync::atomic::Ordering::Relaxed);
            context_reporter.emit(Event::Progress {
                id: context_id.clone(),
                current: now.min(total),
                total: total.max(1),
                text: format!("sending build context: {} of {}", human_bytes(now.min(total)), human_bytes(total)),
            });
            if now >= total {
                break;
            }
        }
    });
    let progress_reporter = reporter.clone();
    let mut on_progress = move |progress: builder::BuildProgress| {
        progress_reporter.emit(Event::Progress {
            id: id.clone(),
            current: progress.step,
            total: progress.steps.max(progress.step),
            text: format!("step {}/{}: {}", progress.step, progress.steps.max(progress.step), progress.text),
        });
    };
    let outcome = builder::build(docker, &request, builder, body, &mut on_progress).await;
    sending.abort();
    let tar_failure = tar_failure.lock().ok().and_then(|slot| slot.clone());
    match (outcome, tar_failure) {
        (Err(_), Some(cause)) => Err(BuildError::Engine(format!("sending the build context failed: {cause}"))),
        (outcome, _) => outcome,
    }
}

/// The image phase failed when any image did: name them and what to do.
pub fn fail_if_any_failed(results: &[BuildResult]) -> Result<(), Error> {
    let failed: Vec<&str> = results.iter().filter(|result| result.outcome == Outcome::Failed).map(|result| result.name.as_str()).collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Error::work(
        format!("image(s) failed to build: {}; nothing that depends on them was loaded", failed.join(", ")),
        Some(format!("fix the failing step shown above, then `ohdev build {}`", failed.join(" "))),
    ))
}

pub fn human_bytes(bytes: u64) -> String {
    match bytes {
        0..=9_999 => format!("{bytes} B"),
        10_000..=9_999_999 => format!("{:.1} kB", bytes as f64 / 1000.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_000_000.0),
    }
}

/// The path of the digest cache for an image.
pub fn cache_path(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join("cache").join(format!("{name}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_state_dir_is_found_only_inside_the_context() {
        let root = tempfile::tempdir().unwrap();
        let project = root.path().join("project");
        std::fs::create_dir_all(project.join("sub")).unwrap();
        let state = crate::state::state_dir(&project);
        assert_eq!(state_dir_in_context(&project, &state).as_deref(), Some(".ohdev"));
        assert_eq!(state_dir_in_context(root.path(), &state).as_deref(), Some("project/.ohdev"));
        assert_eq!(state_dir_in_context(&project.join("sub"), &state), None);
    }

    #[test]
    fn excluding_the_state_dir_drops_it_from_walk_and_digest() {
        let project = tempfile::tempdir().unwrap();
        std::fs::write(project.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::create_dir_all(project.path().join(".ohdev/cache")).unwrap();
        std::fs::write(project.path().join(".ohdev/cache/app.json"), "{}").unwrap();
        std::fs::write(project.path().join(".ohdevx"), "kept").unwrap();
        let mut files = context::walk(project.path(), Path::new("Dockerfile")).unwrap();
        files.exclude_subtree(".ohdev");
        assert_eq!(files.paths(), [".ohdevx", "Dockerfile"]);
    }
}
