//! Consent for cross-namespace references (`--cross-namespace-refs=grant`, the default): a Secret
//! of another namespace is read or written only where a ReferenceGrant there allows it; and a
//! reference the policy refuses never affects another tenant's ApiToken.

use crate::application::fixture::{
    CREATE, app_message, apps, create_app, wait_app_ready, wait_app_reason,
};
use crate::env::*;
use crate::support::{wait_for, wait_for_object};
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use quay_apitoken_operator::context::CrossNamespacePolicy;
use quay_apitoken_operator::crd::ApiToken;
use quay_apitoken_operator::reference_grants::ReferenceGrant;
use serde_json::{Value, json};

const MINT: &str = "POST /api/v1/organization/{org}/applications/{client_id}/tokens";

/// A fixture under `policy` with one more watched namespace (the "other team"), whose name it
/// returns beside it.
async fn start(prefix: &str, policy: CrossNamespacePolicy) -> (Env, String) {
    crate::capture::install();
    let env = Env::start_with(
        prefix,
        Options {
            extra_namespaces: 1,
            policy,
            ..Options::default()
        },
    )
    .await;
    let other = env.extra[0].clone();
    (env, other)
}

/// Creates a ReferenceGrant in `ns` from `kind` objects of `from` to Secrets (one by name, or all).
async fn grant(env: &Env, ns: &str, name: &str, kind: &str, from: &str, secret: Option<&str>) {
    let mut to = json!({"group": "", "kind": "Secret"});
    if let Some(secret) = secret {
        to["name"] = Value::String(secret.into());
    }
    let body = json!({
        "apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "from": [{"group": "quay.herve4m.github.io", "kind": kind, "namespace": from}],
            "to": [to],
        },
    });
    Api::<ReferenceGrant>::namespaced(env.ns.client.clone(), ns)
        .patch(
            name,
            &PatchParams::apply("consent-tests"),
            &Patch::Apply(&body),
        )
        .await
        .unwrap();
}

async fn ungrant(env: &Env, ns: &str, name: &str) {
    Api::<ReferenceGrant>::namespaced(env.ns.client.clone(), ns)
        .delete(name, &DeleteParams::default())
        .await
        .unwrap();
}

/// Waits until an ApiToken is refused for a reference of `field` into `ns`, and returns its
/// message, which must say what is missing.
async fn wait_refused(env: &Env, name: &str, field: &str, ns: &str) -> String {
    let t = env.wait_reason(name, "CrossNamespaceDenied").await;
    let m = message(&t);
    assert!(
        m.starts_with(&format!("{field}: namespace {ns} ")) && m.contains("ReferenceGrant"),
        "{m}"
    );
    m
}

/// The connection Secret, the client ID and the result Secret each need the other namespace's
/// consent: without a grant nothing is read, written or minted; with one all three work; when
/// it goes, the ApiTokens are refused again.
#[tokio::test]
async fn each_reference_into_another_namespace_needs_a_reference_grant() {
    let (env, other) = start("e2e-grant", CrossNamespacePolicy::Grant).await;
    env.put_inputs_in(&other).await;
    let cid = env.app.client_id.clone();
    env.create(
        "conn",
        json!({"connSecretRef": {"name": "creds", "namespace": other}, "clientId": cid}),
    )
    .await;
    env.create(
        "cid",
        json!({"connSecretRef": {"name": "quay-credentials"}, "clientIdFrom": {"name": "app", "key": "id", "namespace": other}}),
    )
    .await;
    env.create(
        "ret",
        json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": cid, "retSecretRef": {"name": "ret-out", "namespace": other}}),
    )
    .await;
    wait_refused(&env, "conn", "connSecretRef", &other).await;
    wait_refused(&env, "cid", "clientIdFrom", &other).await;
    wait_refused(&env, "ret", "retSecretRef", &other).await;
    assert_eq!(env.quay.request_count(MINT), 0, "nothing minted");
    assert!(env.secret_data(&other, "ret-out").await.is_none());

    grant(&env, &other, "team", "ApiToken", &env.ns.name, None).await;
    for name in ["conn", "cid", "ret"] {
        env.wait_ready(name).await;
    }
    let out = env
        .secret_data(&other, "ret-out")
        .await
        .expect("the result Secret in the other namespace");
    assert!(env.live_token_values().contains(&out["accessToken"]));

    ungrant(&env, &other, "team").await;
    wait_refused(&env, "conn", "connSecretRef", &other).await;
    wait_refused(&env, "cid", "clientIdFrom", &other).await;
    wait_refused(&env, "ret", "retSecretRef", &other).await;
}

/// A grant by name covers that Secret only, and a grant to Applications none of an ApiToken's.
#[tokio::test]
async fn a_grant_by_name_covers_that_secret_only() {
    let (env, other) = start("e2e-grantname", CrossNamespacePolicy::Grant).await;
    for name in ["creds", "creds-2"] {
        env.put_secret(&other, name, env.conn_data(ADMIN, ADMIN_PASSWORD))
            .await;
    }
    grant(&env, &other, "one", "ApiToken", &env.ns.name, Some("creds")).await;
    grant(&env, &other, "apps", "Application", &env.ns.name, None).await;
    env.create_token(env.apitoken("named").connection_in("creds", &other))
        .await;
    env.create_token(env.apitoken("unnamed").connection_in("creds-2", &other))
        .await;
    env.wait_ready("named").await;
    let m = wait_refused(&env, "unnamed", "connSecretRef", &other).await;
    assert!(m.contains("to the Secret creds-2"), "{m}");
    assert_eq!(env.quay.tokens().len(), 1);
}

/// Item 6, as a tenant tries it: under the default policy an ApiToken of one namespace cannot
/// mint with another namespace's credentials, nor learn whether a Secret exists there.
#[tokio::test]
async fn a_tenant_cannot_use_or_probe_another_namespaces_secrets() {
    let (env, other) = start("e2e-probe", CrossNamespacePolicy::Grant).await;
    env.put_secret(&other, "quay-admin", env.conn_data(ADMIN, ADMIN_PASSWORD))
        .await;
    env.create_token(env.apitoken("exists").connection_in("quay-admin", &other))
        .await;
    env.create_token(env.apitoken("absent").connection_in("no-such-one", &other))
        .await;
    let exists = wait_refused(&env, "exists", "connSecretRef", &other).await;
    let absent = wait_refused(&env, "absent", "connSecretRef", &other).await;
    assert_eq!(
        exists.replace("quay-admin", "NAME"),
        absent.replace("no-such-one", "NAME"),
        "the answer must not depend on the Secret existing"
    );
    assert_eq!(env.quay.request_count("POST /api/v1/signin"), 0);
    assert!(env.quay.tokens().is_empty());
}

/// Applications need the same consent, for their connection and result Secrets.
#[tokio::test]
async fn an_application_needs_a_grant_for_another_namespace() {
    let (env, other) = start("e2e-grantapp", CrossNamespacePolicy::Grant).await;
    env.put_secret(&other, "creds", env.conn_data(ADMIN, ADMIN_PASSWORD))
        .await;
    create_app(
        &env,
        "conn",
        json!({"connSecretRef": {"name": "creds", "namespace": other}, "organization": ORG, "name": "consent-conn"}),
    )
    .await;
    create_app(
        &env,
        "ret",
        json!({"connSecretRef": {"name": "quay-credentials"}, "organization": ORG, "name": "consent-ret",
               "retSecretRef": {"name": "app-out", "namespace": other}}),
    )
    .await;
    for (name, field) in [("conn", "connSecretRef"), ("ret", "retSecretRef")] {
        let app = wait_app_reason(&env, name, "CrossNamespaceDenied").await;
        let m = app_message(&app);
        assert!(
            m.starts_with(&format!("{field}: namespace {other} ")) && m.contains("ReferenceGrant"),
            "{m}"
        );
    }
    assert_eq!(env.quay.request_count(CREATE), 0, "nothing created in Quay");
    assert!(env.secret_data(&other, "app-out").await.is_none());
    // A grant to ApiTokens is not one to Applications.
    grant(&env, &other, "tokens", "ApiToken", &env.ns.name, None).await;
    grant(&env, &other, "apps", "Application", &env.ns.name, None).await;
    wait_app_ready(&env, "conn").await;
    wait_app_ready(&env, "ret").await;
    let out = env.secret_data(&other, "app-out").await.expect("written");
    assert!(out.contains_key("clientId"), "{:?}", out.keys());
    ungrant(&env, &other, "apps").await;
    wait_app_reason(&env, "conn", "CrossNamespaceDenied").await;
    assert!(apps(&env).get("ret").await.is_ok());
}

/// Item 5: an intruder of another namespace names the victim's result Secret. The victim stays
/// Ready and still rotates; only the intruder reports a problem.
async fn the_victim_keeps_its_secret(policy: CrossNamespacePolicy, intruder_reason: &str) {
    let prefix = format!("e2e-victim-{policy:?}").to_lowercase();
    let (env, victim_ns) = start(&prefix, policy).await;
    env.put_secret(&victim_ns, "creds", env.conn_data(ADMIN, ADMIN_PASSWORD))
        .await;
    let victims: Api<ApiToken> = Api::namespaced(env.ns.client.clone(), &victim_ns);
    let victim = ApiTokenFixture::new("victim")
        .connection("creds")
        .client_id(&env.app.client_id)
        .secret("victim-out")
        .build();
    victims
        .create(&PostParams::default(), &victim)
        .await
        .unwrap();
    let first = wait_victim(&env, &victim_ns, "Ready", |_| true).await;

    env.create(
        "intruder",
        json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": env.app.client_id,
               "retSecretRef": {"name": "victim-out", "namespace": victim_ns}}),
    )
    .await;
    let intruder = env.wait_reason("intruder", intruder_reason).await;
    assert!(
        message(&intruder).starts_with("retSecretRef:"),
        "{}",
        message(&intruder)
    );

    // The victim rotates on demand, as if nobody had named its Secret.
    let patch =
        json!({"metadata": {"annotations": {"quay.herve4m.github.io/rotate": "after-intruder"}}});
    victims
        .patch("victim", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let rotated = wait_victim(&env, &victim_ns, "rotated and Ready", |id| id != first).await;
    wait_for(
        PATIENCE,
        "the victim's Secret holds the new token",
        || async {
            let live = env.quay.tokens().into_iter().find(|t| t.uuid == rotated)?;
            let data = env.secret_data(&victim_ns, "victim-out").await?;
            (data.get("accessToken") == Some(&live.token)).then_some(())
        },
    )
    .await;
    let victim = victims.get("victim").await.unwrap();
    assert_eq!(ready(&victim), Some(true), "{}", message(&victim));
    let intruder = env.tokens().get("intruder").await.unwrap();
    assert_eq!(ready_reason(&intruder).as_deref(), Some(intruder_reason));
    assert!(token_id(&intruder).is_none(), "the intruder minted nothing");
    // A reference the policy allows is reported on the victim too, by an event alone; one it
    // refuses never reaches the victim.
    let told: Vec<String> = env
        .events_in(&victim_ns, "victim")
        .await
        .into_iter()
        .filter(|(_, reason, _)| reason == "ResultSecretShared")
        .map(|(_, _, note)| note)
        .collect();
    if policy == CrossNamespacePolicy::Allow {
        let intruder = format!("ApiToken {}/intruder", env.ns.name);
        assert!(
            told.len() == 1 && told[0].contains(&intruder),
            "the victim is told once who names its Secret: {told:?}"
        );
    } else {
        assert!(
            told.is_empty(),
            "a refused reference tells the victim nothing: {told:?}"
        );
    }
}

/// Waits until the victim is Ready for its generation with a token `accept` takes; its id.
async fn wait_victim(env: &Env, ns: &str, what: &str, accept: impl Fn(&str) -> bool) -> String {
    wait_for_object(
        &env.ns.client,
        ns,
        "victim",
        PATIENCE,
        what,
        |t: Option<ApiToken>| {
            let t = t?;
            let id = token_id(&t)?;
            (ready(&t) == Some(true) && observed(&t) == t.metadata.generation && accept(&id))
                .then_some(id)
        },
    )
    .await
}

#[tokio::test]
async fn an_intruder_without_a_grant_leaves_the_victim_ready() {
    the_victim_keeps_its_secret(CrossNamespacePolicy::Grant, "CrossNamespaceDenied").await;
}

#[tokio::test]
async fn an_intruder_under_deny_leaves_the_victim_ready() {
    the_victim_keeps_its_secret(CrossNamespacePolicy::Deny, "CrossNamespaceDenied").await;
}

#[tokio::test]
async fn an_intruder_under_allow_is_the_only_one_in_conflict() {
    the_victim_keeps_its_secret(CrossNamespacePolicy::Allow, "SecretConflict").await;
}
