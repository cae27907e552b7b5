//! Deletion and the finalizer (§6).

use crate::env::*;
use kube::api::DeleteParams;

/// preserve false: token revoked, Secret gone — also when the Secret is in another namespace.
#[tokio::test]
async fn delete_revokes_the_token_and_deletes_the_secret() {
    crate::capture::install();
    let env = Env::start_with(
        "e2e-del",
        Options {
            extra_namespaces: 1,
            ..Options::default()
        },
    )
    .await;
    let other = env.extra[0].clone();
    env.create_token(env.apitoken("here")).await;
    env.create_token(env.apitoken("there").secret_in("out", &other))
        .await;
    env.wait_ready("here").await;
    env.wait_ready("there").await;
    assert!(env.secret_data(&other, "out").await.is_some());
    assert_eq!(env.quay.tokens().len(), 2);
    env.delete_and_wait("here").await;
    env.delete_and_wait("there").await;
    assert!(env.quay.tokens().is_empty(), "both tokens revoked");
    assert!(env.secret_data(&env.ns.name, "here").await.is_none());
    assert!(
        env.secret_data(&other, "out").await.is_none(),
        "the Secret in the other namespace is deleted too"
    );
}

/// preserve true: the token stays live in Quay, the Secret goes.
#[tokio::test]
async fn preserve_keeps_the_token_in_quay() {
    crate::capture::install();
    let env = Env::start("e2e-keep").await;
    env.create_token(env.apitoken("kept").preserve_in_quay())
        .await;
    env.wait_ready("kept").await;
    let value = env.secret_data(&env.ns.name, "kept").await.unwrap()["accessToken"].clone();
    env.delete_and_wait("kept").await;
    assert!(env.live_token_values().contains(&value));
    assert!(env.secret_data(&env.ns.name, "kept").await.is_none());
}

/// With the connection Secret gone, the finalizer is released and a Warning names the token left.
#[tokio::test]
async fn missing_connection_secret_never_blocks_deletion() {
    crate::capture::install();
    let env = Env::start("e2e-orphan").await;
    env.create_token(env.apitoken("orph")).await;
    let id = token_id(&env.wait_ready("orph").await).unwrap();
    env.secrets_in(&env.ns.name)
        .delete("quay-credentials", &DeleteParams::default())
        .await
        .unwrap();
    env.delete_and_wait("orph").await;
    let events = env.events("orph").await;
    assert!(
        events
            .iter()
            .any(|(t, r, n)| t == "Warning" && r == "LeftInQuay" && n.contains(&id)),
        "{events:?}"
    );
    assert_eq!(env.quay.tokens().len(), 1, "the token could not be revoked");
}

/// With Quay down, deletion waits (finalizer kept) and completes once Quay is back.
#[tokio::test]
async fn quay_down_keeps_the_finalizer_until_it_is_back() {
    crate::capture::install();
    let env = Env::start("e2e-down").await;
    env.create_token(env.apitoken("wait")).await;
    env.wait_ready("wait").await;
    env.set_quay_down(true);
    let failed = env.operator().failed_reconciles();
    env.tokens()
        .delete("wait", &DeleteParams::default())
        .await
        .unwrap();
    // Two failed cleanups: the one the deletion started and its retry after the backoff.
    crate::support::wait_for(PATIENCE, "two failed cleanups", || async {
        (env.operator().failed_reconciles() >= failed + 2).then_some(())
    })
    .await;
    let still = env
        .tokens()
        .get_opt("wait")
        .await
        .unwrap()
        .expect("held by the finalizer");
    assert!(still.metadata.deletion_timestamp.is_some());
    assert_eq!(env.quay.tokens().len(), 1);
    env.set_quay_down(false);
    env.delete_and_wait("wait").await;
    assert!(env.quay.tokens().is_empty(), "revoked once Quay was back");
}

/// forUser: nothing to revoke, and an event says so.
#[tokio::test]
async fn for_user_deletion_says_there_is_nothing_to_revoke() {
    crate::capture::install();
    let env = Env::start("e2e-delfor").await;
    env.create_token(env.apitoken("fu").for_user(OTHER_USER))
        .await;
    env.wait_ready("fu").await;
    env.delete_and_wait("fu").await;
    let events = env.events("fu").await;
    assert!(
        events.iter().any(|e| e.1 == "NothingToRevoke"),
        "{events:?}"
    );
}
