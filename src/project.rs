//! Where the project is and what it says: `--config FILE`, else ohdev.yaml found upwards from `-C DIR`
//! or the current directory (like git), loaded and validated with the kind cluster config it names.
//! The resolved input every command starts from, before any tool is looked for.

use std::path::PathBuf;

use crate::config::kind_cluster::{self, KindCluster};
use crate::config::{self, Config};
use crate::error::Error;
use crate::events::Event;
use crate::ui::Reporter;

pub struct ProjectLocator {
    project_dir: Option<PathBuf>,
    config: Option<PathBuf>,
    /// `--target` / `OHDEV_TARGET`: a `targets:` entry instead of the kind cluster.
    target: Option<String>,
}

/// A validated project: ohdev.yaml and the kind cluster config it names (not read on a remote
/// target: its cluster is not kind's, and a CI checkout for a target needs no kind file).
pub struct Project {
    pub config: Config,
    pub kind_cluster: Option<KindCluster>,
}

impl ProjectLocator {
    pub fn new(project_dir: Option<PathBuf>, config: Option<PathBuf>, target: Option<String>) -> ProjectLocator {
        ProjectLocator { project_dir, config, target }
    }

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
                message: if start.exists() {
                    format!("-C {}: not a directory", start.display())
                } else {
                    format!("-C {}: no such directory", start.display())
                },
                fix: "pass the directory that holds ohdev.yaml (--config FILE names the file itself)".into(),
            });
        }
        match &self.config {
            Some(file) => Ok(if file.is_absolute() { file.clone() } else { start.join(file) }),
            None => config::find(&start),
        }
    }

    /// ohdev.yaml alone (commands that never touch the cluster config: build, plan, logs, doctor).
    /// With `--target`, the target is selected here (and refused when ohdev.yaml does not allow
    /// its context), before any command looks for a tool.
    pub fn load_config(&self) -> Result<Config, Error> {
        config::load(&self.config_file()?)?.select_target(self.target.as_deref())
    }

    /// Load and validate everything a command needs before it changes anything.
    pub fn load(&self, reporter: &Reporter) -> Result<Project, Error> {
        let config = self.load_config()?;
        if config.target.is_some() {
            return Ok(Project { config, kind_cluster: None });
        }
        let kind_cluster = kind_cluster::load(&config.cluster.config_path)?;
        if let Some(name) = kind_cluster.name.as_ref().filter(|name| **name != config.cluster.name) {
            // kind's --name wins over the file's `name:`; say so instead of silently diverging.
            reporter.emit(Event::warn(
                format!(
                    "{} names the cluster \"{name}\", ohdev.yaml names it \"{}\"; ohdev uses \"{}\"",
                    kind_cluster.path.display(),
                    config.cluster.name,
                    config.cluster.name
                ),
                None,
            ));
        }
        Ok(Project { config, kind_cluster: Some(kind_cluster) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_dir_or_config_that_cannot_be_used_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ohdev.yaml");
        std::fs::write(&file, "{}\n").unwrap();
        let cases = [
            (Some(dir.path().join("nope")), None, "nope: no such directory"),
            (Some(file.clone()), None, "ohdev.yaml: not a directory"),
        ];
        for (project_dir, config, expected) in cases {
            let error = ProjectLocator::new(project_dir, config, None).config_file().unwrap_err();
            assert_eq!(error.exit_code(), 2, "{error}");
            assert!(error.to_string().contains(expected), "{error}");
        }
        let found = ProjectLocator::new(Some(dir.path().to_path_buf()), None, None).config_file().unwrap();
        assert_eq!(found, file);
    }
}
