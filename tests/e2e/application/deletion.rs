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
