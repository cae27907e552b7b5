//! No secret value of an Application's work reaches logs, events or status.

use super::fixture::*;
use crate::env::*;
use serde_json::json;

/// The client secret, the password and the token never reach logs, events or status.
#[tokio::test]
async fn no_secret_value_in_logs_events_or_status() {
    let env = start("e2e-app-secrecy", Options::default()).await;
    env.create_token(token_connection(
        &env,
        "admin-token",
        "org:admin",
        "admin-token-secret",
    ))
    .await;
    env.wait_ready("admin-token").await;
    create_app(&env, "by-password", spec("extapp", "a-secret")).await;
    let mut s = spec("other", "b-secret");
    s["connSecretRef"] = json!({"name": "admin-token-secret"});
    create_app(&env, "by-token", s).await;
    wait_app_ready(&env, "by-password").await;
    wait_app_ready(&env, "by-token").await;
    let mut secrets: Vec<String> = env
        .quay
        .apps(ORG)
        .into_iter()
        .map(|a| a.client_secret)
        .collect();
    delete_app_and_wait(&env, "by-password").await;
    secrets.extend(env.live_token_values());
    secrets.push(ADMIN_PASSWORD.to_owned());
    let statuses =
        serde_json::to_string(&apps(&env).list(&Default::default()).await.unwrap().items).unwrap();
    let mut events = env.events("by-password").await;
    events.extend(env.events("by-token").await);
    let events = format!("{events:?}");
    let logs = crate::capture::logs();
    for secret in &secrets {
        assert!(!statuses.contains(secret), "a secret value in a status");
        assert!(!events.contains(secret), "a secret value in an event");
        assert!(!logs.contains(secret), "a secret value in the logs");
    }
}
