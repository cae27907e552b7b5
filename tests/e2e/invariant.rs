//! The one invariant every crash-safety test checks: per Quay account, the live tokens of the
//! application are exactly the tokens recorded in ApiToken statuses, one to one; every Ready
//! ApiToken's Secret holds its recorded token, live; nothing is pending or left to revoke.

use crate::env::*;
use quay_apitoken_operator::reconcile::secret::token_hash;
use quay_apitoken_operator::redacted::Redacted;
use std::collections::BTreeMap;

/// Why the invariant does not hold now, or `None` when it does.
async fn violation(env: &Env) -> Option<String> {
    let apitokens = env.tokens().list(&Default::default()).await.ok()?.items;
    let live: BTreeMap<String, String> = env
        .quay
        .tokens()
        .into_iter()
        .filter(|t| t.client_id == env.app.client_id && t.user == ADMIN)
        .map(|t| (t.uuid, t.token))
        .collect();
    let mut recorded: BTreeMap<String, String> = BTreeMap::new();
    for apitoken in &apitokens {
        let name = apitoken.metadata.name.clone().unwrap_or_default();
        let Some(status) = &apitoken.status else {
            return Some(format!("{name} has no status yet"));
        };
        if status.pending_mint.is_some() {
            return Some(format!("{name} still has a pending mint"));
        }
        if !status.replaced.is_empty() {
            return Some(format!("{name} still has replaced tokens to revoke"));
        }
        if ready(apitoken) != Some(true) {
            return Some(format!("{name} is not Ready: {}", message(apitoken)));
        }
        let Some(record) = &status.token else {
            return Some(format!("{name} records no token"));
        };
        let Some(id) = &record.id else {
            return Some(format!("{name} records a token without id"));
        };
        if let Some(other) = recorded.insert(id.clone(), name.clone()) {
            return Some(format!("{name} and {other} record the same token {id}"));
        }
        let Some(value) = live.get(id) else {
            return Some(format!("{name} records {id}, which Quay does not hold"));
        };
        let secret = status.secret_name.clone().unwrap_or_default();
        let (ns, secret_name) = secret.split_once('/').unwrap_or_default();
        let data = env.secret_data(ns, secret_name).await;
        if data.as_ref().and_then(|d| d.get("accessToken")) != Some(value) {
            return Some(format!(
                "{name}: Secret {secret} does not hold the live token {id}"
            ));
        }
        if record.token_hash.as_deref() != Some(token_hash(&Redacted::new(value.clone())).as_str())
        {
            return Some(format!("{name}: the recorded hash is not the live token's"));
        }
    }
    let untracked: Vec<&String> = live
        .keys()
        .filter(|id| !recorded.contains_key(*id))
        .collect();
    if !untracked.is_empty() {
        return Some(format!("untracked live tokens: {untracked:?}"));
    }
    None
}

/// Waits until the invariant holds (the operator converges), else panics saying what is off.
pub async fn assert_converged(env: &Env) {
    let started = std::time::Instant::now();
    loop {
        let Some(why) = violation(env).await else {
            return;
        };
        if started.elapsed() > PATIENCE {
            panic!("the invariant does not hold after {PATIENCE:?}: {why}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
