use super::Project;
use crate::cli::RebuildArgs;
use crate::error::Error;
use crate::pipeline;
use crate::session::Session;
use crate::ui::Reporter;

pub async fn run(project: Project, args: &RebuildArgs, reporter: Reporter) -> anyhow::Result<()> {
    crate::image::images::select(&project.config, &args.images)?;
    let session = Session::open(project.config, project.kind_cluster, reporter).await?;
    session.require_cluster().await?;
    // Images outside the selection must already be in the cluster, or the re-apply cannot happen:
    // say so before building anything.
    let selected = crate::image::images::select(&session.config, &args.images)?;
    let known = pipeline::current_tags(&session, &[]);
    let unavailable: Vec<String> = pipeline::missing_tags(&session, &known).into_iter().filter(|name| !selected.contains(name)).collect();
    if !unavailable.is_empty() {
        return Err(Error::Input {
            message: format!("image(s) {} are not in the cluster yet, so `ohdev rebuild {}` could not roll out", unavailable.join(", "), args.images.join(" ")),
            fix: format!("`ohdev rebuild` (all images) or `ohdev rebuild {} {}`", args.images.join(" "), unavailable.join(" ")),
        }
        .into());
    }
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
