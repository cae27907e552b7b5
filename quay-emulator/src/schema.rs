//! The subset of JSON Schema Quay's request schemas use (object, required, string/number
//! properties with length and minimum bounds), reporting the error jsonschema 3.2's
//! `best_match` picks, worded as `str(ValidationError)`, which Quay returns as the
//! `invalid_request` detail.

use serde_json::{Map, Value, json};

use crate::pyfmt;

/// The JSON type of a property.
#[derive(Clone, Copy)]
pub enum Kind {
    String,
    Number,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Number => "number",
        }
    }

    /// jsonschema's type check (a bool is not a number).
    fn holds(self, v: &Value) -> bool {
        match self {
            Kind::String => v.is_string(),
            Kind::Number => v.is_number(),
        }
    }
}

/// A property schema.
pub struct Prop {
    pub kind: Kind,
    pub description: &'static str,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub minimum: Option<i64>,
}

impl Prop {
    /// A property of `kind` with no bounds.
    pub const fn new(kind: Kind, description: &'static str) -> Prop {
        Prop {
            kind,
            description,
            min_length: None,
            max_length: None,
            minimum: None,
        }
    }

    /// The schema as Quay declares it (for the error text; pprint sorts the keys).
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), json!(self.kind.name()));
        m.insert("description".into(), json!(self.description));
        if let Some(n) = self.min_length {
            m.insert("minLength".into(), json!(n));
        }
        if let Some(n) = self.max_length {
            m.insert("maxLength".into(), json!(n));
        }
        if let Some(n) = self.minimum {
            m.insert("minimum".into(), json!(n));
        }
        Value::Object(m)
    }

    /// The first failing validator of this property, in Quay's schema order, and its message.
    fn check(&self, v: &Value) -> Option<(&'static str, String)> {
        if !self.kind.holds(v) {
            return Some((
                "type",
                format!(
                    "{} is not of type {}",
                    pyfmt::repr(v),
                    pyfmt::str_repr(self.kind.name())
                ),
            ));
        }
        if let Value::String(s) = v {
            let n = pyfmt::len(s);
            if self.min_length.is_some_and(|min| n < min) {
                return Some(("minLength", format!("{} is too short", pyfmt::repr(v))));
            }
            if self.max_length.is_some_and(|max| n > max) {
                return Some(("maxLength", format!("{} is too long", pyfmt::repr(v))));
            }
        }
        if let (Some(min), Some(x)) = (self.minimum, v.as_f64())
            && x < min as f64
        {
            return Some((
                "minimum",
                format!("{} is less than the minimum of {min}", pyfmt::repr(v)),
            ));
        }
        None
    }
}

/// An object schema: `{"type": "object", "description", "required", "properties"}`.
pub struct ObjectSchema {
    pub description: &'static str,
    pub required: &'static [&'static str],
    pub properties: &'static [(&'static str, Prop)],
}

impl ObjectSchema {
    fn to_value(&self) -> Value {
        let props: Map<String, Value> = self
            .properties
            .iter()
            .map(|(k, p)| (k.to_string(), p.to_value()))
            .collect();
        json!({"type": "object", "description": self.description,
               "required": self.required, "properties": props})
    }

    /// `jsonschema.validate(instance, schema)`: `Err` carries `str()` of the best-matching error.
    pub fn validate(&self, instance: &Value) -> Result<(), String> {
        let Value::Object(map) = instance else {
            let message = format!("{} is not of type 'object'", pyfmt::repr(instance));
            return Err(render(&message, "type", "", &self.to_value(), "", instance));
        };
        // Errors at the top (missing properties) beat errors inside properties; the first wins.
        if let Some(missing) = self.required.iter().find(|k| !map.contains_key(**k)) {
            let message = format!("{} is a required property", pyfmt::str_repr(missing));
            return Err(render(
                &message,
                "required",
                "",
                &self.to_value(),
                "",
                instance,
            ));
        }
        for (name, prop) in self.properties {
            let Some(v) = map.get(*name) else { continue };
            if let Some((validator, message)) = prop.check(v) {
                let key = pyfmt::str_repr(name);
                return Err(render(
                    &message,
                    validator,
                    &format!("['properties'][{key}]"),
                    &prop.to_value(),
                    &format!("[{key}]"),
                    v,
                ));
            }
        }
        Ok(())
    }
}

/// `str(ValidationError)` of jsonschema 3.2: the first line as Quay words it (the one a client
/// reads), then the failing schema and instance as Python's `repr()`, where jsonschema wraps
/// long ones with `pprint` (the replay tests compare first lines only).
fn render(
    message: &str,
    validator: &str,
    schema_path: &str,
    schema: &Value,
    instance_path: &str,
    instance: &Value,
) -> String {
    format!(
        "{message}\n\nFailed validating {} in schema{schema_path}:\n    {}\n\nOn instance{instance_path}:\n    {}",
        pyfmt::str_repr(validator),
        pyfmt::repr(schema),
        pyfmt::repr(instance),
    )
}
