//! Robustness at the edges of what the operator may do: deletion under RBAC refusals (§6), a
//! result namespace that does not exist, and a result Secret that appears mid-reconcile (§4).

use crate::env::*;
use crate::support::wait_for;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{DeleteParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// What the chart grants the operator, as a Role for one namespace.
fn operator_rules() -> Value {
    json!([
        {"apiGroups": ["quay.herve4m.github.io"], "resources": ["apitokens"], "verbs": ["get", "list", "watch", "patch", "update"]},
        {"apiGroups": ["quay.herve4m.github.io"], "resources": ["apitokens/status"], "verbs": ["get", "patch", "update"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch", "create", "patch", "update", "delete"]},
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
    ])
}

/// Grants `user` the `rules` in `ns` (a Role and its RoleBinding, both named `name`).
async fn grant(client: &Client, ns: &str, name: &str, user: &str, rules: Value) {
    let role: Role = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns}, "rules": rules,
    }))
    .unwrap();
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }))
    .unwrap();
    Api::<Role>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    Api::<RoleBinding>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
}

/// A client acting as `user` (the admin impersonating it), so RBAC applies as to the operator.
async fn impersonating(user: &str) -> Client {
    let kubeconfig = Kubeconfig::read_from(crate::support::kubeconfig()).unwrap();
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .unwrap();
    config.auth_info.impersonate = Some(user.to_string());
    Client::try_from(config).unwrap()
}

fn has_event(events: &[(String, String, String)], reason: &str, texts: &[&str]) -> bool {
    events
        .iter()
        .any(|(t, r, n)| t == "Warning" && r == reason && texts.iter().all(|x| n.contains(x)))
}

/// An operator refused (403) reading or deleting the result Secret, or reading the connection
/// Secret, still releases the finalizer, and a Warning names what it left behind.
#[tokio::test]
async fn deletion_never_hangs_on_a_forbidden_secret() {
    crate::capture::install();
    let mut env = Env::start_with(
        "e2e-rb403",
        Options {
            extra_namespaces: 2,
            ..Options::default()
        },
    )
    .await;
    let ns = env.ns.name.clone();
    let (hidden, readonly) = (env.extra[0].clone(), env.extra[1].clone());
    let cid = env.app.client_id.clone();
    env.put_secret(
        &hidden,
        "far-credentials",
        env.conn_data(ADMIN, ADMIN_PASSWORD),
    )
    .await;
    env.create("unreadable", json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": cid, "retSecretRef": {"name": "out", "namespace": hidden}})).await;
    env.create("undeletable", json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": cid, "retSecretRef": {"name": "out", "namespace": readonly}})).await;
    env.create(
        "far-conn",
        json!({"connSecretRef": {"name": "far-credentials", "namespace": hidden}, "clientId": cid}),
    )
    .await;
    env.wait_ready("unreadable").await;
    env.wait_ready("undeletable").await;
    let far_id = token_id(&env.wait_ready("far-conn").await).unwrap();
    assert_eq!(env.quay.tokens().len(), 3);

    // From here the operator's RBAC ends at the ApiTokens' namespace, plus reading Secrets in
    // `readonly`; `hidden` it may not touch at all.
    env.stop_operator().await;
    for name in ["unreadable", "undeletable", "far-conn"] {
        env.tokens()
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
    }
    let user = format!("qao-restricted-{ns}");
    grant(&env.ns.client, &ns, "qao-operator", &user, operator_rules()).await;
    grant(
        &env.ns.client,
        &readonly,
        "qao-read-secrets",
        &user,
        json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}]),
    )
    .await;
    let restricted = impersonating(&user).await;
    let (own, readable, forbidden): (Api<Secret>, Api<Secret>, Api<Secret>) = (
        Api::namespaced(restricted.clone(), &ns),
        Api::namespaced(restricted.clone(), &readonly),
        Api::namespaced(restricted.clone(), &hidden),
    );
    wait_for(PATIENCE, "the restricted user's RBAC in force", || async {
        (own.get_opt("quay-credentials").await.is_ok() && readable.get_opt("out").await.is_ok())
            .then_some(())
    })
    .await;
    let refused = forbidden.get_opt("out").await.unwrap_err();
    assert!(
        matches!(&refused, kube::Error::Api(s) if s.code == 403),
        "{refused}"
    );
    env.operator = Some(Operator::start(restricted, vec![ns.clone()], env.settings.clone()).await);

    for name in ["unreadable", "undeletable", "far-conn"] {
        env.wait_gone(name).await;
    }
    let unreadable = env.events("unreadable").await;
    let hidden_out = format!("{hidden}/out");
    assert!(
        has_event(
            &unreadable,
            "ResultSecretLeft",
            &[&hidden_out, "could not be read", "forbidden"]
        ),
        "{unreadable:?}"
    );
    let undeletable = env.events("undeletable").await;
    let readonly_out = format!("{readonly}/out");
    assert!(
        has_event(
            &undeletable,
            "ResultSecretLeft",
            &[&readonly_out, "could not be deleted", "forbidden"]
        ),
        "{undeletable:?}"
    );
    assert!(env.secret_data(&hidden, "out").await.is_some());
    assert!(env.secret_data(&readonly, "out").await.is_some());
    // Revocation needs only Quay and the connection Secret, so those two tokens are revoked.
    let far_conn = env.events("far-conn").await;
    assert!(
        has_event(&far_conn, "LeftInQuay", &[&far_id]),
        "{far_conn:?}"
    );
    let live: Vec<String> = env.quay.tokens().into_iter().map(|t| t.uuid).collect();
    assert_eq!(live, vec![far_id], "only the unrevocable token stays");
    assert!(
        env.secret_data(&ns, "far-conn").await.is_none(),
        "its result Secret, which the operator may delete, is deleted"
    );
}

/// A `retSecretRef.namespace` that does not exist is reported before anything is minted, and
/// creating the namespace heals it with one token.
#[tokio::test]
async fn missing_result_namespace_is_reported_before_any_mint() {
    crate::capture::install();
    let env = Env::start("e2e-rbns").await;
    let missing = format!("{}-later", env.ns.name);
    env.create_token(env.apitoken("nowhere").secret_in("out", &missing))
        .await;

    let failed = env.wait_reason("nowhere", "ResultNamespaceMissing").await;
    let text = message(&failed);
    assert!(
        text.contains("retSecretRef.namespace") && text.contains(&missing),
        "{text}"
    );
    assert!(env.quay.tokens().is_empty(), "nothing was minted");
    let status = failed.status.clone().unwrap_or_default();
    assert!(status.pending_mint.is_none() && status.token.is_none() && !status.exist_in_quay);
    wait_for(PATIENCE, "a ResultNamespaceMissing Warning", || async {
        has_event(
            &env.events("nowhere").await,
            "ResultNamespaceMissing",
            &[&missing],
        )
        .then_some(())
    })
    .await;

    let namespace: Namespace =
        serde_json::from_value(json!({"metadata": {"name": missing}})).unwrap();
    Api::<Namespace>::all(env.ns.client.clone())
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap();
    env.wait_ready("nowhere").await;
    let data = env.secret_data(&missing, "out").await.unwrap();
    assert!(data.contains_key("accessToken"));
    assert_eq!(env.quay.tokens().len(), 1, "one token, minted once");
}

/// A Secret created by someone else while the first mint is in flight (after the ownership
/// check, before the write) is never overwritten; the ApiToken reports the conflict.
#[tokio::test]
async fn secret_appearing_during_the_first_mint_is_never_overwritten() {
    crate::capture::install();
    let env = Env::start("e2e-rbrace").await;
    let mint = "POST /api/v1/organization/{org}/applications/{client_id}/tokens";
    env.quay.set_faults(quay_emulator::Faults {
        rules: vec![quay_emulator::FaultRule {
            endpoint: Some(mint.into()),
            latency_ms: Some(3000),
            ..Default::default()
        }],
    });
    env.create_token(env.apitoken("racer").secret("contested"))
        .await;
    wait_for(PATIENCE, "the mint in flight", || async {
        (env.quay.request_count(mint) > 0).then_some(())
    })
    .await;
    let ns = env.ns.name.clone();
    env.put_secret(
        &ns,
        "contested",
        BTreeMap::from([("owner".to_string(), "someone else".to_string())]),
    )
    .await;
    let before = env.secrets_in(&ns).get("contested").await.unwrap();
    env.wait_reason("racer", "SecretConflict").await;
    let after = env.secrets_in(&ns).get("contested").await.unwrap();
    assert_eq!(after, before, "the other Secret is not touched at all");
}
