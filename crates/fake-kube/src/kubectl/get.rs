//! `kubectl get TYPE[,TYPE] [NAME…] | TYPE/NAME…` with `-n`/`-A`, `-l`, `--field-selector`,
//! `--ignore-not-found` and `-o json|yaml|name`. Every object returned counts one read for itself
//! (a pod counts one for its owning workload, once per call): restart and event counts grow with
//! them; how far a rollout has come is a matter of time (`pace`), not of reads.

use super::errors::{render as render_errs, KubeErr};
use super::output::{parse_format, render, Format};
use super::pods::{all_pods, replicas, replicaset_of, PodView};
use super::resources::{resolve, ResType};
use super::selector::{FieldSelector, LabelSelector};
use super::status::{object_events, render as render_obj, workload_ready};
use super::{namespace, nodes, with_cluster, Reply};
use crate::app::Ctx;
use crate::flags::Parsed;
use crate::state::Cluster;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// One candidate object and the stored object whose read count it advances.
struct Item {
    body: Value,
    bumps: Option<usize>,
}

fn replicasets(c: &Cluster, pods: &[PodView]) -> Vec<Item> {
    let mut out = Vec::new();
    for (i, o) in c.objects.iter().enumerate().filter(|(_, o)| o.group == "apps" && o.kind == "Deployment") {
        let mine: Vec<&PodView> = pods.iter().filter(|p| p.owner == Some(i)).collect();
        let ready = if workload_ready(c, o, &mine) {
            replicas(o)
        } else {
            mine.iter().filter(|p| p.outcome.ready).count() as u64
        };
        let mut rs = replicaset_of(o);
        rs["status"] = json!({"replicas": replicas(o), "fullyLabeledReplicas": replicas(o), "readyReplicas": ready, "availableReplicas": ready, "observedGeneration": 1});
        out.push(Item { body: rs, bumps: None });
    }
    out
}

fn candidates(c: &Cluster, pods: &[PodView], rt: &ResType) -> Vec<Item> {
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Pod") => pods.iter().map(|p| Item { body: p.body.clone(), bumps: p.owner.or(p.stored) }).collect(),
        ("", "Node") => nodes::all(c).into_iter().map(|body| Item { body, bumps: None }).collect(),
        ("apps", "ReplicaSet") => replicasets(c, pods),
        ("", "Event") => object_events(c, pods)
            .into_iter()
            .chain(pods.iter().flat_map(|p| p.outcome.events.clone()))
            .map(|body| Item { body, bumps: None })
            .collect(),
        _ => c
            .objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.group == rt.group && o.kind == rt.kind)
            .map(|(i, _)| Item { body: render_obj(c, i, pods), bumps: Some(i) })
            .collect(),
    }
}

fn meta<'a>(v: &'a Value, field: &str) -> &'a str {
    v.pointer(&format!("/metadata/{field}")).and_then(Value::as_str).unwrap_or("")
}

struct Query {
    format: Format,
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
    all_namespaces: bool,
    namespace: String,
    ignore_not_found: bool,
}

/// (type, names) pairs from the positional arguments.
fn requests(c: &Cluster, args: &[String]) -> Result<Vec<(ResType, Vec<String>)>, KubeErr> {
    if args.is_empty() {
        return Err(KubeErr::plain("Required resource not specified."));
    }
    if args[0].contains('/') {
        let mut out: Vec<(ResType, Vec<String>)> = Vec::new();
        for a in args {
            let (t, n) = a.split_once('/').ok_or_else(|| KubeErr::plain("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'"))?;
            out.push((resolve(c, t)?, vec![n.to_string()]));
        }
        return Ok(out);
    }
    let names: Vec<String> = args[1..].to_vec();
    args[0].split(',').filter(|t| !t.is_empty()).map(|t| Ok((resolve(c, t)?, names.clone()))).collect()
}

fn get(c: &mut Cluster, args: &[String], q: &Query) -> Reply {
    let reqs = match requests(c, args) {
        Ok(r) => r,
        Err(e) => return Reply::fail(render_errs(&[e])),
    };
    let single = reqs.len() == 1 && reqs[0].1.len() == 1;
    let pods = all_pods(c);
    let (mut found, mut errors, mut bumps) = (Vec::new(), Vec::new(), BTreeSet::new());
    for (rt, names) in &reqs {
        let mut items: Vec<Item> = candidates(c, &pods, rt)
            .into_iter()
            .filter(|it| !rt.namespaced || q.all_namespaces || meta(&it.body, "namespace") == q.namespace)
            .collect();
        items.sort_by(|a, b| {
            (meta(&a.body, "namespace"), meta(&a.body, "name"))
                .cmp(&(meta(&b.body, "namespace"), meta(&b.body, "name")))
        });
        if names.is_empty() {
            for it in items {
                if q.labels.as_ref().is_none_or(|l| l.matches_object(&it.body))
                    && q.fields.as_ref().is_none_or(|f| f.matches(&it.body))
                {
                    bumps.extend(it.bumps);
                    found.push((rt.clone(), it.body));
                }
            }
            continue;
        }
        for name in names {
            match items.iter().find(|it| meta(&it.body, "name") == name) {
                Some(it) => {
                    bumps.extend(it.bumps);
                    found.push((rt.clone(), it.body.clone()));
                }
                None if q.ignore_not_found => {}
                None => errors.push(KubeErr::not_found(&rt.qualified_plural(), name)),
            }
        }
    }
    for i in bumps {
        c.objects[i].polls += 1;
    }
    let mut reply = Reply::default();
    if !(found.is_empty() && (q.ignore_not_found || !errors.is_empty())) {
        reply.out = render(&found, single, q.format, q.all_namespaces);
    }
    if found.is_empty() && errors.is_empty() && q.format == Format::Table && !q.ignore_not_found {
        let scoped = reqs.iter().all(|(rt, _)| rt.namespaced) && !q.all_namespaces;
        reply.err = if scoped {
            format!("No resources found in {} namespace.\n", q.namespace)
        } else {
            "No resources found\n".into()
        };
    }
    if !errors.is_empty() {
        reply.err.push_str(&render_errs(&errors));
        reply.code = 1;
    }
    reply
}

pub fn run(ctx: &mut Ctx, p: &Parsed, context: &str) -> i32 {
    if p.on("watch") {
        return ctx.fail(1, "error: fake-kube: --watch is not simulated; poll with get");
    }
    if p.has("raw") || p.has("filename") {
        return ctx
            .fail(1, "error: fake-kube: get --raw / -f is not simulated; use kubectl api-resources for discovery");
    }
    let parsed = (|| -> Result<Query, KubeErr> {
        Ok(Query {
            format: parse_format(p.get("output"))?,
            labels: p.get("selector").map(LabelSelector::parse).transpose()?,
            fields: p.get("field-selector").map(FieldSelector::parse).transpose()?,
            all_namespaces: p.on("all-namespaces"),
            namespace: namespace(p),
            ignore_not_found: p.on("ignore-not-found"),
        })
    })();
    let q = match parsed {
        Ok(q) => q,
        Err(e) => return ctx.fail(1, &render_errs(&[e])),
    };
    let args = p.positional.clone();
    with_cluster(ctx, context, |c| get(c, &args, &q))
}
