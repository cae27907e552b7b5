//! An ApiToken's result Secret as the Application's connection: a token instead of a session.

use super::fixture::*;
use crate::env::*;
use serde_json::json;

/// An ApiToken's result Secret (a token with org:admin) works as the connection: the
/// application is created with the token, without any sign-in.
#[tokio::test]
async fn a_token_connection_secret_works() {
    let env = start("e2e-app-bytoken", Options::default()).await;
    env.create_token(token_connection(
        &env,
        "admin-token",
        "org:admin",
        "admin-token-secret",
    ))
    .await;
    env.wait_ready("admin-token").await;
    let signins = env.quay.request_count(SIGNIN);
    let mut s = spec("extapp", "extapp-secret");
    s["connSecretRef"] = json!({"name": "admin-token-secret"});
    create_app(&env, "extapp", s).await;
    let client_id = record(&wait_app_ready(&env, "extapp").await).client_id;
    assert!(env.quay.app(&client_id).is_some());
    assert_eq!(
        env.quay.request_count(SIGNIN),
        signins,
        "the token, not a session"
    );
}

/// A token without org:admin: a message naming the missing scope, nothing created.
#[tokio::test]
async fn a_token_without_org_admin_names_the_scope() {
    let env = start("e2e-app-noscope", Options::default()).await;
    env.create_token(token_connection(
        &env,
        "read-token",
        "repo:read",
        "read-token-secret",
    ))
    .await;
    env.wait_ready("read-token").await;
    let mut s = spec("extapp", "extapp-secret");
    s["connSecretRef"] = json!({"name": "read-token-secret"});
    create_app(&env, "extapp", s).await;
    let app = wait_app_reason(&env, "extapp", "TokenScopeMissing").await;
    assert!(
        app_message(&app).contains("org:admin"),
        "{}",
        app_message(&app)
    );
    assert_eq!(env.quay.app_count(ORG, "extapp"), 0);
}
