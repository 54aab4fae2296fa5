use super::Project;
use crate::cli::RebuildArgs;
use crate::error::Error;
use crate::pipeline;
use crate::session::Session;
use crate::ui::Reporter;

pub async fn run(project: Project, args: &RebuildArgs, reporter: Reporter) -> anyhow::Result<()> {
    crate::build::images::select(&project.config, &args.images)?;
    let session = Session::open(project.config, project.kind_cluster, reporter).await?;
    session.require_cluster().await?;
    let rebuilt = pipeline::build_and_load(&session, &args.images, args.force).await?;
    if !rebuilt.failed.is_empty() {
        return Err(Error::work(
            format!("image(s) failed to build: {}; the previous version keeps running", rebuilt.failed.join(", ")),
            Some(format!("fix the failing step shown above, then `ohdev rebuild {}`", rebuilt.failed.join(" "))),
        )
        .into());
    }
    let tags = pipeline::current_tags(&session, &rebuilt.results);
    let timeout = args.timeout.unwrap_or(session.config.deploy_timeout);
    pipeline::redeploy(&session, &tags, timeout).await?;
    Ok(())
}
