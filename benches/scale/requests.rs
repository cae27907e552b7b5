//! Requests counted: the API server's own counters, and which Quay and Kubernetes requests
//! are mints, lists and the operator's writes.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::support;

/// Writes trail Ready (events, the result Secret's own watch event): counted before reading.
pub const SETTLE: Duration = Duration::from_secs(3);

/// A request that mints a token, on either flavour.
pub fn is_mint(endpoint: &str) -> bool {
    endpoint == "POST /api/v1/organization/{org}/applications/{client_id}/tokens"
        || endpoint == "POST /oauth/authorizeapp"
}

/// A page of the account's tokens (token API) or authorizations (web flow).
pub fn is_list(endpoint: &str) -> bool {
    endpoint == "GET /api/v1/organization/{org}/applications/{client_id}/tokens"
        || endpoint == "GET /api/v1/user/authorizations"
}

/// `apiserver_request_total` summed per "VERB resource[/subresource]", from the API server's
/// own /metrics.
pub fn apiserver_requests() -> BTreeMap<String, u64> {
    let (ok, out, err) = support::kubectl(&["get", "--raw", "/metrics"]);
    assert!(ok, "kubectl get --raw /metrics failed: {err}");
    let mut counts = BTreeMap::new();
    for line in out.lines() {
        let Some(rest) = line.strip_prefix("apiserver_request_total{") else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once("} ") else {
            continue;
        };
        let label = |key: &str| {
            labels
                .split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{key}=\"")))
                .map(|v| v.trim_end_matches('"').to_owned())
                .unwrap_or_default()
        };
        let mut resource = label("resource");
        let sub = label("subresource");
        if !sub.is_empty() {
            resource = format!("{resource}/{sub}");
        }
        let value = value.trim().parse::<f64>().unwrap_or(0.0) as u64;
        *counts
            .entry(format!("{} {resource}", label("verb")))
            .or_insert(0) += value;
    }
    counts
}

/// What grew between two readings, per key; keys that did not grow are left out.
pub fn diff(
    after: &BTreeMap<String, u64>,
    before: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v.saturating_sub(*before.get(k).unwrap_or(&0))))
        .filter(|(_, v)| *v > 0)
        .collect()
}

/// Whether a "VERB resource" key is a write.
pub fn is_write(verb_resource: &str) -> bool {
    let verb = verb_resource.split(' ').next().unwrap_or_default();
    matches!(
        verb,
        "POST" | "PUT" | "PATCH" | "APPLY" | "DELETE" | "DELETECOLLECTION"
    )
}

/// Resources the operator writes; other writes in the window are the control plane's own.
pub fn is_operators(verb_resource: &str) -> bool {
    let resource = verb_resource.split(' ').nth(1).unwrap_or_default();
    let base = resource.split('/').next().unwrap_or_default();
    matches!(base, "apitokens" | "secrets" | "events")
}
