//! `kubectl delete TYPE NAME… | TYPE/NAME… | TYPE -l SEL | TYPE --all | -f FILE`.
//! Deletion is immediate (no finalizers): a Namespace takes its objects with it, a CRD its custom
//! resources; deleting a workload's pod makes the workload start replacements (new names).

use super::docs::read_sources;
use super::errors::{render as render_errs, KubeErr};
use super::pods::all_pods;
use super::resources::{for_object, resolve, ResType};
use super::selector::LabelSelector;
use super::{namespace, with_cluster, Reply};
use crate::app::Ctx;
use crate::flags::Parsed;
use crate::state::Cluster;
use crate::util::json::str_at;

struct Target {
    rt: ResType,
    ns: String,
    name: String,
    /// `Some(source)` for objects named by `-f` (errors then say `error when deleting "SRC"`).
    source: Option<String>,
}

/// Removes one object; false when there was nothing to delete.
fn remove(c: &mut Cluster, rt: &ResType, ns: &str, name: &str) -> bool {
    let ns = if rt.namespaced { ns } else { "" };
    if rt.group.is_empty() && rt.kind == "Pod" {
        if let Some(p) = all_pods(c).into_iter().find(|p| {
            p.owner.is_some()
                && str_at(&p.body, &["metadata", "namespace"]) == Some(ns)
                && str_at(&p.body, &["metadata", "name"]) == Some(name)
        }) {
            c.objects[p.owner.expect("checked")].pod_epoch += 1;
            return true;
        }
    }
    let Some(i) = c.find(&rt.group, &rt.kind, ns, name) else {
        return false;
    };
    let gone = c.objects.remove(i);
    if rt.kind == "Namespace" && rt.group.is_empty() {
        c.objects.retain(|o| o.namespace != name);
    }
    if rt.kind == "CustomResourceDefinition" {
        let group = str_at(&gone.body, &["spec", "group"]).unwrap_or("").to_string();
        let kind = str_at(&gone.body, &["spec", "names", "kind"]).unwrap_or("").to_string();
        c.objects.retain(|o| !(o.group == group && o.kind == kind));
    }
    true
}

fn delete_all(c: &mut Cluster, targets: Vec<Target>, ignore_not_found: bool, mut errors: Vec<KubeErr>) -> Reply {
    let mut reply = Reply::default();
    for t in targets {
        if remove(c, &t.rt, &t.ns, &t.name) {
            reply.out.push_str(&format!("{} \"{}\" deleted\n", t.rt.qualified_singular(), t.name));
        } else if !ignore_not_found {
            let e = KubeErr::not_found(&t.rt.qualified_plural(), &t.name);
            errors.push(match &t.source {
                Some(src) => e.with_source("deleting", src),
                None => e,
            });
        }
    }
    reply.err = render_errs(&errors);
    reply.code = i32::from(!errors.is_empty());
    reply
}

/// Targets selected by type + (names | selector | --all), resolved against the cluster.
fn select(c: &Cluster, p: &Parsed) -> Result<Vec<Target>, KubeErr> {
    let args = &p.positional;
    let ns = namespace(p);
    let all_ns = p.on("all-namespaces");
    if args.is_empty() {
        return Err(KubeErr::plain("You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'"));
    }
    if args[0].contains('/') {
        return args
            .iter()
            .map(|a| {
                let (t, n) = a.split_once('/').unwrap_or((a, ""));
                Ok(Target { rt: resolve(c, t)?, ns: ns.clone(), name: n.into(), source: None })
            })
            .collect();
    }
    let types: Vec<ResType> =
        args[0].split(',').filter(|t| !t.is_empty()).map(|t| resolve(c, t)).collect::<Result<_, _>>()?;
    let names = &args[1..];
    if !names.is_empty() {
        return Ok(types
            .iter()
            .flat_map(|rt| {
                names.iter().map(|n| Target { rt: rt.clone(), ns: ns.clone(), name: n.clone(), source: None })
            })
            .collect());
    }
    let selector = match p.get("selector") {
        Some(s) => Some(LabelSelector::parse(s)?),
        None if p.on("all") => None,
        None => return Err(KubeErr::plain("resource(s) were provided, but no name was specified")),
    };
    let pods = all_pods(c);
    let mut out = Vec::new();
    for rt in types {
        let in_scope = |o_ns: &str| !rt.namespaced || all_ns || o_ns == ns;
        let matches = |body: &serde_json::Value| selector.as_ref().is_none_or(|s| s.matches_object(body));
        if rt.group.is_empty() && rt.kind == "Pod" {
            for p in &pods {
                let pns = str_at(&p.body, &["metadata", "namespace"]).unwrap_or("");
                if in_scope(pns) && matches(&p.body) {
                    out.push(Target {
                        rt: rt.clone(),
                        ns: pns.into(),
                        name: str_at(&p.body, &["metadata", "name"]).unwrap_or("").into(),
                        source: None,
                    });
                }
            }
            continue;
        }
        for o in c
            .objects
            .iter()
            .filter(|o| o.group == rt.group && o.kind == rt.kind && in_scope(&o.namespace) && matches(&o.body))
        {
            out.push(Target { rt: rt.clone(), ns: o.namespace.clone(), name: o.name.clone(), source: None });
        }
    }
    Ok(out)
}

pub fn run(ctx: &mut Ctx, p: &Parsed, context: &str) -> i32 {
    let files: Vec<&str> = p.all("filename").into_iter().flat_map(|f| f.split(',')).filter(|f| !f.is_empty()).collect();
    let ignore = p.on("ignore-not-found");
    let docs = if files.is_empty() {
        None
    } else {
        match read_sources(&files, ctx.stdin.text(), p.on("recursive")) {
            Ok(d) => Some(d),
            Err(e) => return ctx.fail(1, &render_errs(&[e])),
        }
    };
    let default_ns = namespace(p);
    let by_selector = docs.is_none() && p.positional.len() == 1 && !p.positional[0].contains('/');
    with_cluster(ctx, context, |c| {
        let targets = match &docs {
            Some(docs) => {
                let mut targets = Vec::new();
                let mut errors = Vec::new();
                for d in docs {
                    let api_version = str_at(&d.value, &["apiVersion"]).unwrap_or("");
                    let kind = str_at(&d.value, &["kind"]).unwrap_or("");
                    let name = str_at(&d.value, &["metadata", "name"]).unwrap_or("").to_string();
                    let ns = str_at(&d.value, &["metadata", "namespace"])
                        .map(String::from)
                        .unwrap_or_else(|| default_ns.clone());
                    match for_object(c, api_version, kind) {
                        Some(rt) => targets.push(Target { rt, ns, name, source: Some(d.source.clone()) }),
                        None => errors.push(KubeErr::plain(format!(
                            "resource mapping not found for name: {name:?} namespace: {:?} from {:?}: no matches for kind {kind:?} in version {api_version:?}\nensure CRDs are installed first",
                            str_at(&d.value, &["metadata", "namespace"]).unwrap_or(""),
                            d.source
                        ))),
                    }
                }
                return delete_all(c, targets, ignore, errors);
            }
            None => match select(c, p) {
                Ok(t) => t,
                Err(e) => return Reply::fail(render_errs(&[e])),
            },
        };
        if targets.is_empty() && by_selector {
            return Reply { err: "No resources found\n".into(), ..Default::default() };
        }
        delete_all(c, targets, ignore, Vec::new())
    })
}
