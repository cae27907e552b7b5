//! The one invariant every crash-safety test checks, for one namespace and one Quay account:
//! the account's live tokens of the application are exactly the tokens recorded in ApiToken
//! statuses, one to one; every Ready ApiToken's Secret holds its recorded token, live; nothing
//! is pending or left to revoke.

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use quay_apitoken_operator::crd::ApiToken;
use quay_apitoken_operator::reconcile::secret::token_hash;
use quay_apitoken_operator::redacted::Redacted;
use quay_emulator::Emulator;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What the invariant is checked over.
pub struct World<'a> {
    pub tokens: Api<ApiToken>,
    pub client: kube::Client,
    pub quay: &'a Emulator,
    pub client_id: &'a str,
    pub user: &'a str,
}

fn is_ready(t: &ApiToken) -> bool {
    t.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    })
}

/// Why the invariant does not hold now, or `None` when it does.
pub async fn violation(world: &World<'_>) -> Option<String> {
    let apitokens = match world.tokens.list(&Default::default()).await {
        Ok(list) => list.items,
        Err(e) => return Some(format!("cannot list ApiTokens: {e}")),
    };
    let live: BTreeMap<String, String> = world
        .quay
        .tokens()
        .into_iter()
        .filter(|t| t.client_id == world.client_id && t.user == world.user)
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
        if !is_ready(apitoken) {
            return Some(format!("{name} is not Ready: {}", status.message));
        }
        let Some(id) = status.token.as_ref().and_then(|r| r.id.clone()) else {
            return Some(format!("{name} records no token id"));
        };
        if let Some(other) = recorded.insert(id.clone(), name.clone()) {
            return Some(format!("{name} and {other} record the same token {id}"));
        }
        let Some(value) = live.get(&id) else {
            return Some(format!("{name} records {id}, which Quay does not hold"));
        };
        let secret = status.secret_name.clone().unwrap_or_default();
        let (ns, secret_name) = secret.split_once('/').unwrap_or_default();
        let held = Api::<Secret>::namespaced(world.client.clone(), ns)
            .get_opt(secret_name)
            .await
            .ok()
            .flatten()
            .and_then(|s| s.data)
            .and_then(|d| d.get("accessToken").map(|v| v.0.clone()));
        if held.as_deref() != Some(value.as_bytes()) {
            return Some(format!(
                "{name}: Secret {secret} does not hold the live token {id}"
            ));
        }
        let hash = token_hash(&Redacted::new(value.clone()));
        if status.token.as_ref().and_then(|r| r.token_hash.as_deref()) != Some(hash.as_str()) {
            return Some(format!("{name}: the recorded hash is not the live token's"));
        }
    }
    let untracked: Vec<&String> = live
        .keys()
        .filter(|id| !recorded.contains_key(*id))
        .collect();
    if !untracked.is_empty() {
        return Some(format!(
            "{} untracked live tokens: {untracked:?}",
            untracked.len()
        ));
    }
    None
}

/// Waits until the invariant holds (the operator converges), else panics saying what is off.
pub async fn assert_converged(world: &World<'_>, patience: Duration) {
    let started = Instant::now();
    loop {
        let Some(why) = violation(world).await else {
            return;
        };
        if started.elapsed() > patience {
            panic!("the invariant does not hold after {patience:?}: {why}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
