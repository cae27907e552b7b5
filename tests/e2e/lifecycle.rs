//! Minting, keeping, repairing and rotating tokens (contract §3, §4).

use crate::env::*;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The seed's own example (clientIdFrom) ends Ready with the four keys and a token Quay holds.
#[tokio::test]
async fn seed_example_becomes_ready_with_a_live_token() {
    crate::capture::install();
    let env = Env::start("e2e-seed").await;
    env.create_seed_example("apitoken-sample", "quay-credentials-secret")
        .await;
    let token = env.wait_ready("apitoken-sample").await;
    let data = env
        .secret_data(&env.ns.name, "quay-credentials-secret")
        .await
        .expect("result Secret");
    for key in ["accessToken", "token", "host", "validateCerts", "timeout"] {
        assert!(data.contains_key(key), "missing {key}: {:?}", data.keys());
    }
    assert_eq!(data["accessToken"], data["token"]);
    assert_eq!(data["host"], env.quay.url());
    assert_eq!(data["timeout"], "10");
    assert!(
        env.live_token_values().contains(&data["accessToken"]),
        "the token is live in Quay"
    );
    let status = token.status.unwrap();
    assert!(status.exist_in_quay);
    assert_eq!(status.message, "");
    assert_eq!(
        status.secret_name.as_deref(),
        Some(format!("{}/quay-credentials-secret", env.ns.name).as_str())
    );
    let id = status.token.unwrap().id.unwrap();
    assert!(
        env.quay.tokens().iter().any(|t| t.uuid == id),
        "the recorded id is the token's Quay id"
    );
}

/// clientId inline works the same, and without retSecretRef the Secret takes the ApiToken's name.
#[tokio::test]
async fn inline_client_id_and_default_secret_name() {
    crate::capture::install();
    let env = Env::start("e2e-inline").await;
    env.create_token(env.apitoken("inline")).await;
    env.wait_ready("inline").await;
    let data = env
        .secret_data(&env.ns.name, "inline")
        .await
        .expect("Secret named after the ApiToken");
    assert!(env.live_token_values().contains(&data["accessToken"]));
}

/// `all` (for the default account, an org owner who is not a superuser: every scope but
/// `super:user`), the default and an explicit list each give exactly those scopes at Quay.
#[tokio::test]
async fn rights_become_exactly_those_scopes() {
    crate::capture::install();
    let env = Env::start("e2e-rights").await;
    let cases = [
        (
            "all",
            json!(["all"]),
            set(&[
                "repo:read",
                "repo:write",
                "repo:admin",
                "repo:create",
                "user:read",
                "user:admin",
                "org:admin",
            ]),
        ),
        ("default", serde_json::Value::Null, set(&["repo:read"])),
        (
            "list",
            json!(["org:admin", "user:read"]),
            set(&["org:admin", "user:read"]),
        ),
    ];
    for (name, rights, _) in &cases {
        let mut spec =
            json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": env.app.client_id});
        if !rights.is_null() {
            spec["rights"] = rights.clone();
        }
        env.create(name, spec).await;
    }
    for (name, _, scopes) in &cases {
        env.wait_ready(name).await;
        let value = env.secret_data(&env.ns.name, name).await.unwrap()["accessToken"].clone();
        let minted = env
            .quay
            .tokens()
            .into_iter()
            .find(|t| t.token == value)
            .expect("live token");
        assert_eq!(
            minted.scopes.iter().cloned().collect::<BTreeSet<_>>(),
            *scopes,
            "{name}"
        );
    }
}

/// The web flow (Quay before 3.18) mints too, and the id learnt is the one Quay lists.
#[tokio::test]
async fn web_flow_quay_mints_and_records_the_id() {
    crate::capture::install();
    let env = Env::start_with(
        "e2e-webflow",
        Options {
            token_api: false,
            ..Options::default()
        },
    )
    .await;
    env.create_seed_example("web", "web-out").await;
    let token = env.wait_ready("web").await;
    let record = token.status.unwrap().token.unwrap();
    assert_eq!(record.flavour.as_deref(), Some("webFlow"));
    let value = env.secret_data(&env.ns.name, "web-out").await.unwrap()["accessToken"].clone();
    let minted = env
        .quay
        .tokens()
        .into_iter()
        .find(|t| t.token == value)
        .unwrap();
    assert_eq!(Some(minted.uuid), record.id);
}

/// forUser assigns a token to that user; the Secret has no token keys and the message says why.
#[tokio::test]
async fn for_user_assigns_and_writes_no_token() {
    crate::capture::install();
    let env = Env::start("e2e-foruser").await;
    env.create_token(env.apitoken("assign").for_user(OTHER_USER))
        .await;
    let token = env.wait_ready("assign").await;
    let assignments = env.quay.assignments();
    assert_eq!(assignments.len(), 1);
    assert_eq!(assignments[0].user, OTHER_USER);
    let data = env.secret_data(&env.ns.name, "assign").await.unwrap();
    assert!(
        !data.contains_key("accessToken") && !data.contains_key("token"),
        "{:?}",
        data.keys()
    );
    assert!(
        message(&token).contains("forUser") && message(&token).contains(OTHER_USER),
        "{}",
        message(&token)
    );
    assert!(env.quay.tokens().is_empty(), "nothing minted for the admin");

    env.create_token(env.apitoken("nobody").for_user("no-such-user"))
        .await;
    let failed = env.wait_reason("nobody", "UserNotFound").await;
    assert!(
        message(&failed).contains("no-such-user"),
        "{}",
        message(&failed)
    );
}

/// A restarted controller with 20 Ready ApiTokens mints nothing.
#[tokio::test]
async fn restart_with_twenty_ready_tokens_mints_nothing() {
    crate::capture::install();
    let mut env = Env::start("e2e-restart").await;
    for i in 0..20 {
        env.create(
            &format!("t{i:02}"),
            json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": env.app.client_id}),
        )
        .await;
    }
    for i in 0..20 {
        env.wait_ready(&format!("t{i:02}")).await;
    }
    let before: BTreeSet<String> = env.quay.tokens().into_iter().map(|t| t.uuid).collect();
    assert_eq!(before.len(), 20);
    env.stop_operator().await;
    env.quay.reset_counters();
    env.start_operator().await;
    crate::support::wait_for(PATIENCE, "20 reconciles after restart", || async {
        (env.operator().reconciles() >= 20).then_some(())
    })
    .await;
    // The result Secrets' initial list wakes each ApiToken once more, and those wake-ups are
    // not counted apart from the twenty: a short interval after the twenty lets a late mint
    // show. Only absence is left to prove, so it is slept.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after: BTreeSet<String> = env.quay.tokens().into_iter().map(|t| t.uuid).collect();
    assert_eq!(before, after, "no token minted or revoked");
    let mints = env
        .quay
        .request_count("POST /api/v1/organization/{org}/applications/{client_id}/tokens");
    assert_eq!(mints, 0);
    assert!(
        env.quay.request_count("POST /api/v1/signin") <= 1,
        "one login for all"
    );
    assert_eq!(
        env.quay
            .request_count("GET /api/v1/organization/{org}/applications/{client_id}/tokens"),
        1,
        "one list of the application's tokens verifies all twenty"
    );
}

/// Changing rights mints exactly one new token; the old one is revoked after the Secret holds the new.
#[tokio::test]
async fn changing_rights_replaces_the_token_once() {
    crate::capture::install();
    let env = Env::start("e2e-rotate").await;
    env.create_token(env.apitoken("rot")).await;
    let first = env.wait_ready("rot").await;
    let old_id = token_id(&first).unwrap();
    env.quay.reset_counters();
    let patch = json!({"spec": {"rights": ["repo:read", "repo:write"]}});
    env.tokens()
        .patch("rot", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let second = env
        .wait_token("rot", "new token", |t| {
            observed(t) == Some(2) && ready(t) == Some(true)
        })
        .await;
    let new_id = token_id(&second).unwrap();
    assert_ne!(old_id, new_id);
    assert_eq!(
        env.quay
            .request_count("POST /api/v1/organization/{org}/applications/{client_id}/tokens"),
        1
    );
    let live: Vec<String> = env.quay.tokens().into_iter().map(|t| t.uuid).collect();
    assert_eq!(live, vec![new_id.clone()], "old revoked, new live");
    let value = env.secret_data(&env.ns.name, "rot").await.unwrap()["accessToken"].clone();
    assert_eq!(env.quay.tokens()[0].token, value);
    // The events tell the order: the new token was written (Rotated) before the old was revoked.
    let reasons: Vec<String> = env.events("rot").await.into_iter().map(|e| e.1).collect();
    let rotated = reasons
        .iter()
        .position(|r| r == "Rotated")
        .expect("Rotated event");
    let revoked = reasons
        .iter()
        .position(|r| r == "Revoked")
        .expect("Revoked event");
    assert!(rotated < revoked, "{reasons:?}");
}

/// Deleting or editing the result Secret is repaired with a new token, and the old one revoked.
#[tokio::test]
async fn a_deleted_or_edited_result_secret_is_repaired() {
    crate::capture::install();
    let env = Env::start("e2e-repair").await;
    env.create_token(env.apitoken("rep")).await;
    let first = token_id(&env.wait_ready("rep").await).unwrap();
    env.secrets_in(&env.ns.name)
        .delete("rep", &DeleteParams::default())
        .await
        .unwrap();
    let second = env
        .wait_token("rep", "repaired", |t| {
            token_id(t).is_some_and(|id| id != first) && ready(t) == Some(true)
        })
        .await;
    let second = token_id(&second).unwrap();
    let value = env.wait_delivered("rep", &second).await;
    let only = env.wait_only_live(&second).await;
    assert_eq!(only.token, value);

    env.patch_secret(&env.ns.name, "rep", "accessToken", "tampered")
        .await;
    let third = env
        .wait_token("rep", "repaired after edit", |t| {
            token_id(t).is_some_and(|id| id != second)
        })
        .await;
    crate::support::wait_for(PATIENCE, "Secret holds the new token", || async {
        let data = env.secret_data(&env.ns.name, "rep").await?;
        (data["accessToken"] != "tampered" && data["token"] == data["accessToken"]).then_some(())
    })
    .await;
    // The edited-away token is revoked.
    env.wait_only_live(&token_id(&third).unwrap()).await;
}

/// A token revoked in Quay is found by the periodic check and replaced.
#[tokio::test]
async fn a_token_revoked_in_quay_is_found_and_replaced() {
    crate::capture::install();
    let env = Env::start_with(
        "e2e-verify",
        Options {
            verify_interval: Duration::from_secs(2),
            ..Options::default()
        },
    )
    .await;
    env.create_token(env.apitoken("ver")).await;
    let first = token_id(&env.wait_ready("ver").await).unwrap();
    env.quay.revoke_token(&first);
    let replaced = env
        .wait_token("ver", "replaced", |t| {
            token_id(t).is_some_and(|id| id != first) && ready(t) == Some(true)
        })
        .await;
    let id = token_id(&replaced).unwrap();
    let value = env.wait_delivered("ver", &id).await;
    let only = env.wait_only_live(&id).await;
    assert_eq!(only.token, value);
}

/// Each new value of the rotate annotation mints one replacement.
#[tokio::test]
async fn the_rotate_annotation_mints_once_per_value() {
    crate::capture::install();
    let env = Env::start("e2e-annot").await;
    env.create_token(env.apitoken("ann")).await;
    let first = token_id(&env.wait_ready("ann").await).unwrap();
    env.quay.reset_counters();
    let reconciles = env.operator().reconciles();
    let patch =
        json!({"metadata": {"annotations": {"quay.herve4m.github.io/rotate": "2026-11-29"}}});
    env.tokens()
        .patch("ann", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    env.wait_token("ann", "rotated", |t| {
        token_id(t).is_some_and(|id| id != first)
    })
    .await;
    // The rotating reconcile, done: its own result Secret write wakes nobody, so a second
    // mint for the same value would have happened in it.
    crate::support::wait_for(PATIENCE, "the reconcile after the annotation", || async {
        (env.operator().reconciles() > reconciles).then_some(())
    })
    .await;
    assert_eq!(
        env.quay
            .request_count("POST /api/v1/organization/{org}/applications/{client_id}/tokens"),
        1
    );
    assert_eq!(env.quay.tokens().len(), 1);
}
