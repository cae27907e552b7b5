//! A crash at each step of a mint and of a recovery, on both flavours, for a first mint and for
//! a rotation: after a restart with fresh memory the invariant holds (see `invariant.rs`).

use crate::env::*;
use crate::invariant::assert_converged;
use kube::api::{Patch, PatchParams};
use quay_apitoken_operator::fault_points::{self, arm, left};
use serde_json::json;

fn options(token_api: bool) -> Options {
    Options {
        token_api,
        ..Options::default()
    }
}

/// Waits until the armed point has fired for `name`, then "crashes": the controller stops
/// and a new one, with no memory of the old, starts.
async fn crash_when_hit(env: &mut Env, point: &str, name: &str) {
    let ns = env.ns.name.clone();
    crate::support::wait_for(PATIENCE, &format!("{name} reached {point}"), || async {
        (left(point, &ns, name) == 0).then_some(())
    })
    .await;
    env.stop_operator().await;
    env.start_operator().await;
}

async fn crash_at(point: &'static str, token_api: bool) {
    crate::capture::install();
    let flavour = if token_api { "api" } else { "web" };
    let tag = point.replace('.', "-");
    let mut env = Env::start_with(&format!("e2e-fp-{tag}-{flavour}"), options(token_api)).await;
    let ns = env.ns.name.clone();
    let spec =
        json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": env.app.client_id});

    // A first mint records its token with the verdict, after the Secret, so it never stops at
    // the record; it must still get Ready.
    if point == fault_points::MINT_AFTER_RECORD {
        arm(point, &ns, "first", 1);
        env.create("first", spec.clone()).await;
        env.wait_ready("first").await;
        assert_eq!(
            left(point, &ns, "first"),
            1,
            "a first mint passed the record"
        );
    } else {
        arm(point, &ns, "first", 1);
        env.create("first", spec.clone()).await;
        crash_when_hit(&mut env, point, "first").await;
    }
    assert_converged(&env).await;

    // A rotation of a Ready token.
    env.create("rotated", spec).await;
    let before = token_id(&env.wait_ready("rotated").await).unwrap();
    arm(point, &ns, "rotated", 1);
    env.tokens()
        .patch(
            "rotated",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {"quay.herve4m.github.io/rotate": "1"}}}),
            ),
        )
        .await
        .unwrap();
    crash_when_hit(&mut env, point, "rotated").await;
    assert_converged(&env).await;
    let after = token_id(&env.tokens().get("rotated").await.unwrap()).unwrap();
    assert_ne!(before, after, "the rotation happened after the crash");
}

#[tokio::test]
async fn crash_after_intent_token_api() {
    crash_at(fault_points::MINT_AFTER_INTENT, true).await;
}

#[tokio::test]
async fn crash_after_intent_web_flow() {
    crash_at(fault_points::MINT_AFTER_INTENT, false).await;
}

#[tokio::test]
async fn crash_after_quay_minted_token_api() {
    crash_at(fault_points::MINT_AFTER_QUAY, true).await;
}

#[tokio::test]
async fn crash_after_quay_minted_web_flow() {
    crash_at(fault_points::MINT_AFTER_QUAY, false).await;
}

#[tokio::test]
async fn crash_after_record_token_api() {
    crash_at(fault_points::MINT_AFTER_RECORD, true).await;
}

#[tokio::test]
async fn crash_after_record_web_flow() {
    crash_at(fault_points::MINT_AFTER_RECORD, false).await;
}

#[tokio::test]
async fn crash_after_secret_written_token_api() {
    crash_at(fault_points::MINT_AFTER_SECRET, true).await;
}

#[tokio::test]
async fn crash_after_secret_written_web_flow() {
    crash_at(fault_points::MINT_AFTER_SECRET, false).await;
}

/// A crash during the recovery of a crashed mint: recovery runs again and still converges.
async fn crash_during_recovery(token_api: bool) {
    crate::capture::install();
    let flavour = if token_api { "api" } else { "web" };
    let mut env = Env::start_with(&format!("e2e-fp-recover-{flavour}"), options(token_api)).await;
    let ns = env.ns.name.clone();
    arm(fault_points::MINT_AFTER_QUAY, &ns, "twice", 1);
    arm(fault_points::RECOVER_BEFORE_REVOKE, &ns, "twice", 1);
    env.create_token(env.apitoken("twice")).await;
    crash_when_hit(&mut env, fault_points::MINT_AFTER_QUAY, "twice").await;
    crash_when_hit(&mut env, fault_points::RECOVER_BEFORE_REVOKE, "twice").await;
    assert_converged(&env).await;
}

#[tokio::test]
async fn crash_during_recovery_token_api() {
    crash_during_recovery(true).await;
}

#[tokio::test]
async fn crash_during_recovery_web_flow() {
    crash_during_recovery(false).await;
}

/// Deleting an ApiToken while its mint is pending (Quay minted, nothing recorded it): the
/// cleanup finds that token and revokes it, so Quay is left with nothing.
async fn delete_while_pending(token_api: bool) {
    crate::capture::install();
    let flavour = if token_api { "api" } else { "web" };
    let mut env = Env::start_with(&format!("e2e-fp-delpend-{flavour}"), options(token_api)).await;
    let ns = env.ns.name.clone();
    // Fires on every retry, so no reconcile gets past it before the "crash" below; each retry
    // first recovers the previous attempt's token, so Quay holds at most one at a time.
    const EVERY_TIME: u32 = 1_000;
    arm(fault_points::MINT_AFTER_QUAY, &ns, "gone", EVERY_TIME);
    env.create_token(env.apitoken("gone").preserve_in_quay())
        .await;
    crate::support::wait_for(PATIENCE, "the mint reached Quay", || async {
        (left(fault_points::MINT_AFTER_QUAY, &ns, "gone") < EVERY_TIME).then_some(())
    })
    .await;
    env.stop_operator().await;
    arm(fault_points::MINT_AFTER_QUAY, &ns, "gone", 0);
    let pending = env.tokens().get("gone").await.unwrap();
    assert!(
        pending
            .status
            .as_ref()
            .is_some_and(|s| s.pending_mint.is_some()),
        "the crash left the mint pending"
    );
    assert!(
        env.quay.tokens().len() <= 1,
        "at most the last attempt's token"
    );
    // Deleted while no operator runs: the next one meets the pending mint in the cleanup.
    env.tokens()
        .delete("gone", &Default::default())
        .await
        .unwrap();
    env.start_operator().await;
    env.wait_gone("gone").await;
    assert!(
        env.quay.tokens().is_empty(),
        "the pending mint's token is revoked even with preserveInQuayOnDeletion: it was never \
         delivered"
    );
}

#[tokio::test]
async fn deleting_while_a_mint_is_pending_token_api() {
    delete_while_pending(true).await;
}

#[tokio::test]
async fn deleting_while_a_mint_is_pending_web_flow() {
    delete_while_pending(false).await;
}

/// A crash during deletion after the token is revoked and before the Secret and finalizer go:
/// the next operator revokes again (404 counts as done), deletes the Secret and lets it go.
async fn crash_after_cleanup_revoked(token_api: bool) {
    crate::capture::install();
    let flavour = if token_api { "api" } else { "web" };
    let mut env = Env::start_with(&format!("e2e-fp-cleanup-{flavour}"), options(token_api)).await;
    let ns = env.ns.name.clone();
    env.create_token(env.apitoken("leaving")).await;
    let id = token_id(&env.wait_ready("leaving").await).unwrap();
    arm(fault_points::CLEANUP_AFTER_REVOKE, &ns, "leaving", 1);
    env.tokens()
        .delete("leaving", &Default::default())
        .await
        .unwrap();
    crash_when_hit(&mut env, fault_points::CLEANUP_AFTER_REVOKE, "leaving").await;
    assert!(
        env.quay.tokens().iter().all(|t| t.uuid != id),
        "revoked before the crash"
    );
    env.wait_gone("leaving").await;
    let secrets = env.secrets_in(&ns);
    assert!(
        secrets.get_opt("leaving").await.unwrap().is_none(),
        "the result Secret is deleted after the restart"
    );
    assert!(env.quay.tokens().is_empty(), "nothing left in Quay");
}

#[tokio::test]
async fn crash_after_cleanup_revoked_token_api() {
    crash_after_cleanup_revoked(true).await;
}

#[tokio::test]
async fn crash_after_cleanup_revoked_web_flow() {
    crash_after_cleanup_revoked(false).await;
}
