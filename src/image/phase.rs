//! The image phase: prepare every image, then build each one whose tag Docker does not have yet, as
//! soon as the images it depends on are built (the shared dependency-graph [`Schedule`]), at most
//! [`CONCURRENT_BUILDS`] at once. A failed image skips everything that depends on it.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use bollard::Docker;
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;

use super::builder::{self, BuildError, BuildRequest, Builder};
use super::context_tar;
use super::prepare::{prepare, PreparedImage};
use super::result::{BuildFailure, BuildResult, Outcome};
use crate::config::Config;
use crate::error::Error;
use crate::events::{millis, Event, ImageState, ProgressUnit};
use crate::names::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use crate::schedule::Schedule;
use crate::ui::Reporter;

pub const DIGEST_LABEL: &str = "dev.ohdev.digest";
pub const IMAGE_LABEL: &str = "dev.ohdev.image";
/// Builds that run at once (2 cores here; BuildKit parallelises inside a build too).
const CONCURRENT_BUILDS: usize = 2;

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

/// Build every prepared image whose tag Docker does not have yet (all of them with `force`), each
/// as soon as the images it depends on are built.
pub async fn build_all(
    docker: &Docker,
    prepared: &[PreparedImage],
    builder: Builder,
    force: bool,
    reporter: &Reporter,
) -> Vec<BuildResult> {
    let position = |name: &String| prepared.iter().position(|image| &image.name == name);
    let mut schedule = Schedule::new(
        prepared.iter().map(|image| image.config.depends_on.iter().filter_map(position).collect()).collect(),
    );
    let mut results: Vec<Option<BuildResult>> = vec![None; prepared.len()];
    let mut running = FuturesUnordered::new();
    loop {
        for (node, dependency) in schedule.skip_blocked() {
            let image = &prepared[node];
            let detail = format!("it depends on {}, which failed", prepared[dependency].name);
            reporter.emit(Event::image(&image.name, &image.tag, ImageState::Skipped, Some(detail)));
            results[node] = Some(result(image, Outcome::Skipped));
        }
        while running.len() < CONCURRENT_BUILDS {
            let Some(node) = schedule.next_ready() else { break };
            running.push(async move { (node, build_one(docker, &prepared[node], builder, force, reporter).await) });
        }
        let Some((node, built)) = running.next().await else { break };
        schedule.finish(node, built.image_id().is_some());
        results[node] = Some(built);
    }
    // The caller's order.
    results.into_iter().flatten().collect()
}

fn result(image: &PreparedImage, outcome: Outcome) -> BuildResult {
    BuildResult { name: image.name.clone(), tag: image.tag.clone(), digest: image.digest.clone(), outcome }
}

async fn build_one(
    docker: &Docker,
    image: &PreparedImage,
    builder: Builder,
    force: bool,
    reporter: &Reporter,
) -> BuildResult {
    if !force {
        if let Ok(existing) = docker.inspect_image(&image.tag).await {
            reporter.emit(Event::image(&image.name, &image.tag, ImageState::UpToDate, None));
            return result(image, Outcome::UpToDate { image_id: existing.id.unwrap_or_default() });
        }
    }
    reporter.emit(Event::Image {
        image: image.name.clone(),
        tag: image.tag.clone(),
        state: ImageState::Building,
        detail: Some(builder.name().to_string()),
        context_bytes: Some(context_tar::content_bytes(&image.context)),
        duration_ms: None,
    });
    let started = Instant::now();
    let mut outcome = build_with(docker, image, builder, reporter).await;
    if matches!(outcome, Err(BuildError::Stalled)) {
        reporter.emit(Event::warn(
            format!(
                "BuildKit made no progress building {} for {}s; retrying with the classic builder",
                image.name,
                builder::BUILDKIT_STALL.as_secs()
            ),
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
                detail: None,
                context_bytes: None,
                duration_ms: Some(millis(started.elapsed())),
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
                step: step.clone(),
                message: message.clone(),
                output: output.clone(),
            });
            reporter.emit(Event::image(&image.name, &image.tag, ImageState::Failed, None));
            result(image, Outcome::Failed(BuildFailure { step, message, output }))
        }
    }
}

async fn build_with(
    docker: &Docker,
    image: &PreparedImage,
    builder: Builder,
    reporter: &Reporter,
) -> Result<String, BuildError> {
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
                unit: ProgressUnit::Bytes,
                text: "sending build context".to_string(),
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
            unit: ProgressUnit::Steps,
            text: progress.text.clone(),
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
