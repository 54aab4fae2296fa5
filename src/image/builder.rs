//! One image build through the Docker Engine API: BuildKit through a bollard session when the
//! daemon supports it, else the classic builder. The context is streamed as a tar straight from the
//! walk (no temp copy of the tree). Progress and failures become plain data for the caller.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use bollard::models::BuildInfoAux;
use bollard::query_parameters::{BuildImageOptionsBuilder, BuilderVersion};
use bollard::Docker;
use futures_util::StreamExt;

/// Output lines kept per step for the failure screen.
pub const FAILURE_LINES: usize = 30;
/// A BuildKit build that reports nothing for this long falls back to the classic builder.
pub const BUILDKIT_STALL: Duration = Duration::from_secs(90);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builder {
    BuildKit,
    Classic,
}

impl Builder {
    pub fn name(self) -> &'static str {
        match self {
            Builder::BuildKit => "BuildKit",
            Builder::Classic => "classic builder",
        }
    }
}

pub struct BuildRequest {
    pub tag: String,
    /// Relative to the context root, `/`-separated.
    pub dockerfile: String,
    pub target: Option<String>,
    pub build_args: BTreeMap<String, String>,
    pub platform: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// What the build is doing now, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildProgress {
    pub step: u64,
    pub steps: u64,
    pub text: String,
}

#[derive(Debug, Clone)]
pub enum BuildError {
    /// A Dockerfile step failed: its name and its last output lines.
    Step { step: String, message: String, output: Vec<String> },
    /// BuildKit stopped reporting: the caller may retry with the classic builder.
    Stalled,
    /// The daemon or the connection failed.
    Engine(String),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Step { step, message, .. } => write!(formatter, "step `{step}` failed: {message}"),
            BuildError::Stalled => write!(formatter, "BuildKit made no progress for {}s", BUILDKIT_STALL.as_secs()),
            BuildError::Engine(message) => write!(formatter, "{message}"),
        }
    }
}

/// Build `request` from the tar chunks in `context`; returns the image ID.
pub async fn build(
    docker: &Docker,
    request: &BuildRequest,
    builder: Builder,
    context: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
    on_progress: &mut (dyn FnMut(BuildProgress) + Send),
) -> Result<String, BuildError> {
    let build_args: HashMap<String, String> = request.build_args.clone().into_iter().collect();
    let labels: HashMap<String, String> = request.labels.clone().into_iter().collect();
    let mut options = BuildImageOptionsBuilder::default()
        .t(&request.tag)
        .dockerfile(&request.dockerfile)
        .buildargs(&build_args)
        .labels(&labels)
        .rm(true)
        .forcerm(true);
    if let Some(target) = &request.target {
        options = options.target(target);
    }
    if let Some(platform) = &request.platform {
        options = options.platform(platform);
    }
    let session = format!(
        "ohdev-{}-{}",
        std::process::id(),
        blake3::hash(request.tag.as_bytes()).to_hex().get(..12).unwrap_or("0")
    );
    options = match builder {
        Builder::BuildKit => options.version(BuilderVersion::BuilderBuildKit).session(&session),
        Builder::Classic => options.version(BuilderVersion::BuilderV1),
    };
    let mut stream = docker.build_image(options.build(), None, Some(bollard::body_try_stream(context)));
    let mut tracker = Tracker::default();
    loop {
        let next = match builder {
            Builder::BuildKit => match tokio::time::timeout(BUILDKIT_STALL, stream.next()).await {
                Ok(next) => next,
                Err(_) => return Err(BuildError::Stalled),
            },
            Builder::Classic => stream.next().await,
        };
        let Some(item) = next else { break };
        let info = match item {
            Ok(info) => info,
            Err(bollard::errors::Error::DockerStreamError { error }) => return Err(tracker.failure(error)),
            Err(error) => {
                let cause = crate::tools::docker::describe(&error);
                return Err(
                    tracker.engine_failure(format!("the Docker daemon stopped answering during the build: {cause}"))
                );
            }
        };
        if let Some(detail) = info.error_detail.as_ref().and_then(|detail| detail.message.clone()) {
            return Err(tracker.failure(detail));
        }
        if let Some(text) = &info.stream {
            if let Some(progress) = tracker.classic_line(text) {
                on_progress(progress);
            }
        }
        if let Some(BuildInfoAux::BuildKit(status)) = &info.aux {
            for vertex in &status.vertexes {
                if let Some(progress) = tracker.vertex(
                    &vertex.digest,
                    &vertex.name,
                    vertex.started.is_some(),
                    vertex.completed.is_some(),
                    vertex.cached,
                ) {
                    on_progress(progress);
                }
                if !vertex.error.is_empty() {
                    tracker.failed_vertex = Some((vertex.digest.clone(), vertex.error.clone()));
                }
            }
            for log in &status.logs {
                tracker.log(&log.vertex, &String::from_utf8_lossy(&log.msg));
            }
        }
    }
    if let Some((vertex, error)) = tracker.failed_vertex.clone() {
        let _ = vertex;
        return Err(tracker.failure(error));
    }
    let image = docker.inspect_image(&request.tag).await.map_err(|error| {
        BuildError::Engine(format!("the build finished but {} is not in Docker: {error}", request.tag))
    })?;
    image.id.ok_or_else(|| BuildError::Engine(format!("Docker reports no ID for {}", request.tag)))
}

/// Follows steps and keeps recent output per step, for both builders.
#[derive(Default)]
struct Tracker {
    /// BuildKit vertex digest → (name, done).
    vertexes: BTreeMap<String, (String, bool)>,
    order: Vec<String>,
    output: HashMap<String, VecDeque<String>>,
    current: String,
    classic_steps: (u64, u64),
    failed_vertex: Option<(String, String)>,
}

impl Tracker {
    fn vertex(
        &mut self,
        digest: &str,
        name: &str,
        started: bool,
        completed: bool,
        _cached: bool,
    ) -> Option<BuildProgress> {
        if !self.vertexes.contains_key(digest) {
            self.order.push(digest.to_string());
        }
        self.vertexes.insert(digest.to_string(), (name.to_string(), completed));
        if started && !completed {
            self.current = digest.to_string();
        }
        let done = self.vertexes.values().filter(|(_, done)| *done).count() as u64;
        Some(BuildProgress { step: done, steps: self.vertexes.len() as u64, text: name.to_string() })
    }

    fn log(&mut self, vertex: &str, text: &str) {
        let lines = self.output.entry(vertex.to_string()).or_default();
        for line in text.lines() {
            lines.push_back(line.to_string());
            if lines.len() > FAILURE_LINES {
                lines.pop_front();
            }
        }
    }

    /// Classic output: "Step 2/5 : RUN make" starts a step; everything else is its output.
    fn classic_line(&mut self, text: &str) -> Option<BuildProgress> {
        let mut progress = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("Step ") {
                if let Some((counts, instruction)) = rest.split_once(" : ") {
                    if let Some((step, steps)) = counts.split_once('/') {
                        self.classic_steps = (step.parse().unwrap_or(0), steps.parse().unwrap_or(0));
                        self.current = instruction.to_string();
                        self.vertexes.insert(instruction.to_string(), (instruction.to_string(), false));
                        progress = Some(BuildProgress {
                            step: self.classic_steps.0.saturating_sub(1),
                            steps: self.classic_steps.1,
                            text: instruction.to_string(),
                        });
                        continue;
                    }
                }
            }
            let key = self.current.clone();
            self.log(&key, line);
        }
        progress
    }

    fn failure(&self, message: String) -> BuildError {
        let key = self.failed_vertex.as_ref().map(|(vertex, _)| vertex.clone()).unwrap_or_else(|| self.current.clone());
        let step = self.vertexes.get(&key).map(|(name, _)| name.clone()).unwrap_or_else(|| key.clone());
        let output = self.output.get(&key).map(|lines| lines.iter().cloned().collect()).unwrap_or_default();
        BuildError::Step {
            step: if step.is_empty() { "build".to_string() } else { step },
            message: message.trim().to_string(),
            output,
        }
    }

    fn engine_failure(&self, message: String) -> BuildError {
        if self.current.is_empty() {
            BuildError::Engine(message)
        } else {
            self.failure(message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_steps_and_output() {
        let mut tracker = Tracker::default();
        let progress = tracker.classic_line("Step 2/3 : RUN make\n").unwrap();
        assert_eq!(progress, BuildProgress { step: 1, steps: 3, text: "RUN make".into() });
        assert!(tracker.classic_line(" ---> Running in abc\ncc: error\n").is_none());
        match tracker.failure("The command '/bin/sh -c make' returned a non-zero code: 2".into()) {
            BuildError::Step { step, output, .. } => {
                assert_eq!(step, "RUN make");
                assert_eq!(output, [" ---> Running in abc", "cc: error"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keeps_only_the_last_lines() {
        let mut tracker = Tracker::default();
        let text: String = (0..100).map(|index| format!("line {index}\n")).collect();
        tracker.log("v", &text);
        assert_eq!(tracker.output["v"].len(), FAILURE_LINES);
        assert_eq!(tracker.output["v"].back().unwrap(), "line 99");
    }
}
