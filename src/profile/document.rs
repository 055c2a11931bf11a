//! The profile file as written: TOML, or JSON of the same shape read with
//! duplicate keys refused (as TOML refuses them), into one JSON value the
//! validator walks.

use serde_json::Value;

use crate::error::{Error, Problem, Problems, Result};

/// A profile file's one problem that stops validation (it cannot be read).
pub(super) fn invalid(source: &str, message: String) -> Error {
    Error::Invalid(Problems {
        source: format!("profile {source}"),
        problems: vec![Problem {
            path: String::new(),
            message,
        }],
    })
}

pub(super) fn parse_document(text: &str, is_json: bool, source: &str) -> Result<Value> {
    if is_json {
        // TOML refuses a key written twice; JSON profiles do the same
        // rather than let the last one win silently.
        let strict: StrictJson = serde_json::from_str(text)
            .map_err(|e| invalid(source, format!("not valid JSON: {e}")))?;
        Ok(strict.0)
    } else {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| invalid(source, format!("not valid TOML: {e}")))?;
        serde_json::to_value(table)
            .map_err(|e| invalid(source, format!("unsupported TOML value: {e}")))
    }
}

/// A JSON value read with duplicate keys refused.
struct StrictJson(Value);

impl<'de> serde::Deserialize<'de> for StrictJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = StrictJson;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<StrictJson, E> {
                Ok(StrictJson(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<StrictJson, E> {
                Ok(StrictJson(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<StrictJson, E> {
                Ok(StrictJson(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<StrictJson, E> {
                Ok(StrictJson(
                    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
                ))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<StrictJson, E> {
                Ok(StrictJson(Value::String(v.to_string())))
            }
            fn visit_unit<E>(self) -> std::result::Result<StrictJson, E> {
                Ok(StrictJson(Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<StrictJson, A::Error> {
                let mut items = Vec::new();
                while let Some(StrictJson(v)) = seq.next_element()? {
                    items.push(v);
                }
                Ok(StrictJson(Value::Array(items)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<StrictJson, A::Error> {
                let mut object = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    if object.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!(
                            "key {key:?} appears twice"
                        )));
                    }
                    let StrictJson(v) = map.next_value()?;
                    object.insert(key, v);
                }
                Ok(StrictJson(Value::Object(object)))
            }
        }
        d.deserialize_any(Visitor)
    }
}
