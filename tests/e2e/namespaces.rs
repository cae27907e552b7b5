//! References across namespaces, and the deny policy for multi-tenant clusters.

use crate::env::*;
use quay_apitoken_operator::context::CrossNamespacePolicy;
use serde_json::json;

/// connSecretRef, clientIdFrom and retSecretRef may each point to another namespace.
#[tokio::test]
async fn references_to_other_namespaces_work() {
    crate::capture::install();
    let env = Env::start_with(
        "e2e-xns",
        Options {
            extra_namespaces: 1,
            ..Options::default()
        },
    )
    .await;
    let other = env.extra[0].clone();
    env.put_inputs_in(&other).await;
    env.create(
        "x",
        json!({
            "connSecretRef": {"name": "creds", "namespace": other},
            "clientIdFrom": {"name": "app", "key": "id", "namespace": other},
            "retSecretRef": {"name": "x-out", "namespace": other},
        }),
    )
    .await;
    env.wait_ready("x").await;
    let data = env
        .secret_data(&other, "x-out")
        .await
        .expect("Secret in the other namespace");
    assert!(env.live_token_values().contains(&data["accessToken"]));
}

/// Under the deny policy each cross-namespace reference is refused with a message naming it.
#[tokio::test]
async fn deny_policy_refuses_other_namespaces() {
    crate::capture::install();
    let env = Env::start_with(
        "e2e-deny",
        Options {
            extra_namespaces: 1,
            policy: CrossNamespacePolicy::Deny,
            ..Options::default()
        },
    )
    .await;
    let other = env.extra[0].clone();
    env.put_secret(&other, "creds", env.conn_data(ADMIN, ADMIN_PASSWORD))
        .await;
    env.create_token(env.apitoken("c").connection_in("creds", &other))
        .await;
    env.create_token(env.apitoken("r").secret_in("o", &other))
        .await;
    let c = env.wait_reason("c", "CrossNamespaceDenied").await;
    assert!(
        message(&c).contains("connSecretRef") && message(&c).contains(&other),
        "{}",
        message(&c)
    );
    let r = env.wait_reason("r", "CrossNamespaceDenied").await;
    assert!(message(&r).contains("retSecretRef"), "{}", message(&r));
    assert!(env.quay.tokens().is_empty());
    assert!(env.secret_data(&other, "o").await.is_none());
}
