//! Crash safety (§3): a mint that was started but never recorded leaves no untracked token.

use crate::env::*;
use kube::ResourceExt;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;

/// The operator "crashed" after Quay minted but before status recorded it: on restart the
/// token is found by its name and revoked, and exactly one tracked token remains.
#[tokio::test]
async fn an_interrupted_mint_is_found_and_revoked() {
    crate::capture::install();
    let mut env = Env::start("e2e-crash").await;
    env.create_token(env.apitoken("crash")).await;
    let ready = env.wait_ready("crash").await;
    let first = token_id(&ready).unwrap();
    env.stop_operator().await;

    // What a crash leaves: the intent in status, and a token in Quay under the intent's name.
    let uid = ready.uid().unwrap();
    let name = format!("k8s:{}/crash:{}", env.ns.name, &uid[..8]);
    let settings = env.admin_settings();
    let orphan = env.mint_directly(&name).await;
    let pending = json!({"status": {"pendingMint": {
        "name": name, "host": settings.host_string(), "username": ADMIN,
        "clientId": env.app.client_id, "startedAt": "2026-11-29T00:00:00Z"}}});
    env.tokens()
        .patch_status("crash", &PatchParams::default(), &Patch::Merge(&pending))
        .await
        .unwrap();
    env.secrets_in(&env.ns.name)
        .delete("crash", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(env.quay.tokens().len(), 2);

    env.start_operator().await;
    let healed = env
        .wait_token("crash", "re-minted without the pending intent", |t| {
            ready_reason(t).as_deref() == Some("TokenReady")
                && t.status.as_ref().is_some_and(|s| s.pending_mint.is_none())
                && token_id(t).is_some_and(|id| id != first)
        })
        .await;
    // Only the tracked token is left: the orphan and the replaced one are revoked.
    env.wait_only_live(&token_id(&healed).unwrap()).await;
    let events = env.events("crash").await;
    assert!(
        events
            .iter()
            .any(|(t, r, n)| t == "Warning" && r == "MintInterrupted" && n.contains(&orphan.id)),
        "{events:?}"
    );
}

/// A rejected password is not tried again after a restart: the status remembers a salted
/// hash of the rejected settings, and only a change of the Secret leads to a new sign-in.
#[tokio::test]
async fn a_rejected_password_is_not_retried_after_a_restart() {
    crate::capture::install();
    let mut env = Env::start("e2e-rejected").await;
    let ns = env.ns.name.clone();
    env.put_secret(&ns, "bad", env.conn_data(ADMIN, "Not-The-Passw0rd"))
        .await;
    env.create_token(env.apitoken("rej").connection("bad"))
        .await;
    let failed = env.wait_reason("rej", "InvalidCredentials").await;
    let mark = failed
        .status
        .as_ref()
        .and_then(|s| s.rejected_credentials.clone())
        .expect("the rejection is remembered in status");
    assert!(!mark.contains("Not-The-Passw0rd"));
    let signins = env.quay.request_count("POST /api/v1/signin");
    assert_eq!(signins, 1);

    for _ in 0..2 {
        env.stop_operator().await;
        env.start_operator().await;
        crate::support::wait_for(PATIENCE, "the restarted operator reconciled", || async {
            (env.operator().reconciles() >= 1).then_some(())
        })
        .await;
    }
    assert_eq!(
        env.quay.request_count("POST /api/v1/signin"),
        signins,
        "no sign-in with the rejected password after two restarts"
    );
    assert_eq!(
        ready_reason(&env.tokens().get("rej").await.unwrap()).as_deref(),
        Some("InvalidCredentials")
    );

    env.patch_secret(&ns, "bad", "password", ADMIN_PASSWORD)
        .await;
    let healed = env.wait_ready("rej").await;
    assert!(healed.status.unwrap().rejected_credentials.is_none());
    // The fixed password signs in; Quay's back-off from the rejected one may refuse the first
    // try with a 429, which is honoured once.
    let after = env.quay.request_count("POST /api/v1/signin") - signins;
    assert!((1..=2).contains(&after), "{after} sign-ins after the fix");
}
