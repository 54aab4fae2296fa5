//! Everything a mutating command needs, found and validated once: the project, the tools, the
//! Docker connection and the state lock.

use std::time::Duration;

use bollard::Docker;

use crate::config::kind_cluster::KindCluster;
use crate::config::Config;
use crate::error::Error;
use crate::state::StateLock;
use crate::tools::kind::Kind;
use crate::tools::kubectl::Kubectl;
use crate::tools::{docker, Tool};
use crate::ui::Reporter;

pub struct Session {
    pub config: Config,
    pub kind_cluster: KindCluster,
    pub kind: Kind,
    pub kubectl: Kubectl,
    pub docker: Docker,
    pub buildkit: bool,
    pub lock: StateLock,
    pub reporter: Reporter,
}

impl Session {
    pub async fn open(config: Config, kind_cluster: KindCluster, reporter: Reporter) -> Result<Session, Error> {
        let kind = Kind::locate()?;
        let kubectl = Kubectl::locate(&config.cluster.context())?;
        Tool::Docker.locate()?;
        let docker = docker::connect().await?;
        let engine = docker::engine_info(&docker).await?;
        let lock = StateLock::acquire(&config.root, Duration::from_secs(3))?;
        Ok(Session {
            buildkit: docker::supports_buildkit(&engine),
            config,
            kind_cluster,
            kind,
            kubectl,
            docker,
            lock,
            reporter,
        })
    }

    /// The cluster must already exist for rebuild/watch/logs.
    pub async fn require_cluster(&self) -> Result<(), Error> {
        let name = &self.config.cluster.name;
        if self.kind.clusters().await?.contains(name) {
            Ok(())
        } else {
            Err(Error::Input {
                message: format!("kind cluster \"{name}\" does not exist"),
                fix: "run `ohdev up` first".to_string(),
            })
        }
    }
}
