//! One function per subcommand: resolve input (validating everything first), then drive the engine.

mod build;
mod doctor;
mod down;
mod logs;
mod plan;
mod rebuild;
mod status;
mod up;

use std::path::PathBuf;

use clap::CommandFactory;

use crate::cli::{Cli, Command};
use crate::config::kind_cluster::{self, KindCluster};
use crate::config::{self, Config};
use crate::error::Error;
use crate::ui::Reporter;

/// Returns the exit code for commands that finish without an error but report failure (doctor).
pub async fn run(cli: Cli, reporter: Reporter) -> anyhow::Result<u8> {
    let project = ProjectLocator {
        project_dir: cli.project_dir.clone(),
        config: cli.config.clone(),
    };
    match cli.command {
        Command::Up(args) => {
            let loaded = project.load()?;
            up::run(&loaded, &args, &reporter).await?;
            if args.watch {
                // `up` released its lock; the watch session takes its own.
                watch(loaded, reporter.clone()).await?;
            }
            Ok(0)
        }
        Command::Build(args) => build::run(&project.load_config()?, &args, &reporter).await.map(|_| 0),
        Command::Rebuild(args) => rebuild::run(project.load()?, &args, reporter.clone()).await.map(|_| 0),
        Command::Watch => watch(project.load()?, reporter.clone()).await.map(|_| 0),
        Command::Plan => plan::run(&project.load_config()?, &reporter).await.map(|_| 0),
        Command::Down(args) => down::run(&project.load()?, &args, &reporter).await.map(|_| 0),
        Command::Status => status::run(&project.load()?, &reporter).await.map(|_| 0),
        Command::Doctor => Ok(doctor::run(&project, &reporter).await),
        Command::Logs(args) => logs::run(&project.load_config()?, &args, &reporter).await.map(|_| 0),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "ohdev", &mut std::io::stdout());
            Ok(0)
        }
    }
}

async fn watch(project: Project, reporter: Reporter) -> anyhow::Result<()> {
    let session = crate::session::Session::open(project.config, project.kind_cluster, reporter).await?;
    session.require_cluster().await?;
    crate::watch::run(session).await?;
    Ok(())
}

/// Where the project is: `--config FILE`, else ohdev.yaml found upwards from `-C DIR` or the cwd.
pub struct ProjectLocator {
    project_dir: Option<PathBuf>,
    config: Option<PathBuf>,
}

/// A validated project: ohdev.yaml and the kind cluster config it names.
pub struct Project {
    pub config: Config,
    pub kind_cluster: KindCluster,
}

impl ProjectLocator {
    fn start_dir(&self) -> Result<PathBuf, Error> {
        let cwd = std::env::current_dir().map_err(|error| Error::Input {
            message: format!("cannot read the current directory: {error}"),
            fix: "cd into the project and run ohdev again".into(),
        })?;
        Ok(match &self.project_dir {
            Some(dir) if dir.is_absolute() => dir.clone(),
            Some(dir) => cwd.join(dir),
            None => cwd,
        })
    }

    pub fn config_file(&self) -> Result<PathBuf, Error> {
        let start = self.start_dir()?;
        if !start.is_dir() {
            return Err(Error::Input {
                message: format!("-C {}: no such directory", start.display()),
                fix: "pass the directory that holds ohdev.yaml".into(),
            });
        }
        match &self.config {
            Some(file) => Ok(if file.is_absolute() { file.clone() } else { start.join(file) }),
            None => config::find(&start),
        }
    }

    pub fn load_config(&self) -> Result<Config, Error> {
        config::load(&self.config_file()?)
    }

    /// Load and validate everything a command needs before it changes anything.
    pub fn load(&self) -> Result<Project, Error> {
        let config = self.load_config()?;
        let kind_cluster = kind_cluster::load(&config.cluster.config_path)?;
        if let Some(name) = &kind_cluster.name {
            if name != &config.cluster.name {
                // kind's --name wins over the file's `name:`; say so instead of silently diverging.
                eprintln!(
                    "note: {} names the cluster \"{name}\", ohdev.yaml names it \"{}\"; ohdev uses \"{}\"",
                    kind_cluster.path.display(),
                    config.cluster.name,
                    config.cluster.name
                );
            }
        }
        Ok(Project { config, kind_cluster })
    }
}
