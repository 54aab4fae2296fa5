//! Command-line surface (clap derive): flags and subcommands only, no logic.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::ui::ColorChoice;

const EXAMPLES: &str = "\
Examples:
  ohdev up                    create or reuse the kind cluster and bring the environment up
  ohdev -C examples/demo up   the bundled demo app (no OpenHands checkout needed)
  ohdev status                cluster, nodes and what ohdev knows about them
  ohdev doctor                check kind, kubectl, Docker, ports, inotify and disk
  ohdev --json up             newline-delimited JSON events instead of text";

#[derive(Debug, Parser)]
#[command(
    name = "ohdev",
    version,
    about = "A local Kubernetes development loop for OpenHands on kind",
    long_about = "ohdev turns a fresh clone into a running OpenHands environment on a local kind cluster \
                  and keeps it current while you edit code. It drives kind, kubectl and the Docker Engine.",
    after_help = EXAMPLES,
    propagate_version = true
)]
pub struct Cli {
    /// Print newline-delimited JSON events (one object per line with `type` and `ts`).
    #[arg(long, global = true)]
    pub json: bool,

    /// When to use colours (NO_COLOR in the environment turns them off for `auto`).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Run as if started in DIR.
    #[arg(short = 'C', long = "project-dir", global = true, value_name = "DIR")]
    pub project_dir: Option<PathBuf>,

    /// Use this ohdev.yaml instead of searching upwards for one.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Work on this `targets:` entry of ohdev.yaml (another kubeconfig context) instead of the kind cluster.
    #[arg(long, global = true, value_name = "NAME", env = "OHDEV_TARGET")]
    pub target: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create (or reuse) the kind cluster and bring the environment up.
    #[command(
        after_help = "Examples:\n  ohdev up\n  ohdev up --watch           dev mode (ohdev.yaml `dev:`), then watch: edits sync or rebuild\n  ohdev up --watch --no-dev  production manifests, then watch: edits rebuild\n  ohdev up --recreate        delete and recreate the cluster after editing kind/cluster.yaml\n  ohdev up app               only image app, the objects that run it and what they need\n  ohdev up Deployment/web    only that workload and what it needs (namespace, config, images…)\n  ohdev -C examples/demo up  the bundled demo app"
    )]
    Up(UpArgs),

    /// Build images (only those whose content changed) and print their tags.
    #[command(
        after_help = "Examples:\n  ohdev build               every image in ohdev.yaml\n  ohdev build app           one image (and the images it depends on)\n  ohdev build --force app   rebuild even if the tag exists\n  OHDEV_BUILDER=classic ohdev build   use the classic builder instead of BuildKit"
    )]
    Build(BuildArgs),

    /// Rebuild what changed, load it, re-apply only the objects that changed, wait for the rollout.
    #[command(
        after_help = "Examples:\n  ohdev rebuild             every image whose sources changed\n  ohdev rebuild app         one image (and what it depends on), re-applying only the objects that run it\n  ohdev rebuild Deployment/web   the images that workload runs, and the workload\n  ohdev rebuild --force app rebuild even when nothing changed"
    )]
    Rebuild(RebuildArgs),

    /// Watch sources of an environment that is already up: rebuild, live-sync or re-apply on change.
    #[command(
        after_help = "Examples:\n  ohdev watch\n  ohdev watch app       watch and rebuild only image app; re-apply only what it needs\n  ohdev up --watch      bring the environment up first, then watch\n  ohdev --json watch    one event per line (image states, build start times)"
    )]
    Watch(WatchArgs),

    /// Forward local ports to the environment (`ports:` in ohdev.yaml), following pod restarts, until Ctrl-C.
    #[command(
        after_help = "Examples:\n  ohdev forward           every `ports:` entry, on 127.0.0.1\n  ohdev up --watch        forwards too, while it watches\n  ohdev --json forward    one event per state change (starting, forwarding, reconnecting, stopped)"
    )]
    Forward,

    /// Show the order manifests will be applied in, and why (reads only files).
    #[command(
        after_help = "Examples:\n  ohdev plan\n  ohdev plan Deployment/web   only that workload and what it needs\n  ohdev plan --dev    with ohdev.yaml's `dev:` patches, as `ohdev up --watch` deploys\n  ohdev plan --json   one object per line: level, kind, namespace, name, after (and source)"
    )]
    Plan(PlanArgs),

    /// Delete the kind cluster (or, with --keep-cluster, only what ohdev applied).
    #[command(
        after_help = "Examples:\n  ohdev down                  asks before deleting when run in a terminal\n  ohdev down --yes            no question\n  ohdev down --keep-cluster   delete ohdev's objects in reverse dependency order, keep the cluster"
    )]
    Down(DownArgs),

    /// Remove old content tags of the images ohdev built: from Docker, the registry and the kind nodes.
    #[command(
        long_about = "Every rebuild leaves a content tag behind: an image in Docker, a tag in the registry and an image on each kind node. \
                      gc keeps the newest N tags of each image ohdev built (found by its labels, never an image ohdev did not build), \
                      the tag ohdev last built as current and every tag a pod of the cluster uses, and removes the rest. \
                      It also runs by itself after a successful rollout in `ohdev rebuild` and `ohdev watch`, at most once an hour.",
        after_help = "Examples:\n  ohdev gc                  keep gc.keep (default 3) tags of each image\n  ohdev gc --dry-run        print what would be removed, change nothing\n  ohdev gc --keep 1         keep only the newest tag (and any in use)"
    )]
    Gc(GcArgs),

    /// Show the cluster, its nodes, and whether its config drifted.
    #[command(after_help = "Examples:\n  ohdev status\n  ohdev status --json | jq .")]
    Status,

    /// Check prerequisites: tools and versions, Docker, BuildKit, ports, inotify, disk.
    #[command(after_help = "Examples:\n  ohdev doctor\n  ohdev doctor --json   one JSON object per check")]
    Doctor,

    /// Stream the logs of the environment's pods: one line per log line, a colour per pod.
    #[command(
        after_help = "Examples:\n  ohdev logs                  all pods ohdev deployed (follows on a terminal)\n  ohdev logs app              pods running the image ohdev.local/app\n  ohdev logs Deployment/web   the pods of one workload (or just: ohdev logs web)\n  ohdev logs -f --since 10m   follow from ten minutes back; new pods join in\n  ohdev logs --no-follow --tail 100 -c main --grep ERROR\n  ohdev logs --json | jq -r 'select(.type == \"log\") | .line'"
    )]
    Logs(LogsArgs),

    /// Print shell completions.
    #[command(
        after_help = "Examples:\n  ohdev completions bash > ~/.local/share/bash-completion/completions/ohdev\n  ohdev completions zsh > \"${fpath[1]}/_ohdev\""
    )]
    Completions {
        /// The shell to generate completions for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `NAME…`: a part of the environment. An image of ohdev.yaml, a workload (`Deployment/web`,
/// `Deployment/NAMESPACE/web`, or a bare name only one workload has) or any object as `Kind/name`;
/// with what it needs. None: everything.
#[derive(Debug, Args)]
pub struct NamesArgs {
    /// Images or workloads (`app`, `Deployment/web`), with what they depend on (default: everything).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
}

/// `ohdev watch`: the names, and the dashboard.
#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub names: NamesArgs,

    #[command(flatten)]
    pub ui: UiArgs,
}

/// The dashboard served while watching (`ohdev up --watch`, `ohdev watch`).
#[derive(Debug, Clone, Args)]
pub struct UiArgs {
    /// Serve the dashboard on this port of 127.0.0.1 while watching (0: any free port).
    #[arg(long, value_name = "PORT", default_value_t = crate::dashboard::DEFAULT_PORT)]
    pub ui_port: u16,

    /// Do not serve the dashboard (also: OHDEV_NO_UI=1 in the environment).
    #[arg(long)]
    pub no_ui: bool,

    /// Open the dashboard in a browser once it serves ($BROWSER, else xdg-open / open).
    #[arg(long, conflicts_with = "no_ui")]
    pub open: bool,
}

impl UiArgs {
    pub fn options(&self) -> crate::dashboard::Options {
        crate::dashboard::Options { port: self.ui_port, off: self.no_ui, open: self.open }
    }
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Images or workloads (`app`, `Deployment/web`), with what they depend on (default: everything).
    /// Everything else is left as it is.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Delete and recreate the cluster (use after kind/cluster.yaml changed).
    #[arg(long)]
    pub recreate: bool,

    /// Rebuild and reload images even when their tags already exist.
    #[arg(long)]
    pub force: bool,

    /// Delete objects ohdev applied earlier that are no longer in the manifests.
    #[arg(long)]
    pub prune: bool,

    /// When the cluster refuses a change to an immutable field, delete and recreate that object.
    #[arg(long)]
    pub replace_immutable: bool,

    /// How long to wait for everything to become ready (default: deploy.timeout, 5m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub timeout: Option<std::time::Duration>,

    /// After the environment is up, keep watching sources: rebuild, sync or re-apply on change.
    /// Deploys in dev mode unless --no-dev is given.
    #[arg(short, long)]
    pub watch: bool,

    /// Deploy in dev mode: ohdev.yaml's `dev:` patches and sync rules apply (the default with --watch).
    #[arg(long, overrides_with = "no_dev")]
    pub dev: bool,

    /// Deploy the production manifests, also with --watch (changes are then rebuilt, never synced
    /// by `dev:` rules).
    #[arg(long, overrides_with = "dev")]
    pub no_dev: bool,

    #[command(flatten)]
    pub ui: UiArgs,
}

fn parse_duration_arg(text: &str) -> Result<std::time::Duration, String> {
    match crate::config::parse_duration(text) {
        None => Err(format!("`{text}` is not a duration: write e.g. 90s, 5m or 1h30m")),
        Some(duration) if duration.is_zero() => {
            Err(format!("`{text}` leaves no time to wait: write e.g. 90s, 5m or 1h30m"))
        }
        Some(duration) => Ok(duration),
    }
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Images or workloads (`app`, `Deployment/web`), with what they depend on (default: everything).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Plan dev mode: with ohdev.yaml's `dev:` patches (what `ohdev up --watch` deploys).
    #[arg(long)]
    pub dev: bool,
}

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// Images or workloads to rebuild (`app`, `Deployment/web`), with what they depend on
    /// (default: every image).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Rebuild and reload even when nothing changed.
    #[arg(long)]
    pub force: bool,

    /// How long to wait for the rollout (default: deploy.timeout, 5m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub timeout: Option<std::time::Duration>,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Images to build (default: all); their dependencies are built first.
    #[arg(value_name = "IMAGE")]
    pub images: Vec<String>,

    /// Rebuild even when the content-addressed tag already exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// Content tags of each image to keep (default: images.<name>.keep, else gc.keep, else 3).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub keep: Option<u16>,

    /// Print what would be removed and the bytes that would free; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub yes: bool,

    /// Keep the cluster; delete only the objects ohdev applied, in reverse dependency order.
    #[arg(long)]
    pub keep_cluster: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Only these pods: an image of ohdev.yaml (`app`: containers running ohdev.local/app), a
    /// workload (`Deployment/web`, `sts/db`), or a workload or pod name (prefix up to a dash).
    /// Default: every pod labelled app.kubernetes.io/managed-by=ohdev.
    #[arg(value_name = "IMAGE|WORKLOAD")]
    pub targets: Vec<String>,

    /// Keep streaming, including pods that start later (the default when stdout is a terminal).
    #[arg(short, long, overrides_with = "no_follow")]
    pub follow: bool,

    /// Print the logs there are and exit (the default when stdout is not a terminal).
    #[arg(long, overrides_with = "follow")]
    pub no_follow: bool,

    /// Only lines newer than this: 30s, 5m, 1h30m.
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,

    /// Only the last N lines of each container (of the pods running when ohdev logs starts).
    #[arg(long, value_name = "N")]
    pub tail: Option<u64>,

    /// Only containers with this name.
    #[arg(short, long, value_name = "NAME")]
    pub container: Option<String>,

    /// Only lines that contain this text (plain substring, case-sensitive).
    #[arg(long, value_name = "TEXT")]
    pub grep: Option<String>,
}
