//! `kubectl api-resources [--api-group=G] [--namespaced=B] [-o name|wide] [--no-headers]`: the
//! built-in types plus the kinds of established CRDs — how ohdev learns a CRD is served.
//! Sorted like kubectl (by group, then name); `-o name` prints `plural.group` (`plural` for core).

use super::resources::{all_types, ResType};
use super::{with_cluster, Reply};
use crate::app::Ctx;
use crate::flags::Parsed;

fn table(types: &[ResType], headers: bool) -> String {
    let rows: Vec<[String; 5]> = types
        .iter()
        .map(|t| [t.plural.clone(), t.short.join(","), t.api_version(), t.namespaced.to_string(), t.kind.clone()])
        .collect();
    let head = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"].map(String::from);
    let all: Vec<&[String; 5]> =
        if headers { std::iter::once(&head).chain(rows.iter()).collect() } else { rows.iter().collect() };
    let widths: Vec<usize> = (0..5).map(|i| all.iter().map(|r| r[i].len()).max().unwrap_or(0) + 3).collect();
    all.iter()
        .map(|r| format!("{}{}\n", (0..4).map(|i| format!("{:<w$}", r[i], w = widths[i])).collect::<String>(), r[4]))
        .collect()
}

pub fn run(ctx: &mut Ctx, p: &Parsed, context: &str) -> i32 {
    let group = p.get("api-group").map(String::from);
    let namespaced = match p.get("namespaced").map(str::parse::<bool>) {
        None => None,
        Some(Ok(b)) => Some(b),
        Some(Err(_)) => return ctx.fail(1, "error: invalid argument for --namespaced"),
    };
    let output = p.get("output").unwrap_or("").to_string();
    if !["", "name", "wide"].contains(&output.as_str()) {
        return ctx.fail(1, &format!("error: --output {output} is not available"));
    }
    let headers = !p.on("no-headers");
    with_cluster(ctx, context, |c| {
        let mut types: Vec<ResType> = all_types(c)
            .into_iter()
            .filter(|t| group.as_ref().is_none_or(|g| &t.group == g) && namespaced.is_none_or(|n| t.namespaced == n))
            .collect();
        types.sort_by(|a, b| (a.group.as_str(), a.plural.as_str()).cmp(&(b.group.as_str(), b.plural.as_str())));
        types.dedup_by(|a, b| a.group == b.group && a.plural == b.plural);
        let out =
            if output == "name" {
                types
                    .iter()
                    .map(|t| {
                        if t.group.is_empty() {
                            format!("{}\n", t.plural)
                        } else {
                            format!("{}.{}\n", t.plural, t.group)
                        }
                    })
                    .collect()
            } else {
                table(&types, headers)
            };
        Reply { out, ..Default::default() }
    })
}
