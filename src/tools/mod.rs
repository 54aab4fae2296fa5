//! Everything outside ohdev: processes (through `exec`) and the Docker Engine (through bollard).
//! No other module starts a process or opens a socket.

pub mod docker;
pub mod exec;
pub mod kind;
pub mod kubectl;

use std::path::PathBuf;

use crate::error::Error;

/// A command-line tool ohdev drives, with what it is needed for and how to get it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Kind,
    Kubectl,
    Docker,
    Curl,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Kind => "kind",
            Tool::Kubectl => "kubectl",
            Tool::Docker => "docker",
            Tool::Curl => "curl",
        }
    }

    pub fn why(self) -> &'static str {
        match self {
            Tool::Kind => "ohdev runs the local Kubernetes cluster with kind (Kubernetes in Docker).",
            Tool::Kubectl => "ohdev applies manifests and reads cluster state with kubectl.",
            Tool::Docker => "kind runs its nodes with the docker command-line client.",
            Tool::Curl => {
                "ohdev downloads remote manifest bundles (`url:` entries) with curl, which honours your proxy settings."
            }
        }
    }

    pub fn install_hint(self) -> &'static str {
        match self {
            Tool::Kind => {
                "    Linux:  go install sigs.k8s.io/kind@v0.27.0   (or the release binary: https://kind.sigs.k8s.io/docs/user/quick-start/#installing-from-release-binaries)\n    macOS:  brew install kind"
            }
            Tool::Kubectl => {
                "    Linux:  https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/  (Debian/Ubuntu: the pkgs.k8s.io apt repository, `sudo apt-get install kubectl`)\n    macOS:  brew install kubectl"
            }
            Tool::Docker => {
                "    Linux:  sudo apt-get install docker.io && sudo systemctl start docker   (or Docker Engine from docs.docker.com/engine/install)\n    macOS:  Docker Desktop, OrbStack, or `brew install colima docker && colima start`"
            }
            Tool::Curl => "    Linux:  sudo apt-get install curl\n    macOS:  curl ships with macOS (or `brew install curl`)",
        }
    }

    /// Find the tool on PATH, or explain how to install it.
    pub fn locate(self) -> Result<PathBuf, Error> {
        which::which(self.name()).map_err(|_| Error::ToolMissing {
            tool: self.name().to_string(),
            why: self.why().to_string(),
            install: self.install_hint().to_string(),
        })
    }
}
