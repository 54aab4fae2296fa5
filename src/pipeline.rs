//! The rebuild pipeline shared by `ohdev rebuild` and the watch loop: build what changed, load it,
//! re-apply only the objects whose rendered content changed (the new tags), wait for them.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::image::images::{self, BuildResult, Outcome};
use crate::image::load;
use crate::deploy::rollout::apply;
use crate::deploy::{record, render};
use crate::error::Error;
use crate::events::Event;
use crate::session::Session;

pub struct Rebuilt {
    pub results: Vec<BuildResult>,
    pub failed: Vec<String>,
}

/// Build (and load) the named images; returns which failed without touching the cluster for them.
pub async fn build_and_load(session: &Session, names: &[String], force: bool) -> Result<Rebuilt, Error> {
    let selected = images::select(&session.config, names)?;
    let results = images::prepare_and_build(&session.config, &selected, session.lock.dir(), &session.docker, session.buildkit, force, &session.reporter).await?;
    load::load_all(&session.kind, &session.kubectl, &session.config.cluster.name, &results, force, &session.lock, &session.reporter).await?;
    let failed = results
        .iter()
        .filter(|result| matches!(result.outcome, Outcome::Failed | Outcome::Skipped))
        .map(|result| result.name.clone())
        .collect();
    Ok(Rebuilt { results, failed })
}

/// The tag each image should run: this run's results first, else what ohdev last loaded.
pub fn current_tags(session: &Session, results: &[BuildResult]) -> BTreeMap<String, String> {
    let records: load::ImageRecords = session.lock.load().section(load::STATE_KEY);
    let mut tags = BTreeMap::new();
    for name in session.config.images.keys() {
        let fresh = results.iter().find(|result| &result.name == name && result.image_id().is_some());
        if let Some(result) = fresh {
            tags.insert(name.clone(), result.tag.clone());
        } else if let Some(record) = records.get(name).filter(|record| record.loaded.get(&session.config.cluster.name).is_some_and(|nodes| !nodes.is_empty())) {
            // Only a tag that is in the cluster: `ohdev build` records tags it never loaded.
            tags.insert(name.clone(), record.tag.clone());
        }
    }
    tags
}

/// Images that have no tag in the cluster.
pub fn missing_tags(session: &Session, tags: &BTreeMap<String, String>) -> Vec<String> {
    session.config.images.keys().filter(|name| !tags.contains_key(*name)).cloned().collect()
}

/// Render with `tags`, apply only what changed since the last apply, and wait for it.
pub async fn redeploy(session: &Session, tags: &BTreeMap<String, String>, timeout: Duration) -> Result<usize, Error> {
    let missing = missing_tags(session, tags);
    if !missing.is_empty() {
        return Err(Error::work(
            format!("image(s) {} are not built and loaded into the cluster, so nothing was re-applied", missing.join(", ")),
            Some(format!("`ohdev rebuild {}` builds and loads them", missing.join(" "))),
        ));
    }
    let rendered = render::render(&session.config, tags).await?;
    for warning in &rendered.warnings {
        session.reporter.emit(Event::warn(warning.clone(), None));
    }
    let mut state = session.lock.load();
    let before: record::Applied = state.section(record::STATE_KEY);
    let unchanged = if before.cluster == session.config.cluster.name { record::unchanged(&before, &rendered.objects) } else { Default::default() };
    let changed = rendered.objects.len() - unchanged.len();
    let mut now = record::from_plan(&session.config.cluster.name, &rendered.objects, &rendered.plan);
    // Keep orphans recorded: only `up --prune` removes them.
    now.objects.extend(record::orphans(&before, &now));
    let pending = record::provisional(&before, &now);
    state.set_section(record::STATE_KEY, &pending);
    session.lock.save(&state)?;
    if changed == 0 {
        session.reporter.emit(Event::info("no object changed: nothing to re-apply"));
        return Ok(0);
    }
    let options = apply::Options { timeout, replace_immutable: false };
    apply::deploy_changed(&session.kubectl, &rendered.objects, &rendered.plan, &unchanged, &options, &session.reporter).await?;
    let mut state = session.lock.load();
    state.set_section(record::STATE_KEY, &now);
    session.lock.save(&state)?;
    Ok(changed)
}
