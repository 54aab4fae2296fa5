//! Re-apply: render the manifests with the tags each image runs, apply only the objects whose
//! rendered content changed since the last apply, and wait for them. Shared by `rebuild`, the watch
//! loop (after a build or a manifest change).

use std::collections::BTreeMap;
use std::time::Duration;

use super::Session;
use crate::deploy::ledger::Ledger;
use crate::deploy::rollout::apply;
use crate::deploy::{record, render};
use crate::error::Error;
use crate::events::Event;

/// Images that have no tag in the cluster (of those the session's subset runs, if it has one).
pub fn missing_tags(session: &Session, tags: &BTreeMap<String, String>) -> Vec<String> {
    session
        .config
        .images
        .keys()
        .filter(|name| session.subset().is_none_or(|subset| subset.images.contains(*name)))
        .filter(|name| !tags.contains_key(*name))
        .cloned()
        .collect()
}

/// Render with `tags`, apply only what changed since the last apply (of the session's subset, if it
/// has one), and wait for it. Returns how many objects changed.
pub async fn reapply(session: &Session, tags: &BTreeMap<String, String>, timeout: Duration) -> Result<usize, Error> {
    let missing = missing_tags(session, tags);
    if !missing.is_empty() {
        return Err(Error::work(
            format!(
                "image(s) {} are not built and loaded into the cluster, so nothing was re-applied",
                missing.join(", ")
            ),
            Some(format!("`ohdev rebuild {}` builds and loads them", missing.join(" "))),
        ));
    }
    let mut tags = tags.clone();
    if session.subset().is_some() {
        // Objects outside the subset are not applied, but they are rendered: a `${image:X}` must resolve.
        for (name, tag) in super::plan::placeholder_tags(&session.config) {
            tags.entry(name).or_insert(tag);
        }
    }
    let rendered = render::render(&session.config, &tags).await?.only(session.subset(), &tags)?;
    let rendered = super::remote::restrict(session, rendered).await?;
    for warning in &rendered.warnings {
        session.reporter.emit(Event::warn(warning.clone(), None));
    }
    let planned = record::from_plan(&session.config.state_key(), &rendered.objects, &rendered.plan);
    // Orphans stay recorded: only `up --prune` removes them.
    let ledger = Ledger::begin(session.lock(), planned)?;
    let unchanged = ledger.unchanged(&rendered.objects);
    let changed = rendered.objects.len() - unchanged.len();
    if changed == 0 {
        session.reporter.emit(Event::info("no object changed: nothing to re-apply"));
        return Ok(0);
    }
    let options =
        apply::Options { timeout, replace_immutable: false, logins: apply::logins_of(session.registry_target()) };
    apply::deploy_changed(
        session.kubectl(),
        &rendered.objects,
        &rendered.plan,
        &unchanged,
        &options,
        &session.reporter,
    )
    .await?;
    ledger.commit()?;
    Ok(changed)
}
