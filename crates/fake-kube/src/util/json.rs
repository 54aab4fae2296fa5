//! JSON access helpers and kubectl-style printing (4-space indent, keys sorted like Go's encoder).

use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Rebuilds maps with sorted keys so output is sorted whatever serde_json's map features are.
pub fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Like kubectl's `-o json`: indented with four spaces, followed by a newline.
pub fn pretty(v: &Value) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    sorted(v).serialize(&mut ser).expect("serializing a Value cannot fail");
    let mut s = String::from_utf8(buf).expect("serde_json writes UTF-8");
    s.push('\n');
    s
}

pub fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    Some(cur)
}

pub fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path).and_then(Value::as_str)
}

/// Sets `path` to `val`, creating intermediate objects (replacing non-objects on the way).
pub fn set(v: &mut Value, path: &[&str], val: Value) {
    let mut cur = v;
    for (i, p) in path.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let m = cur.as_object_mut().expect("just made an object");
        if i + 1 == path.len() {
            m.insert((*p).to_string(), val);
            return;
        }
        cur = m.entry((*p).to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
}

/// A `map[string]string` field (labels, annotations, selectors); non-string values are skipped.
pub fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(Value::Object(m)) = v {
        for (k, val) in m {
            match val {
                Value::String(s) => {
                    out.insert(k.clone(), s.clone());
                }
                Value::Number(n) => {
                    out.insert(k.clone(), n.to_string());
                }
                Value::Bool(b) => {
                    out.insert(k.clone(), b.to_string());
                }
                _ => {}
            }
        }
    }
    out
}

pub fn map_value(m: &BTreeMap<String, String>) -> Value {
    Value::Object(m.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pretty_sorts_keys_and_indents_four() {
        let v = json!({"b": 1, "a": {"d": [1], "c": true}});
        assert_eq!(
            pretty(&v),
            "{\n    \"a\": {\n        \"c\": true,\n        \"d\": [\n            1\n        ]\n    },\n    \"b\": 1\n}\n"
        );
    }

    #[test]
    fn set_creates_intermediate_objects() {
        let mut v = json!({"metadata": {"name": "x"}});
        set(&mut v, &["metadata", "labels", "a"], json!("b"));
        assert_eq!(str_at(&v, &["metadata", "labels", "a"]), Some("b"));
        assert_eq!(str_at(&v, &["metadata", "name"]), Some("x"));
    }
}
