use crate::cli::GcArgs;
use crate::engine::{self, Needs, Session};
use crate::exit_status::ExitStatus;
use crate::project::ProjectLocator;
use crate::ui::Reporter;

pub async fn run(project: &ProjectLocator, args: &GcArgs, reporter: Reporter) -> anyhow::Result<ExitStatus> {
    // ohdev.yaml (with its `keep` values) is validated before any tool is looked for.
    let config = project.load_config()?;
    if let Some(target) = &config.target {
        return Err(crate::error::Error::Input {
            message: format!(
                "`ohdev gc` cleans Docker, ohdev's registry and the kind nodes; it does not delete from target `{}`'s registry ({})",
                target.name, target.registry
            ),
            fix: "run `ohdev gc` without --target (and without OHDEV_TARGET); clean a shared registry with its own retention policy".into(),
        }
        .into());
    }
    let needs = Needs::new().cluster_tools().docker().lock();
    let session = Session::open(config, None, needs, reporter).await?;
    let options = engine::gc::Options { keep: args.keep.map(usize::from), dry_run: args.dry_run, quiet: false };
    engine::gc::gc(&session, &options).await?;
    Ok(ExitStatus::Success)
}
