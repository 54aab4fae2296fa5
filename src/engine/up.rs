//! `ohdev up`: ports → cluster ∥ images → load → apply in dependency order → wait → URLs.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{plan, rebuild, ship, subset, Session};
use crate::cluster;
use crate::config::{Config, Mode};
use crate::deploy::ledger::Ledger;
use crate::deploy::mode;
use crate::deploy::plan::subset::Subset;
use crate::deploy::plan::urls;
use crate::deploy::record;
use crate::deploy::render;
use crate::deploy::rollout::apply;
use crate::error::Error;
use crate::events::Event;
use crate::image;

#[derive(Debug, Clone)]
pub struct UpOptions {
    pub recreate: bool,
    pub force: bool,
    pub prune: bool,
    pub replace_immutable: bool,
    pub timeout: Option<Duration>,
    /// The `ports:` forwards will run after `up` (`--watch`): their local ports must be free, and
    /// their URLs are listed.
    pub forward: bool,
}

/// Everything `up` can check without a tool, before the Session is opened: the images' contexts,
/// Dockerfiles and dependencies, the whole manifest set, and the `NAME…` arguments. Returns the
/// images to build, in order, and the subset the names mean (`None` without names).
pub async fn validate(config: &Config, names: &[String]) -> Result<(Vec<String>, Option<Subset>), Error> {
    let tags = plan::placeholder_tags(config);
    let (image_names, subset) = if names.is_empty() {
        let image_names = image::select(config, &[])?;
        image::validate(config, &image_names)?;
        render::render(config, &tags).await?;
        (image_names, None)
    } else {
        let rendered = render::render(config, &tags).await?;
        let subset = subset::of(names, &tags, &rendered)?;
        let image_names = subset::images(config, Some(&subset))?;
        image::validate(config, &image_names)?;
        (image_names, Some(subset))
    };
    if config.dev.declared && config.mode == Mode::Production {
        // The other mode's patches are part of ohdev.yaml too: a typo in `dev.patches` is found by
        // `ohdev up`, not first by the `ohdev up --watch` that needs them.
        let dev = config.clone().with_mode(Mode::Dev);
        render::render(&dev, &plan::placeholder_tags(&dev)).await?;
    }
    Ok((image_names, subset))
}

pub async fn up(session: &Session, image_names: &[String], options: &UpOptions) -> Result<(), Error> {
    let config = &session.config;
    let reporter = &session.reporter;
    let kind_cluster = session.kind_cluster_if_loaded();
    let lock = session.lock();
    if options.forward {
        crate::forward::check_local_ports(config)?;
    }
    let remote = session.remote().is_some();
    if !remote {
        cluster::check_ports(config, session.kind_cluster(), session.docker(), lock).await?;
    }
    if let Some(mode) = config.describe_mode() {
        let other = match config.mode {
            Mode::Dev => "`ohdev up` without --watch (or with --no-dev) deploys production",
            Mode::Production => "`ohdev up --watch` (or --dev) deploys dev mode",
        };
        reporter.emit(Event::info(format!("{mode}; {other}")));
    }
    // The registry port, image and kind version are input too: checked before anything changes.
    // A remote target pushes to its own registry: ohdev runs and wires none for it.
    let registry = if remote {
        None
    } else {
        crate::registry::check(config, session.docker(), Some((session.kind(), session.kind_cluster()))).await?
    };

    // The cluster and the images do not depend on each other: create one while building the other.
    // The first error stops the other (a failed cluster create does not wait for a long build).
    let start_registry = async {
        match &registry {
            Some(checked) => crate::registry::start(session.docker(), checked, reporter).await.map(Some),
            None => Ok(None),
        }
    };
    let ensure_cluster = async {
        if remote {
            // Never created, never recreated: the target's cluster is someone else's.
            Ok(cluster::Outcome::Reused)
        } else {
            cluster::ensure(config, session.kind_cluster(), session.kind(), lock, reporter, options.recreate).await
        }
    };
    let (cluster_outcome, results, started) = tokio::try_join!(
        ensure_cluster,
        image::prepare_and_build(
            config,
            image_names,
            lock.dir(),
            session.docker(),
            session.buildkit(),
            options.force,
            reporter
        ),
        start_registry,
    )?;
    if cluster_outcome != cluster::Outcome::Reused {
        // A new cluster holds nothing ohdev applied to the one before (deleted by `--recreate` or
        // outside ohdev): forget those objects instead of calling them orphans.
        Ledger::clear(lock, &config.state_key())?;
    }
    let target = ship::ship(session, started.as_ref(), &results, options.force).await?;
    if target.is_none() && !remote && results.iter().any(|result| result.image_id().is_some()) {
        crate::registry::suggest_once(lock, &config.file, reporter)?;
    }
    image::fail_if_any_failed(&results)?;

    let mut tags: BTreeMap<String, String> = results
        .iter()
        .map(|result| (result.name.clone(), ship::reference(&result.name, &result.tag, target.as_ref())))
        .collect();
    if session.subset().is_some() {
        // Images outside the subset were not built: their objects are not applied, but they are
        // rendered (a `${image:X}` must resolve), with the tag in the cluster or a placeholder.
        for (name, tag) in rebuild::current_tags(session, &results).into_iter().chain(plan::placeholder_tags(config)) {
            tags.entry(name).or_insert(tag);
        }
    }
    let rendered = render::render(config, &tags).await?.only(session.subset(), &tags)?;
    let rendered = super::remote::restrict(session, rendered).await?;
    for warning in &rendered.warnings {
        reporter.emit(Event::warn(warning.clone(), None));
    }
    if options.forward {
        let objects = rendered.objects.iter().map(|object| (object.kind(), object.namespace(), object.name()));
        for warning in crate::forward::unknown_targets(&config.ports, objects) {
            let hint = "check `to:` and `namespace:` of the entry in ohdev.yaml (`ohdev plan` lists the objects)";
            reporter.emit(Event::warn(warning, Some(hint.to_string())));
        }
    }
    let planned = record::from_plan(&config.state_key(), &rendered.objects, &rendered.plan);
    let apply_options = apply::Options {
        timeout: options.timeout.unwrap_or(config.deploy_timeout),
        replace_immutable: options.replace_immutable,
        logins: apply::logins_of(session.registry_target()),
    };
    // Recorded before applying; orphans stay recorded until they are deleted: a failed
    // `up --prune` must not forget them.
    let ledger = Ledger::begin(lock, planned)?;
    mode::record(lock, &config.state_key(), config.mode)?;
    if !rendered.objects.is_empty() {
        apply::deploy(session.kubectl(), &rendered.objects, &rendered.plan, &apply_options, reporter).await?;
    }
    let orphans = ledger.commit()?;
    // With a subset, what lies outside it is left as it is: neither an orphan nor pruned.
    if !orphans.is_empty() && session.subset().is_none() {
        if options.prune {
            for orphan in record::teardown_order(&record::Applied { cluster: String::new(), objects: orphans.clone() })
            {
                session.kubectl().invocation(orphan.delete_args()).run().await?;
            }
            Ledger::forget(lock, &config.state_key(), &orphans)?;
        }
        reporter.emit(Event::Orphans {
            objects: orphans.iter().map(record::AppliedObject::label).collect(),
            pruned: options.prune,
        });
    }
    // Ingress URLs come from kind's host port mappings; a target's are its own (`urls:`).
    let mut urls = kind_cluster.map(|cluster| urls::urls(&rendered.objects, cluster)).unwrap_or_default();
    for url in &config.urls {
        if !urls.contains(url) {
            urls.push(url.clone());
        }
    }

    let nodes = session.kubectl().nodes().await?;
    let not_ready: Vec<&str> = nodes.iter().filter(|node| !node.ready).map(|node| node.name.as_str()).collect();
    if !not_ready.is_empty() && !remote {
        reporter.emit(Event::warn(
            format!("node(s) not Ready yet: {}", not_ready.join(", ")),
            Some("`ohdev status` shows them again; kind nodes usually become Ready within a minute".into()),
        ));
    }
    let mut next = vec![
        "ohdev logs -f            follow every container's output".to_string(),
        "ohdev status             cluster, images and what is loaded".to_string(),
        format!("kubectl --context {} get pods -n {}", config.context(), config.namespace),
    ];
    if options.forward {
        for url in crate::forward::urls(config) {
            if !urls.contains(&url) {
                urls.push(url);
            }
        }
    } else if !config.ports.is_empty() {
        next.push("ohdev forward            the port-forwards of ohdev.yaml's `ports:`".to_string());
    }
    reporter.emit(Event::Ready { urls, next });
    Ok(())
}
