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

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create (or reuse) the kind cluster and bring the environment up.
    #[command(after_help = "Examples:\n  ohdev up\n  ohdev up --recreate        delete and recreate the cluster after editing kind/cluster.yaml\n  ohdev -C examples/demo up  the bundled demo app")]
    Up(UpArgs),

    /// Build images (only those whose content changed) and print their tags.
    #[command(after_help = "Examples:\n  ohdev build               every image in ohdev.yaml\n  ohdev build app           one image (and the images it depends on)\n  ohdev build --force app   rebuild even if the tag exists\n  OHDEV_BUILDER=classic ohdev build   use the classic builder instead of BuildKit")]
    Build(BuildArgs),

    /// Delete the kind cluster.
    #[command(after_help = "Examples:\n  ohdev down          asks before deleting when run in a terminal\n  ohdev down --yes    no question")]
    Down(DownArgs),

    /// Show the cluster, its nodes, and whether its config drifted.
    #[command(after_help = "Examples:\n  ohdev status\n  ohdev status --json | jq .")]
    Status,

    /// Check prerequisites: tools and versions, Docker, BuildKit, ports, inotify, disk.
    #[command(after_help = "Examples:\n  ohdev doctor\n  ohdev doctor --json   one JSON object per check")]
    Doctor,

    /// Print shell completions.
    #[command(after_help = "Examples:\n  ohdev completions bash > ~/.local/share/bash-completion/completions/ohdev\n  ohdev completions zsh > \"${fpath[1]}/_ohdev\"")]
    Completions {
        /// The shell to generate completions for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Delete and recreate the cluster (use after kind/cluster.yaml changed).
    #[arg(long)]
    pub recreate: bool,

    /// Rebuild and reload images even when their tags already exist.
    #[arg(long)]
    pub force: bool,
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
pub struct DownArgs {
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub yes: bool,
}
