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
    },
    /// Progress of a step that knows how far it is.
    Progress {
        id: String,
        current: u64,
        total: u64,
        text: String,
    },
    /// A line of information, a warning, or an error, with what to do next.
    Message {
        level: Level,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        hint: Option<String>,
    },
    /// The cluster exists but its config file changed since ohdev created it.
    ClusterDrift {
        cluster: String,
        config: String,
        changes: Vec<ConfigChange>,
        hint: String,
    },
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
    Ready {
        urls: Vec<String>,
        next: Vec<String>,
    },
    /// An image changed state: `built`, `up_to_date`, `failed`, `skipped` (a dependency failed),
    /// `loaded`, `already_loaded`.
    Image {
        image: String,
        tag: String,
        state: ImageState,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// A Dockerfile step failed: the step and its last output lines.
    BuildFailed {
        image: String,
        step: String,
        message: String,
        output: Vec<String>,
    },
    /// One line of `ohdev status` about an image.
    ImageStatus {
        image: String,
        tag: Option<String>,
        size_bytes: Option<i64>,
        built: Option<String>,
        loaded_on: Vec<String>,
        current: bool,
    },
    /// Why an object is not ready: one screen (object → pod → container, reason, events, logs, hint).
    Diagnosis {
        object: String,
        reason: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        hint: Option<String>,
        screen: String,
    },
    /// Objects ohdev applied earlier that are no longer in the manifests.
    Orphans {
        objects: Vec<String>,
        pruned: bool,
    },
    /// One line of a container's log (`ohdev logs`); `line` is whole, without its newline.
    Log {
        pod: String,
        container: String,
        namespace: String,
        line: String,
    },
    /// `ohdev logs -f`: a pod joined the stream after it began, or went away.
    LogPod {
        pod: String,
        namespace: String,
        state: LogPodState,
    },
    /// The watch loop's status for one image (or `manifests`).
    WatchStatus {
        image: String,
        state: WatchState,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// `ohdev plan`: every object in apply order. `--json` prints one line per object instead of
    /// one event (`{"level","kind","namespace","name","after"}`), the format scripts read.
    Plan { objects: Vec<PlanEntry> },
    /// `ohdev build`: the tags of the images that are built (printed one per line for scripts).
    Built { tags: Vec<String> },
    /// The command failed; the same text goes to stderr.
    Error {
        message: String,
        exit_code: u8,
    },
}

impl Event {
    pub fn info(message: impl Into<String>) -> Event {
        Event::Message {
            level: Level::Info,
            message: message.into(),
            hint: None,
        }
    }

    pub fn warn(message: impl Into<String>, hint: Option<String>) -> Event {
        Event::Message {
            level: Level::Warn,
            message: message.into(),
            hint,
        }
    }

    pub fn step(id: impl Into<String>, state: StepState, label: impl Into<String>, detail: Option<String>) -> Event {
        Event::Step {
            id: id.into(),
            state,
            label: label.into(),
            detail,
        }
    }
}
