//! Deleting an Application: in Quay or preserved there, and never stuck.

use super::fixture::*;
use crate::env::*;
use kube::api::DeleteParams;
use serde_json::json;

/// preserve false: gone in Quay, and the Secret gone.
#[tokio::test]
async fn deletion_deletes_the_application_and_its_secret() {
    let env = start("e2e-app-del", Options::default()).await;
    create_app(&env, "extapp", spec("extapp", "extapp-secret")).await;
    let client_id = record(&wait_app_ready(&env, "extapp").await).client_id;
    delete_app_and_wait(&env, "extapp").await;
    assert!(env.quay.app(&client_id).is_none(), "deleted in Quay");
    assert!(
        env.secret_data(&env.ns.name, "extapp-secret")
            .await
            .is_none()
    );
}

/// preserve true: kept in Quay; the Secret still goes.
#[tokio::test]
async fn preserve_keeps_the_application_in_quay() {
    let env = start("e2e-app-keep", Options::default()).await;
    let mut s = spec("extapp", "extapp-secret");
    s["preserveInQuayOnDeletion"] = json!(true);
    create_app(&env, "extapp", s).await;
    let client_id = record(&wait_app_ready(&env, "extapp").await).client_id;
    delete_app_and_wait(&env, "extapp").await;
    assert!(env.quay.app(&client_id).is_some(), "kept in Quay");
    assert!(
        env.secret_data(&env.ns.name, "extapp-secret")
            .await
            .is_none()
    );
}

/// With the connection Secret gone, deletion goes on and a Warning names what stays in Quay.
#[tokio::test]
async fn deletion_never_hangs_when_the_credentials_are_gone() {
    let env = start("e2e-app-orphan", Options::default()).await;
    env.put_secret(
        &env.ns.name,
        "own-credentials",
        env.conn_data(ADMIN, ADMIN_PASSWORD),
    )
    .await;
    let mut s = spec("extapp", "extapp-secret");
    s["connSecretRef"] = json!({"name": "own-credentials"});
    create_app(&env, "extapp", s).await;
    let client_id = record(&wait_app_ready(&env, "extapp").await).client_id;
    env.secrets_in(&env.ns.name)
        .delete("own-credentials", &DeleteParams::default())
        .await
        .unwrap();
    delete_app_and_wait(&env, "extapp").await;
    let events = env.events("extapp").await;
    assert!(
        events
            .iter()
            .any(|(t, r, n)| t == "Warning" && r == "LeftInQuay" && n.contains(&client_id)),
        "{events:?}"
    );
    assert!(
        env.quay.app(&client_id).is_some(),
        "it could not be deleted"
    );
    assert!(
        env.secret_data(&env.ns.name, "extapp-secret")
            .await
            .is_none()
    );
}

/// Mints a token for the application `client_id` as its owner would, behind the operator.
async fn mint_for(env: &Env, client_id: &str) -> String {
    use quay_apitoken_operator::quay::{MintRequest, QuayClient};
    QuayClient::new(None)
        .mint(
            &env.admin_settings(),
            MintRequest {
                client_id: client_id.to_owned(),
                scopes: vec!["repo:read".into()],
                name: "made-by-hand".into(),
                expiration: None,
            },
        )
        .await
        .unwrap()
        .id
}

/// Issue 20, item 7: an application someone made by hand in Quay, taken over by an
/// Application of its name, survives the Application's deletion with its tokens; the Adopted
/// event says so. One the operator created is still deleted, and so is an adopted one whose
/// spec opts in with deleteAdoptedInQuay.
#[tokio::test]
async fn only_applications_the_operator_created_are_deleted() {
    let env = start("e2e-app-adopt-del", Options::default()).await;
    let handmade = env.quay.add_app(ORG, "handmade", None);
    let optin = env.quay.add_app(ORG, "handmade-optin", None);
    let token = mint_for(&env, &handmade.client_id).await;
    create_app(&env, "handmade", spec("handmade", "handmade-secret")).await;
    let mut s = spec("handmade-optin", "optin-secret");
    s["deleteAdoptedInQuay"] = json!(true);
    create_app(&env, "optin", s).await;
    create_app(&env, "own", spec("ownapp", "own-secret")).await;
    let adopted = record(&wait_app_ready(&env, "handmade").await);
    assert_eq!(adopted.client_id, handmade.client_id);
    assert_eq!(adopted.origin.as_deref(), Some("Adopted"));
    assert_eq!(
        record(&wait_app_ready(&env, "optin").await).client_id,
        optin.client_id
    );
    let own = record(&wait_app_ready(&env, "own").await);
    assert_eq!(own.origin.as_deref(), Some("Created"));
    let events = env.events("handmade").await;
    assert!(
        events
            .iter()
            .any(|(_, r, n)| r == "Adopted" && n.contains("will keep it in Quay")),
        "{events:?}"
    );
    delete_app_and_wait(&env, "handmade").await;
    delete_app_and_wait(&env, "optin").await;
    delete_app_and_wait(&env, "own").await;
    assert!(
        env.quay.app(&handmade.client_id).is_some(),
        "the hand-made application survives"
    );
    assert!(
        env.quay.tokens().iter().any(|t| t.uuid == token),
        "and so does its token"
    );
    let events = env.events("handmade").await;
    assert!(
        events.iter().any(|(_, r, _)| r == "KeptInQuay"),
        "{events:?}"
    );
    assert!(
        env.quay.app(&optin.client_id).is_none(),
        "deleteAdoptedInQuay deletes it"
    );
    assert!(env.quay.app(&own.client_id).is_none(), "its own is deleted");
    assert!(
        env.secret_data(&env.ns.name, "handmade-secret")
            .await
            .is_none()
    );
}
