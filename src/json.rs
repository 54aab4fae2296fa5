//! Reading Kubernetes JSON (`kubectl get -o json`, parsed manifests) without a schema: a missing or
//! mistyped field reads as empty, because every caller treats "absent" and "empty" alike.

use serde_json::Value;

/// The string at a JSON pointer, or `""`.
pub fn text<'v>(value: &'v Value, pointer: &str) -> &'v str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The array at a JSON pointer, or an empty slice.
pub fn items<'v>(value: &'v Value, pointer: &str) -> &'v [Value] {
    value.pointer(pointer).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_and_mistyped_read_as_empty() {
        let value = serde_json::json!({"a": {"b": "x", "n": 1, "list": [1, 2]}});
        assert_eq!(text(&value, "/a/b"), "x");
        assert_eq!(text(&value, "/a/n"), "");
        assert_eq!(text(&value, "/missing"), "");
        assert_eq!(items(&value, "/a/list").len(), 2);
        assert!(items(&value, "/a/b").is_empty());
    }
}
