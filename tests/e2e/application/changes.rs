//! Changes to an existing application: a new spec, a rename, and drift made behind the
//! operator's back in Quay or in the result Secret.

use super::fixture::*;
use crate::env::*;
use crate::support::wait_for;
use kube::api::{DeleteParams, Patch, PatchParams};
use quay_emulator::AppUpdate;
use serde_json::json;

/// A changed description costs exactly one replacing PUT, and a reconcile with nothing to
/// change costs none.
#[tokio::test]
async fn a_changed_description_is_one_put() {
    let env = start("e2e-app-put", Options::default()).await;
    let mut s = spec("extapp", "extapp-secret");
    s["description"] = json!("first");
    s["redirectUri"] = json!("http://redirect.example.com");
    create_app(&env, "extapp", s).await;
    let client_id = record(&wait_app_ready(&env, "extapp").await).client_id;
    assert_eq!(
        env.quay.request_count(UPDATE),
        0,
        "created as the spec says"
    );
    patch_spec(&env, "extapp", json!({"description": "changed"})).await;
    wait_app(&env, "extapp", "Ready for generation 2", |a| {
        condition(a).is_some_and(|(r, _)| r)
            && a.status.as_ref().and_then(|s| s.observed_generation) == Some(2)
    })
    .await;
    assert_eq!(env.quay.request_count(UPDATE), 1);
    let in_quay = env.quay.app(&client_id).unwrap();
    assert_eq!(in_quay.description, "changed");
    assert_eq!(
        in_quay.redirect_uri, "http://redirect.example.com",
        "a PUT replaces: the other fields were sent as they were"
    );
    let before = app_reconciles(&env);
    let touch = json!({"metadata": {"annotations": {"example.com/touch": "1"}}});
    apps(&env)
        .patch("extapp", &PatchParams::default(), &Patch::Merge(&touch))
        .await
        .unwrap();
    wait_reconciles(&env, before, 1).await;
    assert_eq!(
        env.quay.request_count(UPDATE),
        1,
        "nothing differed: no PUT"
    );
    let events = env.events("extapp").await;
    assert!(
        events
            .iter()
            .any(|(t, r, n)| t == "Normal" && r == "Updated" && n.contains("description")),
        "{events:?}"
    );
}

/// newName renames the application; its client ID, and so every ApiToken's, stays.
#[tokio::test]
async fn new_name_renames_and_keeps_the_client_id() {
    let env = start("e2e-app-rename", Options::default()).await;
    create_app(&env, "app", spec("oldname", "app-secret")).await;
    let client_id = record(&wait_app_ready(&env, "app").await).client_id;
    patch_spec(&env, "app", json!({"newName": "newname"})).await;
    let app = wait_app(&env, "app", "renamed", |a| {
        condition(a).is_some_and(|(r, _)| r)
            && a.status.as_ref().and_then(|s| s.observed_generation) == Some(2)
    })
    .await;
    assert_eq!(record(&app).client_id, client_id);
    assert_eq!(env.quay.app(&client_id).unwrap().name, "newname");
    assert_eq!(env.quay.app_count(ORG, "oldname"), 0);
    assert_eq!(env.quay.apps(ORG).len(), 2, "the fixture's and this one");
    let data = env.secret_data(&env.ns.name, "app-secret").await.unwrap();
    assert_eq!(
        (data["clientId"].as_str(), data["name"].as_str()),
        (client_id.as_str(), "newname")
    );
}

/// Deleted in Quay behind the operator's back: the Application creates it again on its next
/// check and writes the new client ID; the ApiToken, whose token died with the application
/// (protocol §14), mints for the new one and is Ready again.
#[tokio::test]
async fn an_application_deleted_in_quay_is_recreated_and_its_apitoken_recovers() {
    let env = start("e2e-app-gone", fast()).await;
    create_app(&env, "extapp", spec("extapp", "extapp-secret")).await;
    env.create_token(token_for("tok", "extapp-secret", &["repo:read"]))
        .await;
    let old = record(&wait_app_ready(&env, "extapp").await).client_id;
    let old_token = token_id(&env.wait_ready("tok").await).unwrap();
    assert!(env.quay.delete_app(&old));
    let app = wait_app(&env, "extapp", "recreated", |a| {
        condition(a).is_some_and(|(r, _)| r)
            && a.status
                .as_ref()
                .and_then(|s| s.application.as_ref())
                .is_some_and(|r| r.client_id != old)
    })
    .await;
    let new = record(&app).client_id;
    assert_eq!(env.quay.app(&new).unwrap().name, "extapp");
    assert_eq!(env.quay.app_count(ORG, "extapp"), 1);
    wait_for(PATIENCE, "the Secret holds the new client ID", || async {
        let data = env.secret_data(&env.ns.name, "extapp-secret").await?;
        (data.get("clientId") == Some(&new)).then_some(())
    })
    .await;
    let token = env
        .wait_token("tok", "Ready for the new application", |t| {
            ready(t) == Some(true)
                && t.status
                    .as_ref()
                    .and_then(|s| s.token.as_ref())
                    .is_some_and(|r| r.client_id == new)
        })
        .await;
    let id = token_id(&token).unwrap();
    assert_ne!(id, old_token);
    let value = env.wait_delivered("tok", &id).await;
    let live = env
        .quay
        .tokens()
        .into_iter()
        .find(|t| t.token == value)
        .unwrap();
    assert_eq!(live.client_id, new);
    let events = env.events("extapp").await;
    assert!(
        events
            .iter()
            .any(|(t, r, n)| t == "Warning" && r == "Recreated" && n.contains(&old)),
        "{events:?}"
    );
}

/// Edits in Quay's UI and a deleted result Secret are repaired; a client secret reset in
/// Quay reaches the Secret.
#[tokio::test]
async fn drift_in_quay_and_in_the_secret_is_repaired() {
    let env = start("e2e-app-drift", fast()).await;
    let mut s = spec("extapp", "extapp-secret");
    s["description"] = json!("declared");
    create_app(&env, "extapp", s).await;
    let client_id = record(&wait_app_ready(&env, "extapp").await).client_id;
    assert!(env.quay.update_app(
        &client_id,
        AppUpdate {
            description: Some("edited in the UI".into()),
            client_secret: Some("RESETSECRET0123456789RESETSECRET01234567".into()),
            ..AppUpdate::default()
        }
    ));
    wait_for(PATIENCE, "the description repaired", || async {
        (env.quay.app(&client_id)?.description == "declared").then_some(())
    })
    .await;
    wait_for(PATIENCE, "the reset client secret delivered", || async {
        let data = env.secret_data(&env.ns.name, "extapp-secret").await?;
        (data.get("clientSecret").map(String::as_str)
            == Some("RESETSECRET0123456789RESETSECRET01234567"))
        .then_some(())
    })
    .await;
    env.secrets_in(&env.ns.name)
        .delete("extapp-secret", &DeleteParams::default())
        .await
        .unwrap();
    wait_for(PATIENCE, "the Secret written again", || async {
        let data = env.secret_data(&env.ns.name, "extapp-secret").await?;
        (data.get("clientId") == Some(&client_id)).then_some(())
    })
    .await;
    assert_eq!(
        env.quay.request_count(CREATE),
        1,
        "nothing created on the way"
    );
}
