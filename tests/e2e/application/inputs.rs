//! Bad input, refused by the API server's schema or judged by the operator and Quay.

use super::fixture::*;
use crate::env::*;
use kube::api::{DynamicObject, PostParams};
use kube::core::ApiResource;
use kube::{Api, Resource};
use quay_apitoken_operator::application::Application;
use serde_json::json;
use std::collections::BTreeMap;

/// The API server refuses what the schema can tell: a missing organization, a one-character
/// name; each refusal names the field.
#[tokio::test]
async fn the_api_server_refuses_a_missing_organization_and_a_short_name() {
    let env = start("e2e-app-schema", Options::default()).await;
    let resource = ApiResource::erase::<Application>(&());
    let api: Api<DynamicObject> =
        Api::namespaced_with(env.ns.client.clone(), &env.ns.name, &resource);
    let cases = [
        (
            "no-org",
            json!({"connSecretRef": {"name": "quay-credentials"}, "name": "extapp"}),
            "spec.organization",
        ),
        (
            "short",
            json!({"connSecretRef": {"name": "quay-credentials"}, "organization": ORG, "name": "x"}),
            "spec.name",
        ),
        (
            "short-new",
            json!({"connSecretRef": {"name": "quay-credentials"}, "organization": ORG,
                   "name": "xy", "newName": "z"}),
            "spec.newName",
        ),
    ];
    for (name, spec, field) in cases {
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": Application::api_version(&()), "kind": "Application",
            "metadata": {"name": name}, "spec": spec,
        }))
        .unwrap();
        let err = api
            .create(&PostParams::default(), &object)
            .await
            .expect_err(name);
        let text = match err {
            kube::Error::Api(s) => s.message,
            other => other.to_string(),
        };
        assert!(text.contains(field), "{name}: {text}");
    }
    assert!(env.quay.apps(ORG).len() == 1, "nothing reached Quay");
}

/// Inputs only Quay or the operator can judge: each ends Ready False with its reason, a
/// message naming the field or key, a Warning event, and nothing created in Quay.
#[tokio::test]
async fn bad_inputs_are_named_and_create_nothing() {
    let env = start("e2e-app-badin", Options::default()).await;
    let ns = env.ns.name.clone();
    env.put_secret(&ns, "outsider", env.conn_data(OTHER_USER, OTHER_PASSWORD))
        .await;
    env.put_secret(
        &ns,
        "no-credentials",
        BTreeMap::from([("host".to_string(), env.quay.url())]),
    )
    .await;
    let with = |conn: &str, org: &str| json!({"connSecretRef": {"name": conn}, "organization": org, "name": "extapp"});
    let cases = [
        (
            "unknown-org",
            with("quay-credentials", "nosuchorg"),
            "UnknownOrganization",
            vec!["spec.organization", "nosuchorg"],
        ),
        (
            "not-admin",
            with("outsider", ORG),
            "NotOrganizationAdmin",
            vec!["spec.organization", OTHER_USER],
        ),
        (
            "no-conn",
            with("missing", ORG),
            "ConnectionSecretMissing",
            vec!["connSecretRef", "missing"],
        ),
        (
            "no-creds",
            with("no-credentials", ORG),
            "InvalidConnectionSecret",
            vec!["connSecretRef", "`token`", "`username`"],
        ),
        (
            "foreign-secret",
            json!({"connSecretRef": {"name": "quay-credentials"}, "organization": ORG,
                   "name": "extapp", "retSecretRef": {"name": "quay-credentials"}}),
            "SecretConflict",
            vec!["retSecretRef", "connection Secret"],
        ),
    ];
    for (name, spec, _, _) in &cases {
        create_app(&env, name, spec.clone()).await;
    }
    for (name, _, reason, texts) in &cases {
        let app = wait_app_reason(&env, name, reason).await;
        let message = app_message(&app);
        for text in texts {
            assert!(message.contains(text), "{name}: {message}");
        }
        let events = env.events(name).await;
        assert!(
            events.iter().any(|(t, r, _)| t == "Warning" && r == reason),
            "{name}: {events:?}"
        );
    }
    assert_eq!(env.quay.request_count(CREATE), 0, "nothing was created");
    assert_eq!(
        env.secret_data(&ns, "quay-credentials").await.unwrap(),
        env.conn_data(ADMIN, ADMIN_PASSWORD),
        "the connection Secret is untouched"
    );
}
