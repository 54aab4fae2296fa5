//! One YAML document read straight into the JSON value ohdev works on, for the documents where that
//! is certain to give what the general path gives (`serde_yaml::Value`, `apply_merge`, then
//! `serde_json::to_value`).
//!
//! Why: a manifest set can hold 100,000 objects. The general path builds every document twice (a
//! YAML value, then its JSON copy) and frees the first; reading straight into JSON builds it once.
//! The direct reader sees exactly the calls the general path's visitor sees (both ask serde_yaml's
//! deserializer for `deserialize_any`) and maps each the same way; whatever the general path treats
//! specially makes it give up instead: merge keys (`<<`), tags other than YAML's own (`!!str` …), keys
//! that are not strings, a key set twice, and every error. The caller then takes the general path, which
//! also words the errors.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Value};

/// Why a document could not be read: serde_yaml's error (with its position, for the caller to word),
/// or a merge key or mapping key JSON cannot have (no position).
pub(super) enum ReadError {
    Yaml(serde_yaml::Error),
    Other(String),
}

/// One document's text as JSON: directly when that is certain to give the same value, else the
/// general way.
pub(super) fn read(text: &str) -> Result<Value, ReadError> {
    match direct(text) {
        Some(value) => Ok(value),
        None => general(text),
    }
}

/// The document as JSON, or `None` when the general path must read it (see the module comment).
fn direct(text: &str) -> Option<Value> {
    serde_yaml::from_str::<Direct>(text).ok().map(|direct| direct.0)
}

/// Any document serde_yaml reads, merge keys applied, then as JSON.
fn general(text: &str) -> Result<Value, ReadError> {
    let mut yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(ReadError::Yaml)?;
    yaml.apply_merge().map_err(|error| ReadError::Other(error.to_string()))?;
    serde_json::to_value(&yaml).map_err(|error| ReadError::Other(error.to_string()))
}

struct Direct(Value);

impl<'de> de::Deserialize<'de> for Direct {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DirectVisitor).map(Direct)
    }
}

/// As `serde_yaml::Value`'s visitor, then `serde_json::to_value`; the calls it does not take
/// (`visit_enum` for a tag …) are refused by serde's defaults.
struct DirectVisitor;

impl<'de> Visitor<'de> for DirectVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("YAML with string keys, no tags and no merge keys")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    /// NaN and the infinities become null, as `serde_json::to_value` writes them.
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(access.size_hint().unwrap_or(0).min(1024));
        while let Some(Direct(item)) = access.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key_seed(StringKey)? {
            if key == "<<" {
                return Err(de::Error::custom("a merge key: read by the general path"));
            }
            match map.entry(key) {
                Entry::Vacant(vacant) => {
                    let Direct(value) = access.next_value()?;
                    vacant.insert(value);
                }
                Entry::Occupied(_) => return Err(de::Error::custom("a key set twice: read by the general path")),
            }
        }
        Ok(Value::Object(map))
    }
}

/// A mapping key that is a plain string; any other key is refused.
struct StringKey;

impl<'de> DeserializeSeed<'de> for StringKey {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StringKey {
    type Value = String;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
        Ok(value.to_owned())
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<String, E> {
        Ok(value)
    }
}

#[cfg(test)]
#[path = "yaml_tests.rs"]
mod tests;
