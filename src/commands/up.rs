use std::collections::BTreeMap;

use super::build::fail_if_any_failed;
use super::Project;
use crate::image::{images, load};
use crate::cli::UpArgs;
use crate::cluster;
use crate::deploy::plan::urls;
use crate::deploy::rollout::apply;
use crate::deploy::{record, render};
use crate::error::Error;
use crate::events::Event;
use crate::session::Session;
use crate::tools::docker;
use crate::ui::Reporter;

pub async fn run(project: &Project, args: &UpArgs, reporter: &Reporter) -> anyhow::Result<()> {
    let config = &project.config;
    // Everything is validated and every prerequisite found before anything changes.
    let image_names = images::select(config, &[])?;
    images::validate(config, &image_names)?;
    render::render(config, &super::plan::placeholder_tags(config)).await?;
    let session = Session::open(config.clone(), project.kind_cluster.clone(), reporter.clone()).await?;
    let Session { kind, kubectl, docker, lock, buildkit, .. } = &session;

    let busy = cluster::busy_ports(&project.kind_cluster);
    if !busy.is_empty() {
        // A port this very cluster holds is fine (and is freed by --recreate); any other busy port
        // stops `up` here, before the cluster is touched.
        let held_by_cluster = !docker::kind_node_containers(docker, &config.cluster.name).await?.is_empty();
        let recorded = lock.load().cluster.filter(|record| record.name == config.cluster.name);
        let ports_of_cluster: Option<Vec<(String, u16)>> = recorded
            .and_then(|record| crate::config::kind_cluster::parse(&record.config_path, record.config_text).ok())
            .map(|old| old.port_mappings().map(|mapping| (mapping.listen_address.clone(), mapping.host_port)).collect());
        let blocking = busy.iter().find(|mapping| match (&ports_of_cluster, held_by_cluster) {
            (_, false) => true,
            (Some(ports), true) => !ports.contains(&(mapping.listen_address.clone(), mapping.host_port)),
            (None, true) => false,
        });
        if let Some(mapping) = blocking {
            return Err(Error::PortInUse {
                port: mapping.host_port,
                address: mapping.listen_address.clone(),
                file: project.kind_cluster.path.clone(),
            }
            .into());
        }
    }

    // The cluster and the images do not depend on each other: create one while building the other.
    // The first error stops the other (a failed cluster create does not wait for a long build).
    let (_, results) = tokio::try_join!(
        cluster::ensure(config, &project.kind_cluster, kind, lock, reporter, args.recreate),
        images::prepare_and_build(config, &image_names, lock.dir(), docker, *buildkit, args.force, reporter),
    )?;
    load::load_all(kind, kubectl, &config.cluster.name, &results, args.force, lock, reporter).await?;
    fail_if_any_failed(&results)?;

    let tags: BTreeMap<String, String> = results.iter().map(|result| (result.name.clone(), result.tag.clone())).collect();
    let rendered = render::render(config, &tags).await?;
    for warning in &rendered.warnings {
        reporter.emit(Event::warn(warning.clone(), None));
    }
    let applied_now = record::from_plan(&config.cluster.name, &rendered.objects, &rendered.plan);
    let mut state = lock.load();
    let applied_before: record::Applied = state.section(record::STATE_KEY);
    let orphans = if applied_before.cluster == config.cluster.name { record::orphans(&applied_before, &applied_now) } else { Vec::new() };
    let options = apply::Options {
        timeout: args.timeout.unwrap_or(config.deploy_timeout),
        replace_immutable: args.replace_immutable,
    };
    // Record before applying (see record::provisional); orphans stay recorded until they are
    // deleted: a failed `up --prune` must not forget them.
    let mut merged = applied_now.clone();
    merged.objects.extend(orphans.iter().cloned());
    state.set_section(record::STATE_KEY, &record::provisional(&applied_before, &merged));
    lock.save(&state)?;
    if !rendered.objects.is_empty() {
        apply::deploy(kubectl, &rendered.objects, &rendered.plan, &options, reporter).await?;
    }
    let mut state = lock.load();
    state.set_section(record::STATE_KEY, &merged);
    lock.save(&state)?;
    if !orphans.is_empty() {
        if args.prune {
            for orphan in record::teardown_order(&record::Applied { cluster: String::new(), objects: orphans.clone() }) {
                kubectl.invocation(orphan.delete_args()).run().await?;
            }
            let mut state = lock.load();
            state.set_section(record::STATE_KEY, &applied_now);
            lock.save(&state)?;
        }
        reporter.emit(Event::Orphans {
            objects: orphans.iter().map(record::AppliedObject::label).collect(),
            pruned: args.prune,
        });
    }
    let mut urls = urls::urls(&rendered.objects, &project.kind_cluster);
    for url in &config.urls {
        if !urls.contains(url) {
            urls.push(url.clone());
        }
    }

    let nodes = kubectl.nodes().await?;
    let not_ready: Vec<&str> = nodes.iter().filter(|node| !node.ready).map(|node| node.name.as_str()).collect();
    if !not_ready.is_empty() {
        reporter.emit(Event::warn(
            format!("node(s) not Ready yet: {}", not_ready.join(", ")),
            Some("`ohdev status` shows them again; kind nodes usually become Ready within a minute".into()),
        ));
    }
    reporter.emit(Event::Ready {
        urls,
        next: vec![
            "ohdev logs -f            follow every container's output".to_string(),
            "ohdev status             cluster, images and what is loaded".to_string(),
            format!("kubectl --context {} get pods -A", config.cluster.context()),
        ],
    });
    Ok(())
}
