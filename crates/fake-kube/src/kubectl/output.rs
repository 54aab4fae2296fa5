//! kubectl output formats for objects: `-o json` (an object, or a List of several), `-o yaml`,
//! `-o name` (`deployment.apps/web`), and a minimal NAME table when no format is given.

use super::errors::KubeErr;
use super::resources::ResType;
use crate::util::json::pretty;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Json,
    Yaml,
    Name,
    Table,
}

pub fn parse_format(s: Option<&str>) -> Result<Format, KubeErr> {
    match s.unwrap_or("") {
        "json" => Ok(Format::Json),
        "yaml" => Ok(Format::Yaml),
        "name" => Ok(Format::Name),
        "" | "wide" => Ok(Format::Table),
        other if ["jsonpath", "go-template", "custom-columns", "template", "jsonpath-as-json"].iter().any(|p| other.starts_with(p)) => {
            Err(KubeErr::plain(format!("fake-kube: output format {other:?} is not simulated; use -o json")))
        }
        other => Err(KubeErr::plain(format!(
            "unable to match a printer suitable for the output format \"{other}\", allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml"
        ))),
    }
}

pub fn list(items: Vec<Value>) -> Value {
    json!({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}})
}

pub fn name_of(rt: &ResType, obj: &Value) -> String {
    format!("{}/{}", rt.qualified_singular(), obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or(""))
}

/// Prints objects; `single` means one object was asked for by name (printed bare, not in a List).
pub fn render(items: &[(ResType, Value)], single: bool, format: Format, with_namespace: bool) -> String {
    match format {
        Format::Json | Format::Yaml => {
            let v = if single && items.len() == 1 {
                items[0].1.clone()
            } else {
                list(items.iter().map(|(_, v)| v.clone()).collect())
            };
            if format == Format::Json {
                pretty(&v)
            } else {
                serde_yaml::to_string(&crate::util::json::sorted(&v)).unwrap_or_default()
            }
        }
        Format::Name => items.iter().map(|(rt, v)| format!("{}\n", name_of(rt, v))).collect(),
        Format::Table => {
            if items.is_empty() {
                return String::new();
            }
            let rows: Vec<(String, String)> = items
                .iter()
                .map(|(_, v)| {
                    let ns = v.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("").to_string();
                    (ns, v.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string())
                })
                .collect();
            if with_namespace {
                let w = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0).max("NAMESPACE".len()) + 3;
                let mut out = format!("{:<w$}NAME\n", "NAMESPACE");
                for (ns, name) in rows {
                    out.push_str(&format!("{ns:<w$}{name}\n"));
                }
                out
            } else {
                std::iter::once("NAME".to_string()).chain(rows.into_iter().map(|(_, n)| n)).map(|l| l + "\n").collect()
            }
        }
    }
}
