//! Python's `repr()` and `pprint.pformat(width=72)` of JSON values, which Quay's schema errors
//! (jsonschema 3.2's `str(ValidationError)`) quote. Covers what `json.loads` can produce.

mod pprint;
mod reprs;
mod text;

pub use pprint::pformat;
pub use reprs::{repr, str_repr};
pub use text::{len, strip};

#[cfg(test)]
mod tests;
