//! The API server's own request counters, and which of them are the operator's writes.

use std::collections::BTreeMap;
use std::path::Path;

use crate::plan::Result;

/// `apiserver_request_total` summed per "VERB resource[/subresource]", from the API server's
/// own /metrics (read with the control plane's kubectl).
pub fn apiserver_requests(kubeconfig: &Path) -> Result<BTreeMap<String, u64>> {
    let kubectl = quay_testenv::bin_dir()?.join("kubectl");
    let out = std::process::Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["get", "--raw", "/metrics"])
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "kubectl get --raw /metrics failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let mut counts = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
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
                .map(|v| v.trim_end_matches('"').to_string())
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
    Ok(counts)
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
        "POST" | "PUT" | "PATCH" | "APPLY" | "DELETE" | "DELETECOLLECTION" | "CREATE" | "UPDATE"
    )
}

/// Resources the operator writes; other writes in the window are the control plane's own
/// (its identity Lease renewals, for instance).
pub fn is_operators(verb_resource: &str) -> bool {
    let resource = verb_resource.split(' ').nth(1).unwrap_or_default();
    let base = resource.split('/').next().unwrap_or_default();
    matches!(base, "apitokens" | "secrets" | "events")
}
