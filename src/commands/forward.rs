//! `ohdev forward`: check ohdev.yaml's `ports:` and their local ports, then forward until Ctrl-C.
//! Needs kubectl and an existing cluster; not Docker, not the state lock (it runs beside
//! `ohdev rebuild` and `ohdev watch`).

use crate::engine::{self, Needs, Session};
use crate::error::Error;
use crate::exit_status::ExitStatus;
use crate::project::ProjectLocator;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    let project = project.load(&reporter)?;
    if project.config.ports.is_empty() {
        return Err(Error::config(
            &project.config.file,
            None,
            "there is nothing to forward: ohdev.yaml has no `ports:`",
            "add one, e.g.\n    ports:\n      - {to: Deployment/openhands, local: 3000, remote: 3000}",
        )
        .into());
    }
    crate::forward::check_local_ports(&project.config)?;
    let session =
        Session::open(project.config, project.kind_cluster, Needs::new().existing_cluster(), reporter).await?;
    engine::forward::forward(&session).await?;
    Ok(ExitStatus::Success)
}
