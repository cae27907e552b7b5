//! One live, tracked token per ApiToken across the crash windows of a mint (issue: "one live
//! token"). Each test leaves the state a crash at one step leaves (status as written so far,
//! Quay as it answered), restarts the controller with fresh memory, and checks the invariant:
//! the Secret's token is live and recorded, and no other token of the account is live.

use crate::env::*;
use kube::ResourceExt;
use kube::api::{DeleteParams, Patch, PatchParams};
use quay_apitoken_operator::reconcile::secret::token_hash;
use serde_json::json;

fn web_flow() -> Options {
    Options {
        token_api: false,
        ..Options::default()
    }
}

/// The invariant for one ApiToken that is alone on its account: Ready, its Secret's token is
/// the recorded one, live, and the only live token.
async fn assert_one_live_tracked(env: &Env, name: &str, secret: &str) -> String {
    let token = env
        .wait_token(name, "Ready with nothing left to revoke", |t| {
            ready(t) == Some(true)
                && t.status
                    .as_ref()
                    .is_some_and(|s| s.pending_mint.is_none() && s.replaced.is_empty())
        })
        .await;
    let id = token_id(&token).unwrap();
    let live = env.wait_only_live(&id).await;
    let data = env.secret_data(&env.ns.name, secret).await.unwrap();
    assert_eq!(
        data["accessToken"], live.token,
        "the Secret holds the live token"
    );
    let record = token.status.unwrap().token.unwrap();
    assert_eq!(
        record.token_hash.as_deref(),
        Some(
            token_hash(&quay_apitoken_operator::redacted::Redacted::new(
                live.token.clone()
            ))
            .as_str()
        )
    );
    id
}

/// Crash after the record write and before the Secret write: status records a new token the
/// Secret never got, and the old one as replaced. Both are revoked; a third holds the Secret.
async fn crash_between_record_and_secret(options: Options, prefix: &str) {
    crate::capture::install();
    let mut env = Env::start_with(prefix, options).await;
    env.create_token(env.apitoken("rec")).await;
    let ready_token = env.wait_ready("rec").await;
    let old = ready_token.status.clone().unwrap().token.unwrap();
    env.stop_operator().await;

    let unseen = env.mint_directly("k8s:unseen").await;
    let mut new_record = old.clone();
    new_record.id = Some(unseen.id.clone());
    new_record.token_hash = Some(token_hash(&unseen.token));
    let patch = json!({"status": {
        "token": serde_json::to_value(&new_record).unwrap(),
        "replaced": [serde_json::to_value(&old).unwrap()],
    }});
    env.tokens()
        .patch_status("rec", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    assert_eq!(env.quay.tokens().len(), 2);

    env.start_operator().await;
    let id = assert_one_live_tracked(&env, "rec", "rec").await;
    assert_ne!(Some(&id), old.id.as_ref());
    assert_ne!(id, unseen.id);
}

#[tokio::test]
async fn crash_between_record_and_secret_token_api() {
    crash_between_record_and_secret(Options::default(), "e2e-cw-rec-api").await;
}

#[tokio::test]
async fn crash_between_record_and_secret_web_flow() {
    crash_between_record_and_secret(web_flow(), "e2e-cw-rec-web").await;
}

/// Crash after the Secret write and before the final status write: nothing to repair, the
/// Secret's token is never revoked, and nothing is minted.
async fn crash_after_secret(options: Options, prefix: &str) {
    crate::capture::install();
    let mut env = Env::start_with(prefix, options).await;
    env.create_token(env.apitoken("sec")).await;
    let first = token_id(&env.wait_ready("sec").await).unwrap();
    env.stop_operator().await;
    // What the final write would have changed: conditions. Put them back to not-yet-Ready.
    let patch = json!({"status": {"conditions": []}});
    env.tokens()
        .patch_status("sec", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    env.start_operator().await;
    let id = assert_one_live_tracked(&env, "sec", "sec").await;
    assert_eq!(id, first, "the recorded token the Secret holds is kept");
    assert_eq!(
        env.operator().counter("quay_apitoken_tokens_minted_total"),
        0
    );
}

#[tokio::test]
async fn crash_after_secret_token_api() {
    crash_after_secret(Options::default(), "e2e-cw-sec-api").await;
}

#[tokio::test]
async fn crash_after_secret_web_flow() {
    crash_after_secret(web_flow(), "e2e-cw-sec-web").await;
}

/// An interrupted first mint on the web flow, where tokens have no names: the intent's list
/// of earlier tokens finds the orphan; a token that existed before (kept by the user) stays.
#[tokio::test]
async fn an_interrupted_web_flow_mint_is_found_without_names() {
    crate::capture::install();
    let mut env = Env::start_with("e2e-cw-webint", web_flow()).await;
    env.stop_operator().await;
    let kept = env.mint_directly("").await;
    env.create_token(env.apitoken("int").preserve_in_quay())
        .await;
    // The intent as the operator writes it, then the token Quay minted before the crash.
    let pending = json!({"status": {"pendingMint": {
        "name": "k8s:unused", "host": env.admin_settings().host_string(), "username": ADMIN,
        "clientId": env.app.client_id, "startedAt": "2026-12-01T00:00:00Z",
        "flavour": "webFlow", "scopes": ["repo:read"], "knownIds": [kept.id.clone()]}}});
    env.tokens()
        .patch_status("int", &PatchParams::default(), &Patch::Merge(&pending))
        .await
        .unwrap();
    let orphan = env.mint_directly("").await;
    env.start_operator().await;
    let ready_token = env
        .wait_token("int", "Ready without the intent", |t| {
            ready(t) == Some(true) && t.status.as_ref().is_some_and(|s| s.pending_mint.is_none())
        })
        .await;
    let id = token_id(&ready_token).unwrap();
    let live: Vec<String> = env.quay.tokens().into_iter().map(|t| t.uuid).collect();
    assert!(
        !live.contains(&orphan.id),
        "the orphan is revoked: {live:?}"
    );
    assert!(
        live.contains(&kept.id),
        "a token from before the mint is never touched"
    );
    assert!(live.contains(&id));
    assert_eq!(live.len(), 2, "{live:?}");
    let events = env.events("int").await;
    assert!(
        events
            .iter()
            .any(|(_, r, n)| r == "MintInterrupted" && n.contains(&orphan.id)),
        "{events:?}"
    );
}

/// preserveInQuayOnDeletion and an interrupted mint on the token API: only that mint's token
/// (by its own name) is revoked, never the older tokens of the same ApiToken the user keeps.
#[tokio::test]
async fn recovery_spares_preserved_tokens_of_the_same_apitoken() {
    crate::capture::install();
    let mut env = Env::start("e2e-cw-preserve").await;
    env.create_token(env.apitoken("keep").preserve_in_quay())
        .await;
    let first = token_id(&env.wait_ready("keep").await).unwrap();
    // A rotation: the first token stays in Quay, as preserve asks.
    env.tokens()
        .patch(
            "keep",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {"quay.herve4m.github.io/rotate": "1"}}}),
            ),
        )
        .await
        .unwrap();
    let second = token_id(
        &env.wait_token("keep", "rotated", |t| {
            token_id(t).is_some_and(|id| id != first) && ready(t) == Some(true)
        })
        .await,
    )
    .unwrap();
    env.wait_delivered("keep", &second).await;
    env.stop_operator().await;
    let uid = env.tokens().get("keep").await.unwrap().uid().unwrap();
    let name = quay_apitoken_operator::reconcile::naming::token_name(
        &env.ns.name,
        "keep",
        &uid,
        "0000beef",
    );
    let orphan = env.mint_directly(&name).await;
    let pending = json!({"status": {"pendingMint": {
        "name": name, "host": env.admin_settings().host_string(), "username": ADMIN,
        "clientId": env.app.client_id, "startedAt": "2026-12-01T00:00:00Z",
        "flavour": "tokenApi", "scopes": ["repo:read"]}}});
    env.tokens()
        .patch_status("keep", &PatchParams::default(), &Patch::Merge(&pending))
        .await
        .unwrap();
    env.start_operator().await;
    env.wait_token("keep", "the intent resolved", |t| {
        t.status.as_ref().is_some_and(|s| s.pending_mint.is_none()) && ready(t) == Some(true)
    })
    .await;
    let live: Vec<String> = env.quay.tokens().into_iter().map(|t| t.uuid).collect();
    assert!(!live.contains(&orphan.id), "{live:?}");
    assert!(
        live.contains(&first),
        "the preserved older token stays: {live:?}"
    );
    assert!(live.contains(&second));
}

/// Adding forUser to a Ready ApiToken: the minted token is no longer in any Secret, so it is
/// revoked once the assignment is made.
#[tokio::test]
async fn adding_for_user_revokes_the_minted_token() {
    crate::capture::install();
    let env = Env::start("e2e-cw-foruser").await;
    env.create_token(env.apitoken("fu")).await;
    env.wait_ready("fu").await;
    assert_eq!(env.quay.tokens().len(), 1);
    env.tokens()
        .patch(
            "fu",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"forUser": OTHER_USER}})),
        )
        .await
        .unwrap();
    env.wait_token("fu", "assigned", |t| {
        ready(t) == Some(true)
            && observed(t) == t.metadata.generation
            && t.status
                .as_ref()
                .and_then(|s| s.token.as_ref())
                .is_some_and(|r| r.assigned_to.is_some())
    })
    .await;
    crate::support::wait_for(PATIENCE, "the minted token revoked", || async {
        env.quay.tokens().is_empty().then_some(())
    })
    .await;
    assert_eq!(env.quay.assignments().len(), 1);
}

/// Our Secret with a token that no status records (the status was lost): never adopted. A new
/// token replaces it, and on the token API the unrecorded one is found by the name prefix every
/// mint of this ApiToken shares, and revoked.
#[tokio::test]
async fn a_secret_of_ours_without_a_record_is_replaced_not_adopted() {
    crate::capture::install();
    let mut env = Env::start("e2e-cw-lost").await;
    env.create_token(env.apitoken("lost")).await;
    let first = token_id(&env.wait_ready("lost").await).unwrap();
    env.stop_operator().await;
    let wipe = json!({"status": {"token": null, "existInQuay": false, "conditions": []}});
    env.tokens()
        .patch_status("lost", &PatchParams::default(), &Patch::Merge(&wipe))
        .await
        .unwrap();
    env.start_operator().await;
    let id = assert_one_live_tracked(&env, "lost", "lost").await;
    assert_ne!(id, first, "a token no status records is not vouched for");
    let events = env.events("lost").await;
    assert!(events.iter().all(|(_, r, _)| r != "Adopted"), "{events:?}");
    // Deleting it leaves nothing in Quay.
    env.tokens()
        .delete("lost", &DeleteParams::default())
        .await
        .unwrap();
    crate::support::wait_for(PATIENCE, "nothing left in Quay", || async {
        env.quay.tokens().is_empty().then_some(())
    })
    .await;
}

/// A reconcile decided on a stale cached copy (as after a failover, before the cache caught
/// up) never mints: the intent write is conditional on that copy being current.
#[tokio::test]
async fn a_stale_cached_copy_never_leads_to_a_second_mint() {
    use quay_apitoken_operator::context::Context;
    use quay_apitoken_operator::crd::FINALIZER;
    use quay_apitoken_operator::metrics::Metrics;
    use std::sync::Arc;

    crate::capture::install();
    let mut env = Env::start("e2e-cw-stale").await;
    env.stop_operator().await;
    let token = env.apitoken("stale").finalizer(FINALIZER).build();
    let old = env
        .tokens()
        .create(&kube::api::PostParams::default(), &token)
        .await
        .unwrap();
    env.start_operator().await;
    let first = token_id(&env.wait_ready("stale").await).unwrap();
    env.stop_operator().await;

    // A process with no memory of the object, handed the copy from before the mint.
    let ctx = Arc::new(Context::new(
        env.ns.client.clone(),
        Arc::new(Metrics::new()),
        env.settings.clone(),
    ));
    let result = quay_apitoken_operator::reconcile::reconcile(Arc::new(old), ctx).await;
    let err = result.expect_err("the stale copy is refused");
    assert_eq!(err.reason(), "StaleRead", "{err}");
    let live: Vec<String> = env.quay.tokens().into_iter().map(|t| t.uuid).collect();
    assert_eq!(
        live,
        vec![first.clone()],
        "nothing minted on the stale copy"
    );
    let now = env.tokens().get("stale").await.unwrap();
    assert_eq!(token_id(&now).as_deref(), Some(first.as_str()));
    assert!(now.status.unwrap().pending_mint.is_none());
}
