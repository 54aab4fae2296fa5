//! Everything an operation needs, found and validated once: the project, the tools, the Docker
//! connection, the state lock and the cancellation token. Every command that touches a tool opens
//! one, declaring what it [`Needs`]; an operation reads only what its command declared.

use std::time::Duration;

use bollard::Docker;
use tokio_util::sync::CancellationToken;

use crate::config::kind_cluster::KindCluster;
use crate::config::Config;
use crate::deploy::plan::subset::Subset;
use crate::error::Error;
use crate::state::StateLock;
use crate::tools::kind::Kind;
use crate::tools::kubectl::Kubectl;
use crate::tools::{docker, Tool};
use crate::ui::Reporter;

/// What an operation needs before it starts. Missing prerequisites are bad input (exit 2), found
/// before anything changes, in a fixed order: kind, kubectl, Docker, the lock, the cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub struct Needs {
    kind: bool,
    kubectl: bool,
    docker: bool,
    docker_if_running: bool,
    lock: bool,
    cluster: bool,
}

impl Needs {
    pub const fn new() -> Needs {
        Needs { kind: false, kubectl: false, docker: false, docker_if_running: false, lock: false, cluster: false }
    }

    /// `kind` and `kubectl` (with the cluster's context).
    pub const fn cluster_tools(self) -> Needs {
        Needs { kind: true, kubectl: true, ..self }
    }

    /// Only `kubectl` (logs).
    pub const fn kubectl(self) -> Needs {
        Needs { kubectl: true, ..self }
    }

    /// A Docker daemon that answers.
    pub const fn docker(self) -> Needs {
        Needs { docker: true, ..self }
    }

    /// Docker when a daemon answers; none otherwise (status shows what it can).
    pub const fn docker_if_running(self) -> Needs {
        Needs { docker_if_running: true, ..self }
    }

    /// Exclusive access to `.ohdev/state.json` (every operation that changes something).
    pub const fn lock(self) -> Needs {
        Needs { lock: true, ..self }
    }

    /// The kind cluster must already exist (rebuild, watch): implies the cluster tools.
    pub const fn existing_cluster(self) -> Needs {
        Needs { cluster: true, kind: true, kubectl: true, ..self }
    }
}

pub struct Session {
    pub config: Config,
    pub reporter: Reporter,
    /// Cancelled by the first Ctrl-C, SIGTERM or SIGHUP (a child of the process-wide root token):
    /// long-running operations select on it to stop taking work.
    pub cancel: CancellationToken,
    kind_cluster: Option<KindCluster>,
    kind: Option<Kind>,
    kubectl: Option<Kubectl>,
    docker: Option<Docker>,
    buildkit: bool,
    lock: Option<StateLock>,
    /// The registry images go through, decided once (`engine::ship::target`).
    pub(crate) registry_target: tokio::sync::OnceCell<Option<crate::registry::Target>>,
    /// `ohdev up|rebuild|watch NAME…`: the part of the environment to work on; `None` is all of it.
    subset: Option<Subset>,
}

const UNDECLARED: &str = "the command opened its Session without declaring this in its Needs";

impl Session {
    pub async fn open(
        config: Config,
        kind_cluster: Option<KindCluster>,
        needs: Needs,
        reporter: Reporter,
    ) -> Result<Session, Error> {
        // On a remote target no kind call is ever made: the cluster is the target's context.
        let remote = config.target.is_some();
        let kind = if needs.kind && !remote { Some(Kind::locate()?) } else { None };
        let kubectl = if needs.kubectl { Some(Kubectl::locate(&config.context())?) } else { None };
        let (docker, buildkit) = if needs.docker {
            Tool::Docker.locate()?;
            let docker = docker::connect().await?;
            let engine = docker::engine_info(&docker).await?;
            (Some(docker), docker::supports_buildkit(&engine))
        } else if needs.docker_if_running {
            match docker::connect().await {
                Ok(docker) => (Some(docker), false),
                Err(_) => (None, false),
            }
        } else {
            (None, false)
        };
        let lock =
            if needs.lock { Some(StateLock::acquire(&config.root, Duration::from_secs(3), &reporter)?) } else { None };
        let cancel = crate::tools::exec::root_token().child_token();
        let session = Session {
            config,
            reporter,
            cancel,
            kind_cluster,
            kind,
            kubectl,
            docker,
            buildkit,
            lock,
            registry_target: tokio::sync::OnceCell::new(),
            subset: None,
        };
        if remote && (needs.kind || needs.cluster) {
            super::remote::require_reachable(&session).await?;
            if needs.lock {
                super::remote::announce(&session).await?;
            }
        } else if needs.cluster {
            session.require_cluster().await?;
        }
        Ok(session)
    }

    /// The remote target this run works on (`--target`); `None` on the kind cluster.
    pub fn remote(&self) -> Option<&crate::config::target::TargetConfig> {
        self.config.target.as_ref()
    }

    /// The validated kind cluster config (commands that create or inspect the cluster load it).
    pub fn kind_cluster(&self) -> &KindCluster {
        self.kind_cluster.as_ref().expect(UNDECLARED)
    }

    /// The kind cluster config, when the command loaded it.
    pub fn kind_cluster_if_loaded(&self) -> Option<&KindCluster> {
        self.kind_cluster.as_ref()
    }

    /// The registry in use, once `engine::ship::target` decided it.
    pub fn registry_target(&self) -> Option<&crate::registry::Target> {
        self.registry_target.get().and_then(Option::as_ref)
    }

    pub fn kind(&self) -> &Kind {
        self.kind.as_ref().expect(UNDECLARED)
    }

    pub fn kubectl(&self) -> &Kubectl {
        self.kubectl.as_ref().expect(UNDECLARED)
    }

    pub fn docker(&self) -> &Docker {
        self.docker.as_ref().expect(UNDECLARED)
    }

    /// Docker, if the command asked for it only when a daemon runs.
    pub fn docker_if_running(&self) -> Option<&Docker> {
        self.docker.as_ref()
    }

    /// Whether the daemon builds with BuildKit.
    pub fn buildkit(&self) -> bool {
        self.buildkit
    }

    /// Work on this part of the environment only (see `deploy::plan::subset`).
    pub fn with_subset(mut self, subset: Option<Subset>) -> Session {
        self.subset = subset;
        self
    }

    pub fn subset(&self) -> Option<&Subset> {
        self.subset.as_ref()
    }

    pub fn lock(&self) -> &StateLock {
        self.lock.as_ref().expect(UNDECLARED)
    }

    /// The cluster must already exist for rebuild/watch.
    async fn require_cluster(&self) -> Result<(), Error> {
        let name = &self.config.cluster.name;
        if self.kind().clusters().await?.contains(name) {
            Ok(())
        } else {
            Err(Error::Input {
                message: format!("kind cluster \"{name}\" does not exist"),
                fix: "run `ohdev up` first".to_string(),
            })
        }
    }
}
