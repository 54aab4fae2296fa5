//! `kubectl apply -f … [--server-side --field-manager=M --force-conflicts] [-o json]`.
//! Like kubectl: all objects are mapped first (an unknown kind, e.g. a custom resource whose CRD
//! is not established yet, fails with "resource mapping not found" and is skipped), then applied
//! in order; a rejected object does not stop the ones after it; any error means exit 1.

use super::docs::{read_sources, Doc};
use super::errors::{render as render_errs, KubeErr};
use super::output::{name_of, parse_format, render, Format};
use super::pods::all_pods;
use super::resources::{for_object, ResType};
use super::status::render as render_obj;
use super::{admission, store, with_cluster, Reply};
use crate::app::Ctx;
use crate::flags::Parsed;
use crate::state::Cluster;
use crate::util::json::str_at;

struct Options {
    server_side: bool,
    manager: String,
    dry_run: bool,
    format: Format,
    namespace: Option<String>,
}

fn apply_all(c: &mut Cluster, docs: Vec<Doc>, o: &Options) -> Reply {
    let mut errors = Vec::new();
    let mut mapped: Vec<(ResType, String, Doc)> = Vec::new();
    for d in docs {
        let api_version = str_at(&d.value, &["apiVersion"]).unwrap_or("").to_string();
        let kind = str_at(&d.value, &["kind"]).unwrap_or("").to_string();
        let name = str_at(&d.value, &["metadata", "name"]).unwrap_or("").to_string();
        let obj_ns = str_at(&d.value, &["metadata", "namespace"]).unwrap_or("").to_string();
        let Some(rt) = for_object(c, &api_version, &kind) else {
            errors.push(KubeErr::plain(format!(
                "resource mapping not found for name: {name:?} namespace: {obj_ns:?} from {:?}: no matches for kind {kind:?} in version {api_version:?}\nensure CRDs are installed first",
                d.source
            )));
            continue;
        };
        let ns = if !rt.namespaced {
            String::new()
        } else {
            match (&o.namespace, obj_ns.as_str()) {
                (Some(flag), obj) if !obj.is_empty() && obj != flag => {
                    errors.push(KubeErr::plain(format!(
                        "the namespace from the provided object \"{obj}\" does not match the namespace \"{flag}\". You must pass '--namespace={obj}' to perform this operation."
                    )));
                    continue;
                }
                (_, obj) if !obj.is_empty() => obj.to_string(),
                (Some(flag), _) => flag.clone(),
                (None, _) => "default".to_string(),
            }
        };
        mapped.push((rt, ns, d));
    }
    let mut out = String::new();
    let mut applied = Vec::new();
    for (rt, ns, d) in mapped {
        if str_at(&d.value, &["metadata", "name"]).unwrap_or("").is_empty() {
            errors.push(KubeErr::plain("resource name may not be empty"));
            continue;
        }
        let pods = all_pods(c);
        if let Err(e) = admission::check(c, &rt, &ns, &d.value, &pods) {
            errors.push(if o.server_side { e } else { e.with_source("creating", &d.source) });
            continue;
        }
        let label = name_of(&rt, &d.value);
        if o.dry_run {
            out.push_str(&format!(
                "{label} {} (server dry run)\n",
                if o.server_side { "serverside-applied" } else { "configured" }
            ));
            continue;
        }
        let up = store::upsert(c, &rt, &ns, d.value, &o.manager);
        let verb = match (o.server_side, up.created, up.changed) {
            (true, _, _) => "serverside-applied",
            (false, true, _) => "created",
            (false, false, true) => "configured",
            (false, false, false) => "unchanged",
        };
        if matches!(o.format, Format::Table | Format::Name) {
            out.push_str(&format!("{label} {verb}\n"));
        }
        applied.push((rt, up.index));
    }
    if errors.is_empty() && matches!(o.format, Format::Json | Format::Yaml) {
        let pods = all_pods(c);
        let objs: Vec<(ResType, serde_json::Value)> =
            applied.into_iter().map(|(rt, i)| (rt, render_obj(c, i, &pods))).collect();
        out.push_str(&render(&objs, objs.len() == 1, o.format, false));
    }
    Reply { out, err: render_errs(&errors), code: i32::from(!errors.is_empty()) }
}

pub fn run(ctx: &mut Ctx, p: &Parsed, context: &str) -> i32 {
    let files: Vec<&str> = p.all("filename").into_iter().flat_map(|f| f.split(',')).filter(|f| !f.is_empty()).collect();
    if p.has("kustomize") || p.on("prune") {
        return ctx.fail(1, "error: fake-kube: apply -k / --prune is not simulated");
    }
    if files.is_empty() {
        return ctx.fail(1, "error: must specify one of -f and -k");
    }
    let server_side = p.on("server-side");
    if p.on("force-conflicts") && !server_side {
        return ctx.fail(1, "error: --force-conflicts only works with --server-side");
    }
    let dry_run = match p.get("dry-run").unwrap_or("none") {
        "none" | "false" => false,
        "server" => true,
        "client" if server_side => {
            return ctx.fail(
                1,
                "error: --dry-run=client doesn't work with --server-side (did you mean --dry-run=server instead?)",
            )
        }
        "client" => return ctx.fail(1, "error: fake-kube: --dry-run=client is not simulated"),
        other => {
            return ctx.fail(
                1,
                &format!("error: Invalid dry-run value ({other}). Must be \"none\", \"server\", or \"client\"."),
            )
        }
    };
    let format = match parse_format(p.get("output")) {
        Ok(f) => f,
        Err(e) => return ctx.fail(1, &render_errs(&[e])),
    };
    let docs = match read_sources(&files, ctx.stdin.text(), p.on("recursive")) {
        Ok(d) if d.is_empty() => return ctx.fail(1, "error: no objects passed to apply"),
        Ok(d) => d,
        Err(e) => return ctx.fail(1, &render_errs(&[e])),
    };
    let manager = p.get("field-manager").map(String::from).unwrap_or_else(|| {
        if server_side {
            "kubectl".into()
        } else {
            "kubectl-client-side-apply".into()
        }
    });
    let opts = Options {
        server_side,
        manager,
        dry_run,
        format,
        namespace: p.get("namespace").filter(|n| !n.is_empty()).map(String::from),
    };
    with_cluster(ctx, context, |c| apply_all(c, docs, &opts))
}
