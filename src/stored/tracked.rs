//! Deserializing from a JSON value while noting where it failed, so that an error can name the
//! field (`spec.rights[1]`) rather than only what serde expected there.

use serde::de::value::StrDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess,
    Visitor,
};
use serde_json::Value;
use std::cell::RefCell;

/// Why a value does not deserialize: where (empty for the whole value) and serde's complaint.
#[derive(Debug)]
pub struct Failure {
    /// Dotted path of the innermost field that failed, e.g. `spec.rights[1]`.
    pub path: String,
    /// What serde said about it.
    pub error: serde_json::Error,
}

/// Deserializes `value` into `T`; on failure, says which field serde complained about.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, Failure> {
    let failed_at = RefCell::new(None);
    let at = Tracked {
        value,
        path: Path::Root,
        failed_at: &failed_at,
    };
    T::deserialize(at).map_err(|error| Failure {
        path: failed_at.into_inner().unwrap_or_default(),
        error,
    })
}

/// Where a value sits, as a chain back to the root; rendered only when something failed.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Key(parent, key) => match parent.render() {
                up if up.is_empty() => (*key).to_string(),
                up => format!("{up}.{key}"),
            },
            Path::Index(parent, index) => format!("{}[{index}]", parent.render()),
        }
    }
}

/// Notes the first (innermost) failing path: errors travel outwards, so the first to see one
/// is the deepest field.
fn note(failed_at: &RefCell<Option<String>>, path: &Path<'_>) {
    let mut slot = failed_at.borrow_mut();
    if slot.is_none() {
        *slot = Some(path.render());
    }
}

/// A deserializer over a borrowed value that records where an error arose.
struct Tracked<'a> {
    value: &'a Value,
    path: Path<'a>,
    failed_at: &'a RefCell<Option<String>>,
}

impl<'de> Deserializer<'de> for Tracked<'_> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => n.clone().deserialize_any(visitor),
            Value::String(s) => visitor.visit_str(s),
            Value::Array(items) => visitor.visit_seq(Seq {
                items: items.iter().enumerate(),
                path: self.path,
                failed_at: self.failed_at,
            }),
            Value::Object(map) => visitor.visit_map(Map {
                entries: map.iter(),
                pending: None,
                path: self.path,
                failed_at: self.failed_at,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::String(s) => {
                let variant: StrDeserializer<'_, serde_json::Error> =
                    s.as_str().into_deserializer();
                visitor.visit_enum(variant)
            }
            // Enums with content are rare here; serde_json's own errors name the variant.
            other => other.clone().deserialize_enum(name, variants, visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

struct Map<'a> {
    entries: serde_json::map::Iter<'a>,
    pending: Option<(&'a str, &'a Value)>,
    path: Path<'a>,
    failed_at: &'a RefCell<Option<String>>,
}

impl<'de> MapAccess<'de> for Map<'_> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some((key.as_str(), value));
        let name: StrDeserializer<'_, serde_json::Error> = key.as_str().into_deserializer();
        seed.deserialize(name).map(Some).inspect_err(|_| {
            note(self.failed_at, &Path::Key(&self.path, key));
        })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let Some((key, value)) = self.pending.take() else {
            return Err(de::Error::custom(
                "a map value was asked for before its key",
            ));
        };
        let path = Path::Key(&self.path, key);
        seed.deserialize(Tracked {
            value,
            path,
            failed_at: self.failed_at,
        })
        .inspect_err(|_| note(self.failed_at, &path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct Seq<'a> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Value>>,
    path: Path<'a>,
    failed_at: &'a RefCell<Option<String>>,
}

impl<'de> SeqAccess<'de> for Seq<'_> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        let Some((index, value)) = self.items.next() else {
            return Ok(None);
        };
        let path = Path::Index(&self.path, index);
        seed.deserialize(Tracked {
            value,
            path,
            failed_at: self.failed_at,
        })
        .map(Some)
        .inspect_err(|_| note(self.failed_at, &path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Outer {
        spec: Inner,
        #[serde(default)]
        note: Option<String>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Inner {
        #[serde(default)]
        flag: bool,
        #[serde(default)]
        rights: Vec<Right>,
        count: Option<i64>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    enum Right {
        #[serde(rename = "repo:read")]
        Read,
    }

    #[test]
    fn a_valid_value_deserializes_as_serde_json_would() {
        let v = json!({"spec": {"flag": true, "rights": ["repo:read"], "count": 3}, "note": null});
        let ours: Outer = from_value(&v).unwrap();
        assert_eq!(ours, serde_json::from_value::<Outer>(v).unwrap());
    }

    #[test]
    fn a_wrong_type_names_its_field() {
        let v = json!({"spec": {"flag": "yes"}});
        let failure = from_value::<Outer>(&v).unwrap_err();
        assert_eq!(failure.path, "spec.flag");
        assert!(failure.error.to_string().contains("expected a boolean"));
    }

    #[test]
    fn an_unknown_variant_names_its_index() {
        let v = json!({"spec": {"rights": ["repo:read", "repo:fly"]}});
        let failure = from_value::<Outer>(&v).unwrap_err();
        assert_eq!(failure.path, "spec.rights[1]");
        assert!(
            failure
                .error
                .to_string()
                .contains("unknown variant `repo:fly`")
        );
    }

    #[test]
    fn a_missing_field_names_the_object_lacking_it() {
        let failure = from_value::<Outer>(&json!({"note": "x"})).unwrap_err();
        assert_eq!(failure.path, "");
        assert!(failure.error.to_string().contains("missing field `spec`"));
        let failure = from_value::<Outer>(&json!({"spec": {"count": 1.5}})).unwrap_err();
        assert_eq!(failure.path, "spec.count");
    }
}
