//! Rebuild: build what changed among the named images, load it into the cluster, and re-apply only
//! the objects whose rendered content changed (the new tags). `ohdev rebuild` and the watch loop.

use std::collections::BTreeMap;
use std::time::Duration;

use super::reapply::reapply;
use super::Session;
use crate::deploy::plan::subset::Subset;
use crate::error::Error;
use crate::image::load;
use crate::image::{self, BuildResult, Outcome};
use crate::registry::push::content_tag;

pub struct Rebuilt {
    pub results: Vec<BuildResult>,
    pub failed: Vec<String>,
}

/// Everything `rebuild` can check without a tool, before the Session is opened: the named images
/// (and what they depend on) exist and have their contexts and Dockerfiles, and the manifests, which
/// are re-applied after the build, render. A broken manifest found after building would have loaded
/// new images into the cluster for nothing.
///
/// `names` are images or workloads (see `deploy::plan::subset`); returns the subset they mean
/// (`None` without names: every image, every object).
pub async fn validate(config: &crate::config::Config, names: &[String]) -> Result<Option<Subset>, Error> {
    if names.is_empty() {
        super::build::validate(config, names)?;
        super::plan::plan(config).await?;
        return Ok(None);
    }
    let subset = super::plan::subset(config, names).await?;
    let images = super::subset::images(config, subset.as_ref())?;
    image::validate(config, &images)?;
    Ok(subset)
}

/// Build (and load) the named images; returns which failed without touching the cluster for them.
pub async fn build_and_load(session: &Session, names: &[String], force: bool) -> Result<Rebuilt, Error> {
    let selected = image::select(&session.config, names)?;
    let lock = session.lock();
    let results = image::prepare_and_build(
        &session.config,
        &selected,
        lock.dir(),
        session.docker(),
        session.buildkit(),
        force,
        &session.reporter,
    )
    .await?;
    super::ship::ship(session, None, &results, force).await?;
    let failed = results
        .iter()
        .filter(|result| matches!(result.outcome, Outcome::Failed(_) | Outcome::Skipped))
        .map(|result| result.name.clone())
        .collect();
    Ok(Rebuilt { results, failed })
}

/// The reference each image should run: this run's results first, else what ohdev last loaded
/// (or pushed, when a registry is in use).
pub fn current_tags(session: &Session, results: &[BuildResult]) -> BTreeMap<String, String> {
    current_tags_for(session, results, session.registry_target())
}

/// [`current_tags`] for the registry `target` (None: `kind load`).
fn current_tags_for(
    session: &Session,
    results: &[BuildResult],
    target: Option<&crate::registry::Target>,
) -> BTreeMap<String, String> {
    let records: load::ImageRecords = session.lock().section();
    let mut tags = BTreeMap::new();
    for name in session.config.images.keys() {
        let fresh = results.iter().find(|result| &result.name == name && result.image_id().is_some());
        if let Some(result) = fresh {
            tags.insert(name.clone(), super::ship::reference(name, &result.tag, target));
        } else if let Some(target) = target {
            // Only a tag that is in the registry the cluster pulls from.
            let pushed = records.get(name).and_then(|record| {
                record
                    .pushed
                    .get(&target.push_host)
                    .filter(|pushed| pushed.reference == target.push_reference(name, content_tag(&record.tag)))
            });
            if let Some(pushed) = pushed {
                tags.insert(name.clone(), target.runtime_reference(name, content_tag(&pushed.reference)));
            }
        } else if let Some(record) = records
            .get(name)
            .filter(|record| record.loaded.get(&session.config.cluster.name).is_some_and(|nodes| !nodes.is_empty()))
        {
            // Only a tag that is in the cluster: `ohdev build` records tags it never loaded.
            tags.insert(name.clone(), record.tag.clone());
        }
    }
    tags
}

/// `ohdev rebuild [NAME…]`: the session's subset (everything without one): its images and what they
/// depend on are built and loaded, then its objects re-applied where they changed.
pub async fn rebuild(session: &Session, force: bool, timeout: Duration) -> Result<(), Error> {
    // Every image the subset's objects run is selected (and built only if its content changed), so
    // the re-apply below has a tag for each of them.
    let selected = super::subset::images(&session.config, session.subset())?;
    let rebuilt = if selected.is_empty() {
        // A subset of objects that run no image of ohdev.yaml: nothing to build.
        Rebuilt { results: Vec::new(), failed: Vec::new() }
    } else {
        build_and_load(session, &selected, force).await?
    };
    if !rebuilt.failed.is_empty() {
        return Err(Error::work(
            format!(
                "image(s) failed to build: {}; the previous version keeps running{}",
                rebuilt.failed.join(", "),
                image::failure_summary(&rebuilt.results)
            ),
            Some(format!("fix the failing step, then `ohdev rebuild {}`", rebuilt.failed.join(" "))),
        ));
    }
    let tags = current_tags(session, &rebuilt.results);
    reapply(session, &tags, timeout).await?;
    // Old content tags pile up with every rebuild: collect them now and then (a failure only warns).
    super::gc::after_rollout(session).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    /// What the case is, the project files (path, content), what the error says.
    type Case = (&'static str, &'static [(&'static str, &'static str)], &'static str);

    use super::*;

    fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, crate::config::Config) {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        let config = crate::config::load(&dir.path().join("ohdev.yaml")).unwrap();
        (dir, config)
    }

    const CONFIG: &str = "cluster: {name: t}\nimages:\n  app: {}\nmanifests: [k8s]\n";
    const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: default}\n";

    #[tokio::test]
    async fn bad_input_is_found_before_anything_is_built() {
        let cases: &[Case] = &[
            (
                "no Dockerfile",
                &[("ohdev.yaml", CONFIG), ("k8s/m.yaml", CONFIG_MAP)],
                "images.app.dockerfile is Dockerfile",
            ),
            (
                "no context",
                &[("ohdev.yaml", "cluster: {name: t}\nimages:\n  app: {context: src}\nmanifests: []\n")],
                "images.app.context is",
            ),
            (
                "a manifest without a name",
                &[
                    ("ohdev.yaml", CONFIG),
                    ("Dockerfile", "FROM scratch\n"),
                    ("k8s/m.yaml", "apiVersion: v1\nkind: ConfigMap\n"),
                ],
                "the ConfigMap has no metadata.name",
            ),
        ];
        for (what, files, expected) in cases {
            let (_dir, config) = project(files);
            let error = validate(&config, &[]).await.unwrap_err();
            assert_eq!(error.exit_code(), 2, "{what}: {error}");
            assert!(error.to_string().contains(expected), "{what}: {error}");
        }
        let (_dir, config) =
            project(&[("ohdev.yaml", CONFIG), ("Dockerfile", "FROM scratch\n"), ("k8s/m.yaml", CONFIG_MAP)]);
        validate(&config, &["app".to_string()]).await.unwrap();
        let unknown = validate(&config, &["ap".to_string()]).await.unwrap_err();
        assert!(unknown.to_string().contains("did you mean `app`?"), "{unknown}");
    }
}
