//! Creating an Application, alone or beside the ApiToken that needs it, and the
//! restart and the crash that must not create it twice.

use super::fixture::*;
use crate::env::*;
use kube::api::{Patch, PatchParams};
use serde_json::json;

/// Applied together, in the order of a `kubectl apply -f` that lists the ApiToken first:
/// both end Ready without a manual step, and the ApiToken's token is a live token of the
/// application the Application created.
async fn applied_together(token_api: bool) {
    let prefix = if token_api {
        "e2e-app-both"
    } else {
        "e2e-app-both-wf"
    };
    let env = start(
        prefix,
        Options {
            token_api,
            ..Options::default()
        },
    )
    .await;
    env.create_token(token_for("tok", "extapp-secret", &["repo:read"]))
        .await;
    create_app(&env, "extapp", spec("extapp", "extapp-secret")).await;
    let app = wait_app_ready(&env, "extapp").await;
    let client_id = record(&app).client_id;
    let in_quay = env.quay.app(&client_id).expect("created in Quay");
    assert_eq!(
        (in_quay.org.as_str(), in_quay.name.as_str()),
        (ORG, "extapp")
    );
    let data = env
        .secret_data(&env.ns.name, "extapp-secret")
        .await
        .unwrap();
    assert_eq!(data["clientId"], client_id);
    assert_eq!(data["clientSecret"], in_quay.client_secret);
    assert_eq!(data["name"], "extapp");
    assert_eq!(
        app.status.as_ref().unwrap().secret_name.as_deref(),
        Some(format!("{}/extapp-secret", env.ns.name).as_str())
    );
    let token = env.wait_ready("tok").await;
    let id = token_id(&token).unwrap();
    let value = env.wait_delivered("tok", &id).await;
    let live = env
        .quay
        .tokens()
        .into_iter()
        .find(|t| t.token == value)
        .unwrap();
    assert_eq!(
        live.client_id, client_id,
        "the token is one of the new application"
    );
    assert_eq!(env.quay.app_count(ORG, "extapp"), 1);
}

#[tokio::test]
async fn application_and_apitoken_applied_together_are_both_ready() {
    applied_together(true).await;
}

/// The web flow (Quay before 3.18) mints for a new application too: Quay accepts its own
/// /oauth/localapp for any application, so no redirectUri is needed.
#[tokio::test]
async fn application_and_apitoken_applied_together_on_the_web_flow() {
    applied_together(false).await;
}

/// A restart forgets everything but the status: the recorded client ID is looked up, nothing
/// is created.
#[tokio::test]
async fn restart_creates_no_second_application() {
    let mut env = start("e2e-app-restart", Options::default()).await;
    create_app(&env, "extapp", spec("extapp", "extapp-secret")).await;
    let client_id = record(&wait_app_ready(&env, "extapp").await).client_id;
    assert_eq!(env.quay.request_count(CREATE), 1);
    env.stop_operator().await;
    env.quay.reset_counters();
    env.start_operator().await;
    wait_reconciles(&env, 0, 1).await;
    let get = "GET /api/v1/organization/{org}/applications/{client_id}";
    assert!(
        env.quay.request_count(get) >= 1,
        "it looked its application up"
    );
    assert_eq!(env.quay.request_count(CREATE), 0, "nothing created");
    assert_eq!(env.quay.app_count(ORG, "extapp"), 1);
    let app = wait_app_ready(&env, "extapp").await;
    assert_eq!(record(&app).client_id, client_id);
}

/// A crash between Quay's answer to a create and its record in status: the intent is there,
/// and so is the application it made, beside an older one of the same name. The restarted
/// operator records the new one (found by the intent) instead of creating a third, and takes
/// over neither the older one nor a second.
#[tokio::test]
async fn an_interrupted_create_is_recovered_not_repeated() {
    let mut env = start("e2e-app-crash", Options::default()).await;
    env.stop_operator().await;
    let older = env.quay.add_app(ORG, "extapp", None);
    create_app(&env, "extapp", spec("extapp", "extapp-secret")).await;
    let intent = json!({"status": {"pendingCreate": {
        "host": env.quay.url(), "organization": ORG, "name": "extapp",
        "knownClientIds": [older.client_id], "startedAt": "2026-01-01T00:00:00Z",
    }}});
    apps(&env)
        .patch_status("extapp", &PatchParams::default(), &Patch::Merge(&intent))
        .await
        .unwrap();
    let made = env.quay.add_app(ORG, "extapp", None);
    env.quay.reset_counters();
    env.start_operator().await;
    let app = wait_app_ready(&env, "extapp").await;
    let recorded = record(&app);
    assert_eq!(recorded.client_id, made.client_id);
    assert_eq!(recorded.origin.as_deref(), Some("Recovered"));
    assert!(app.status.as_ref().unwrap().pending_create.is_none());
    assert_eq!(env.quay.request_count(CREATE), 0, "no create repeated");
    assert_eq!(env.quay.app_count(ORG, "extapp"), 2);
    let data = env
        .secret_data(&env.ns.name, "extapp-secret")
        .await
        .unwrap();
    assert_eq!(data["clientId"], made.client_id);
    let events = env.events("extapp").await;
    assert!(
        events
            .iter()
            .any(|(_, r, n)| r == "CreateRecovered" && n.contains(&made.client_id)),
        "{events:?}"
    );
}
