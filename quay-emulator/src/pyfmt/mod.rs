//! Python's `repr()` of JSON values and the few `str` methods that the first line of Quay's
//! schema errors (jsonschema 3.2's `str(ValidationError)`) depends on. Covers what `json.loads`
//! can produce.

mod reprs;
mod text;

pub use reprs::{repr, str_repr};
pub use text::{len, strip};

#[cfg(test)]
mod tests;
