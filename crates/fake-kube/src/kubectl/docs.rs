//! Reading manifests for `apply -f` / `delete -f`: stdin (`-`), files and directories; multi-document
//! YAML or JSON; `kind: List` flattened. Error texts follow kubectl's.

use super::errors::KubeErr;
use serde_json::Value;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct Doc {
    pub value: Value,
    /// `STDIN` or the file path, as kubectl names sources in errors.
    pub source: String,
}

fn flatten(v: Value, source: &str, out: &mut Vec<Doc>) {
    let is_list = v.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List"))
        && v.get("items").is_some_and(Value::is_array);
    if is_list {
        for item in v["items"].as_array().cloned().unwrap_or_default() {
            flatten(item, source, out);
        }
    } else {
        out.push(Doc { value: v, source: source.into() });
    }
}

fn validate(v: &Value, source: &str) -> Result<(), KubeErr> {
    let mut missing = Vec::new();
    if v.get("apiVersion").and_then(Value::as_str).unwrap_or("").is_empty() {
        missing.push("apiVersion not set");
    }
    if v.get("kind").and_then(Value::as_str).unwrap_or("").is_empty() {
        missing.push("kind not set");
    }
    if missing.is_empty() {
        return Ok(());
    }
    let what = if missing.len() == 1 { missing[0].to_string() } else { format!("[{}]", missing.join(", ")) };
    Err(KubeErr::plain(format!(
        "error validating \"{source}\": error validating data: {what}; if you choose to ignore these errors, turn validation off with --validate=false"
    )))
}

/// Parses every document of `text`; empty documents are skipped.
pub fn parse_text(text: &str, source: &str) -> Result<Vec<Doc>, KubeErr> {
    let mut out = Vec::new();
    for de in serde_yaml::Deserializer::from_str(text) {
        let y = <serde_yaml::Value as serde::Deserialize>::deserialize(de)
            .map_err(|e| KubeErr::plain(format!("error parsing {source}: error converting YAML to JSON: yaml: {e}")))?;
        if y.is_null() {
            continue;
        }
        let v: Value = serde_json::to_value(&y).map_err(|e| KubeErr::plain(format!("error parsing {source}: {e}")))?;
        if !v.is_object() {
            return Err(KubeErr::plain(format!(
                "error parsing {source}: error converting YAML to JSON: yaml: expected a mapping"
            )));
        }
        validate(&v, source)?;
        flatten(v, source, &mut out);
    }
    Ok(out)
}

fn is_manifest(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
}

fn read_dir(dir: &Path, recursive: bool, out: &mut Vec<Doc>) -> Result<(), KubeErr> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| KubeErr::plain(e.to_string()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if recursive {
                read_dir(&p, recursive, out)?;
            }
        } else if is_manifest(&p) {
            read_file(&p, out)?;
        }
    }
    Ok(())
}

fn read_file(p: &Path, out: &mut Vec<Doc>) -> Result<(), KubeErr> {
    let text = std::fs::read_to_string(p).map_err(|e| KubeErr::plain(e.to_string()))?;
    out.extend(parse_text(&text, &p.display().to_string())?);
    Ok(())
}

/// Every object named by the `-f` values, in order.
pub fn read_sources(files: &[&str], stdin: &str, recursive: bool) -> Result<Vec<Doc>, KubeErr> {
    let mut out = Vec::new();
    for f in files {
        if *f == "-" {
            out.extend(parse_text(stdin, "STDIN")?);
            continue;
        }
        let p = Path::new(f);
        if p.is_dir() {
            read_dir(p, recursive, &mut out)?;
        } else if p.is_file() {
            read_file(p, &mut out)?;
        } else {
            return Err(KubeErr::plain(format!("the path \"{f}\" does not exist")));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_multi_doc_yaml_json_and_lists() {
        let text = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\n{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}]}\n";
        let docs = parse_text(text, "STDIN").unwrap();
        let kinds: Vec<&str> = docs.iter().map(|d| d.value["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, vec!["Namespace", "ConfigMap"]);
    }

    #[test]
    fn reports_missing_kind_and_bad_paths() {
        let e = parse_text("apiVersion: v1\nmetadata: {name: a}\n", "STDIN").unwrap_err();
        assert_eq!(e, KubeErr::plain("error validating \"STDIN\": error validating data: kind not set; if you choose to ignore these errors, turn validation off with --validate=false"));
        assert_eq!(
            read_sources(&["/no/such/file.yaml"], "", false).unwrap_err(),
            KubeErr::plain("the path \"/no/such/file.yaml\" does not exist")
        );
        assert!(
            matches!(parse_text("a: [", "STDIN").unwrap_err(), KubeErr::Plain(m) if m.starts_with("error parsing STDIN: error converting YAML to JSON"))
        );
    }
}
