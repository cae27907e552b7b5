//! Value parsers the subcommands' flags share: each accepts what Kubernetes or Quay would
//! accept and names the rule otherwise, so clap reports it against the flag.

use crate::crd::Right;

/// Kubernetes namespace names are DNS-1123 labels.
pub(super) fn parse_namespace(value: &str) -> Result<String, String> {
    let value = value.trim();
    if is_dns_label(value) {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not a valid namespace name (lowercase letters, digits and '-', at most 63 characters)"
        ))
    }
}

/// An empty item of the namespace list (e.g. a trailing comma) is accepted here and dropped
/// after parsing.
pub(super) fn parse_namespace_item(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        Ok(String::new())
    } else {
        parse_namespace(value)
    }
}

/// Object names (the Lease's) are DNS-1123 subdomains.
pub(super) fn parse_dns_subdomain(value: &str) -> Result<String, String> {
    let valid = !value.is_empty() && value.len() <= 253 && value.split('.').all(is_dns_label);
    if valid {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not a valid object name (lowercase DNS subdomain)"
        ))
    }
}

/// A leader-election identity: anything but blank, trimmed.
pub(super) fn parse_identity(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        Err("the identity must not be empty".to_owned())
    } else {
        Ok(value.to_owned())
    }
}

/// A filter in RUST_LOG syntax, refused here rather than at start-up.
pub(super) fn parse_log_filter(value: &str) -> Result<String, String> {
    crate::telemetry::parse_filter(value)
        .map(|_| value.to_owned())
        .map_err(|error| error.to_string())
}

/// A right as spec.rights spells it.
pub(super) fn parse_right(value: &str) -> Result<Right, String> {
    serde_json::from_value(serde_json::Value::String(value.trim().to_owned())).map_err(|_| {
        let known: Vec<&str> = Right::SCOPES
            .iter()
            .map(|r| r.as_str())
            .chain(["all"])
            .collect();
        format!("{value:?} is not a right; use {}", known.join(", "))
    })
}

/// Lowercase letters, digits and '-', alphanumeric at both ends, at most 63 characters.
fn is_dns_label(value: &str) -> bool {
    let bytes = value.as_bytes();
    let edge_ok = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    value.len() <= 63
        && edge_ok(bytes.first())
        && edge_ok(bytes.last())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}
