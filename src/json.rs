//! Reading Kubernetes JSON (`kubectl get -o json`, parsed manifests) without a schema: a missing or
//! mistyped field reads as empty, because every caller treats "absent" and "empty" alike.

use serde_json::Value;

/// The value at a JSON pointer (RFC 6901), exactly as [`Value::pointer`] finds it, without its two
/// allocations per token: these lookups run several times per object, for every object of a set.
pub fn pointer<'v>(value: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() {
        return Some(value);
    }
    let tokens = pointer.strip_prefix('/')?;
    tokens.split('/').try_fold(value, |target, token| {
        if token.contains('~') {
            step(target, &token.replace("~1", "/").replace("~0", "~"))
        } else {
            step(target, token)
        }
    })
}

fn step<'v>(target: &'v Value, token: &str) -> Option<&'v Value> {
    match target {
        Value::Object(map) => map.get(token),
        // As serde_json reads an array index: no sign, no leading zero.
        Value::Array(list) if !token.starts_with('+') && (!token.starts_with('0') || token.len() == 1) => {
            token.parse().ok().and_then(|index: usize| list.get(index))
        }
        _ => None,
    }
}

/// The string at a JSON pointer, or `""`.
pub fn text<'v>(value: &'v Value, pointer: &str) -> &'v str {
    self::pointer(value, pointer).and_then(Value::as_str).unwrap_or("")
}

/// The array at a JSON pointer, or an empty slice.
pub fn items<'v>(value: &'v Value, pointer: &str) -> &'v [Value] {
    self::pointer(value, pointer).and_then(Value::as_array).map_or(&[], Vec::as_slice)
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

    #[test]
    fn pointers_find_what_serde_json_finds() {
        let value = serde_json::json!({
            "a": {"b": "x", "list": [1, {"c": 2}], "": {"": 3}},
            "x/y": {"m~n": 4},
            "10": 5,
        });
        // The empty pointer, then one per space-separated word.
        let pointers = std::iter::once("").chain(
            "/ a /a /a/b /a/b/c /a/list/0 /a/list/1/c /a/list/01 /a/list/+1 /a/list/- /a/list/2 /a/list/x /a// /a/ \
             /x~1y/m~0n /x~1y/m~n /x/y /10 /a/list/18446744073709551616"
                .split_whitespace(),
        );
        for wanted in pointers {
            assert_eq!(pointer(&value, wanted), value.pointer(wanted), "{wanted:?}");
        }
    }
}
