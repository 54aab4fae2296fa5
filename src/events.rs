//! Typed events: the engine's only way to tell the user anything.
//!
//! The engine never prints. It emits these; a renderer in `ui/` turns them into a terminal view,
//! plain lines or JSON. Keeping them typed makes `--json` a stable interface (see README "JSON events").

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Started,
    Done,
    Skipped,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageState {
    Building,
    Built,
    UpToDate,
    Failed,
    Skipped,
    Loading,
    Loaded,
    AlreadyLoaded,
    /// Pushing to the registry (only the layers it lacks).
    Pushing,
    Pushed,
    /// The registry already has this tag: nothing was sent.
    AlreadyPushed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogPodState {
    Appeared,
    Gone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchState {
    Idle,
    Building,
    RollingOut,
    Syncing,
    Error,
    Stopped,
}

/// A port-forward's state (`ports:` in ohdev.yaml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForwardState {
    /// Looking for a ready pod and starting `kubectl port-forward`.
    Starting,
    /// kubectl said `Forwarding from 127.0.0.1:<local>`: connections reach the pod.
    Forwarding,
    /// The pod went away or kubectl exited: waiting `backoff_ms`, then trying again.
    Reconnecting,
    /// ohdev stopped it (Ctrl-C, or the command ended).
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgressUnit {
    /// Steps of a build (`text` is the current step).
    Steps,
    /// Bytes sent (`text` says of what).
    Bytes,
    /// Objects ready (`text` says what is awaited).
    Objects,
}

/// Where garbage collection removes a content tag from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GcPlace {
    /// The local Docker engine (every tag of that image ID that is ohdev's).
    Docker,
    /// The registry images are pushed to (the manifest, by digest).
    Registry,
    /// A kind node's containerd (`crictl rmi`).
    Node,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigChange {
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeStatus {
    pub name: String,
    pub role: String,
    pub ready: bool,
    pub version: Option<String>,
}

/// One Kubernetes event, as shown on a diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KubeEvent {
    pub time: String,
    /// `Warning` or `Normal`.
    pub event_type: String,
    pub reason: String,
    /// `Pod/app-6d9f-abcde`.
    pub object: String,
    pub message: String,
    pub count: i64,
}

/// Why an object is not ready, as data: the object → pod → container, the reason, the newest
/// events, the last log lines and what to do. `ui/` turns it into one screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiagnosisReport {
    /// `Deployment openhands/app`.
    pub object: String,
    /// Where a rendered object came from (`kustomize:overlays/dev (document 3, line 12 of its
    /// output)`); absent for objects written in files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    pub pod: Option<String>,
    pub container: Option<String>,
    pub message: String,
    /// Oldest first.
    pub events: Vec<KubeEvent>,
    pub last_log_lines: Vec<String>,
}

/// One object of `ohdev plan`.
#[derive(Debug, Clone, Serialize)]
pub struct PlanEntry {
    pub level: usize,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub after: Vec<PlanDependency>,
    /// How people read the object's name: `Deployment openhands/app`.
    #[serde(skip)]
    pub label: String,
    /// A custom resource whose CRD is not in the set: the cluster must know the kind.
    #[serde(skip)]
    pub crd_not_in_set: bool,
    /// The renderer that printed the object (`kustomize:overlays/dev`, `command:helm`); absent for
    /// objects written in files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// What a planned object waits for, and why.
#[derive(Debug, Clone, Serialize)]
pub struct PlanDependency {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub why: Vec<String>,
    #[serde(skip)]
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A unit of work with a spinner on a TTY (`id` is stable for its Started/Done pair).
    Step {
        id: String,
        state: StepState,
        label: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        /// How long the step took (finished steps that measure it).
        #[serde(skip_serializing_if = "Option::is_none")]
        duration_ms: Option<u64>,
    },
    /// A long step is still running (every 30 s; a terminal shows the elapsed time on its spinner).
    StillRunning { id: String, label: String, elapsed_ms: u64 },
    /// Progress of a step that knows how far it is: `current` of `total` in `unit`s.
    Progress { id: String, current: u64, total: u64, unit: ProgressUnit, text: String },
    /// A line of information, a warning, or an error, with what to do next.
    Message {
        level: Level,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        hint: Option<String>,
    },
    /// The cluster exists but its config file changed since ohdev created it.
    ClusterDrift { cluster: String, config: String, changes: Vec<ConfigChange>, hint: String },
    /// Before the first change to a remote target in a run: which cluster and namespace change.
    RemoteTarget { target: String, context: String, server: String, namespace: String },
    ClusterStatus {
        name: String,
        exists: bool,
        context: String,
        nodes: Vec<NodeStatus>,
        #[serde(skip_serializing_if = "Option::is_none")]
        drift: Option<Vec<ConfigChange>>,
    },
    DoctorCheck {
        check: String,
        status: CheckStatus,
        detail: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        hint: Option<String>,
    },
    /// The environment is up: where to open it and what to do next.
    Ready { urls: Vec<String>, next: Vec<String> },
    /// An image changed state: `built`, `up_to_date`, `failed`, `skipped` (a dependency failed),
    /// `loaded`, `already_loaded`.
    Image {
        image: String,
        tag: String,
        state: ImageState,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        /// `building`: the size of the build context.
        #[serde(skip_serializing_if = "Option::is_none")]
        context_bytes: Option<u64>,
        /// `built`: how long the build took.
        #[serde(skip_serializing_if = "Option::is_none")]
        duration_ms: Option<u64>,
    },
    /// A Dockerfile step failed: the step and its last output lines.
    BuildFailed { image: String, step: String, message: String, output: Vec<String> },
    /// One line of `ohdev status` about an image.
    ImageStatus {
        image: String,
        tag: Option<String>,
        size_bytes: Option<i64>,
        built: Option<String>,
        loaded_on: Vec<String>,
        current: bool,
        /// The reference in the registry in use, when the image is there (no `kind load` then).
        #[serde(skip_serializing_if = "Option::is_none")]
        pushed: Option<String>,
    },
    /// `ohdev status`: the registry images go through (none: `kind load`).
    RegistryStatus {
        /// Where ohdev pushes.
        host: String,
        /// What manifests name (how the nodes reach it).
        runtime_host: String,
        /// The cluster advertised it (KEP-1755); otherwise it is `registry:` in ohdev.yaml.
        advertised: bool,
        answering: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        container: Option<String>,
    },
    /// Why an object is not ready: one screen (object → pod → container, reason, events, logs, hint).
    /// `--json` adds `screen`, the text a person sees.
    Diagnosis(DiagnosisReport),
    /// Objects ohdev applied earlier that are no longer in the manifests.
    Orphans { objects: Vec<String>, pruned: bool },
    /// One line of a container's log (`ohdev logs`); `line` is whole, without its newline.
    Log { pod: String, container: String, namespace: String, line: String },
    /// `ohdev logs -f`: a pod joined the stream after it began, or went away.
    LogPod { pod: String, namespace: String, state: LogPodState },
    /// The watch loop's status for one image (or `manifests`).
    WatchStatus {
        image: String,
        state: WatchState,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// A port-forward changed state. `attempt` counts connections since the last one that lasted;
    /// `backoff_ms` is the wait before the next (reconnecting); `pod` is the pod it forwards to
    /// (forwarding) or forwarded to (reconnecting).
    Forward {
        local: u16,
        target: String,
        namespace: String,
        remote: u16,
        #[serde(skip_serializing_if = "Option::is_none")]
        pod: Option<String>,
        state: ForwardState,
        attempt: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        backoff_ms: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// One line of `ohdev status` about a port-forward: its last recorded state, kept honest (a
    /// forward whose ohdev is gone is `stopped`).
    ForwardStatus {
        local: u16,
        target: String,
        namespace: String,
        remote: u16,
        state: ForwardState,
        #[serde(skip_serializing_if = "Option::is_none")]
        pod: Option<String>,
        /// When it entered this state (RFC 3339).
        #[serde(skip_serializing_if = "Option::is_none")]
        since: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// `ohdev plan`: every object in apply order. `--json` prints one line per object instead of
    /// one event (`{"level","kind","namespace","name","after"}`), the format scripts read.
    Plan { objects: Vec<PlanEntry> },
    /// `ohdev build`: the tags of the images that are built (printed one per line for scripts).
    Built { tags: Vec<String> },
    /// `ohdev gc`: one content tag of an image ohdev built was removed from one place (with
    /// `--dry-run`: would be). `bytes`: what the place reported for it (a node's crictl size, the
    /// registry's blobs only this tag used); Docker's bytes are measured for the whole run.
    GcRemoved {
        image: String,
        tag: String,
        place: GcPlace,
        /// The reference removed (`ohdev.local/app:…`, `localhost:5001/app:…`).
        reference: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        node: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        bytes: Option<u64>,
        dry_run: bool,
    },
    /// `ohdev gc` finished: how many content tags it removed and kept, and the bytes freed in each
    /// place (Docker: layer storage before − after; with `--dry-run`, what only those images hold).
    GcDone {
        dry_run: bool,
        removed: usize,
        kept: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        docker_bytes: Option<u64>,
        registry_bytes: u64,
        node_bytes: u64,
    },
    /// The command failed; the same text goes to stderr.
    Error { message: String, exit_code: u8 },
}

impl Event {
    pub fn info(message: impl Into<String>) -> Event {
        Event::Message { level: Level::Info, message: message.into(), hint: None }
    }

    pub fn warn(message: impl Into<String>, hint: Option<String>) -> Event {
        Event::Message { level: Level::Warn, message: message.into(), hint }
    }

    pub fn step(id: impl Into<String>, state: StepState, label: impl Into<String>, detail: Option<String>) -> Event {
        Event::Step { id: id.into(), state, label: label.into(), detail, duration_ms: None }
    }

    /// A finished step and how long it took.
    pub fn step_done(
        id: impl Into<String>,
        label: impl Into<String>,
        detail: Option<String>,
        duration: std::time::Duration,
    ) -> Event {
        Event::Step {
            id: id.into(),
            state: StepState::Done,
            label: label.into(),
            detail,
            duration_ms: Some(millis(duration)),
        }
    }

    /// An image changed state (no measurements).
    pub fn image(image: impl Into<String>, tag: impl Into<String>, state: ImageState, detail: Option<String>) -> Event {
        Event::Image { image: image.into(), tag: tag.into(), state, detail, context_bytes: None, duration_ms: None }
    }
}

pub fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
