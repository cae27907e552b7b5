//! A table of bad inputs and refusals: each ends Ready False with its own reason, a message
//! naming the field or key to fix, exactly one Warning event, a bounded number of reconciles,
//! and no panic; the Secrets it names are left as they were.

use crate::env::*;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::PostParams;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// One case: the ApiToken's name, its spec, the reason, and a text the message must contain.
struct Case {
    name: &'static str,
    spec: Value,
    reason: &'static str,
    text: String,
}

fn case(name: &'static str, spec: Value, reason: &'static str, text: impl Into<String>) -> Case {
    Case {
        name,
        spec,
        reason,
        text: text.into(),
    }
}

/// A connection Secret with one key changed (`None` removes it).
fn conn_with(env: &Env, key: &str, value: Option<&str>) -> BTreeMap<String, String> {
    let mut data = env.conn_data(ADMIN, ADMIN_PASSWORD);
    match value {
        Some(v) => data.insert(key.to_owned(), v.to_owned()),
        None => data.remove(key),
    };
    data
}

#[tokio::test]
async fn every_bad_input_is_named_once_and_never_loops() {
    crate::capture::install();
    let env = Env::start("e2e-badin").await;
    let ns = env.ns.name.clone();
    let cid = env.app.client_id.clone();
    env.quay.add_user("disabled", "Dis4bled-Passw0rd");
    env.quay.set_user_enabled("disabled", false);

    let secrets: Vec<(&str, BTreeMap<String, String>)> = vec![
        ("no-host", conn_with(&env, "host", None)),
        ("no-username", conn_with(&env, "username", None)),
        ("no-password", conn_with(&env, "password", None)),
        ("empty-host", conn_with(&env, "host", Some(""))),
        ("empty-password", conn_with(&env, "password", Some(""))),
        (
            "bad-host",
            conn_with(&env, "host", Some("http://exa mple.com:99999")),
        ),
        (
            "bad-validate",
            conn_with(&env, "validateCerts", Some("maybe")),
        ),
        ("bad-timeout", conn_with(&env, "timeout", Some("soon"))),
        ("zero-timeout", conn_with(&env, "timeout", Some("0"))),
        (
            "bad-ca",
            conn_with(&env, "caCert", Some("not a certificate")),
        ),
        (
            "token-only",
            BTreeMap::from([
                ("host".to_owned(), env.quay.url()),
                ("token".to_owned(), "abc".to_owned()),
            ]),
        ),
        ("wrong-password", env.conn_data(ADMIN, "Not-The-Passw0rd")),
        (
            "unknown-user",
            env.conn_data("nobody-here", "Some-Passw0rd"),
        ),
        (
            "disabled-user",
            env.conn_data("disabled", "Dis4bled-Passw0rd"),
        ),
        ("not-admin", env.conn_data(OTHER_USER, OTHER_PASSWORD)),
        (
            "dead-host",
            BTreeMap::from([
                ("host".to_owned(), "http://127.0.0.1:1".to_owned()),
                ("username".to_owned(), ADMIN.to_owned()),
                ("password".to_owned(), ADMIN_PASSWORD.to_owned()),
                ("timeout".to_owned(), "2".to_owned()),
            ]),
        ),
        (
            "app-no-key",
            BTreeMap::from([("other".to_owned(), "x".to_owned())]),
        ),
        (
            "app-empty-key",
            BTreeMap::from([("clientId".to_owned(), String::new())]),
        ),
        (
            "someone-elses",
            BTreeMap::from([("mine".to_owned(), "keep me".to_owned())]),
        ),
    ];
    // Secrets are named `s-…` so that no ApiToken's default result Secret is one of them.
    for (name, data) in &secrets {
        env.put_secret(&ns, &format!("s-{name}"), data.clone())
            .await;
    }
    // A password that is not UTF-8 can only be written as raw data.
    let raw = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some("s-binary-password".into()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([
            ("host".to_owned(), ByteString(env.quay.url().into_bytes())),
            ("username".to_owned(), ByteString(ADMIN.as_bytes().to_vec())),
            (
                "password".to_owned(),
                ByteString(vec![0xff, 0xfe, 0x00, 0x80]),
            ),
        ])),
        ..Default::default()
    };
    env.secrets_in(&ns)
        .create(&PostParams::default(), &raw)
        .await
        .unwrap();

    let conn = |secret: &str| json!({"connSecretRef": {"name": secret}, "clientId": cid});
    let invalid = "InvalidConnectionSecret";
    let mut cases = vec![
        case(
            "conn-missing",
            conn("nope"),
            "ConnectionSecretMissing",
            format!("connSecretRef: {ns}/nope: secret not found"),
        ),
        case("no-host", conn("s-no-host"), invalid, "no `host` key"),
        case(
            "no-username",
            conn("s-no-username"),
            invalid,
            "no `username` key",
        ),
        case(
            "no-password",
            conn("s-no-password"),
            invalid,
            "no `password` key",
        ),
        case("empty-host", conn("s-empty-host"), invalid, "`host` key"),
        case(
            "empty-password",
            conn("s-empty-password"),
            invalid,
            "`password` key",
        ),
        case("bad-host", conn("s-bad-host"), invalid, "`host` key"),
        case(
            "binary-password",
            conn("s-binary-password"),
            invalid,
            "`password` key",
        ),
        case(
            "bad-validate",
            conn("s-bad-validate"),
            invalid,
            "`validateCerts` key",
        ),
        case(
            "bad-timeout",
            conn("s-bad-timeout"),
            invalid,
            "`timeout` key",
        ),
        case(
            "zero-timeout",
            conn("s-zero-timeout"),
            invalid,
            "`timeout` key",
        ),
        case("bad-ca", conn("s-bad-ca"), invalid, "`caCert` key"),
        case("token-only", conn("s-token-only"), invalid, "`token`"),
        case(
            "wrong-password",
            conn("s-wrong-password"),
            "InvalidCredentials",
            format!("`{ADMIN}`"),
        ),
        case(
            "unknown-user",
            conn("s-unknown-user"),
            "InvalidCredentials",
            "`nobody-here`",
        ),
        case(
            "disabled-user",
            conn("s-disabled-user"),
            "UserDisabled",
            "`disabled`",
        ),
        case(
            "not-admin",
            conn("s-not-admin"),
            "NotOrganizationAdmin",
            format!("`{OTHER_USER}` is not an administrator of organization `{ORG}`"),
        ),
        case(
            "dead-host",
            conn("s-dead-host"),
            "QuayUnreachable",
            "127.0.0.1:1",
        ),
        case(
            "unknown-client",
            json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": "NOSUCHCLIENTID000000"}),
            "UnknownClientId",
            "`NOSUCHCLIENTID000000`",
        ),
        case(
            "app-secret-missing",
            json!({"connSecretRef": {"name": "quay-credentials"}, "clientIdFrom": {"name": "no-app"}}),
            "ClientIdSecretMissing",
            format!("clientIdFrom: {ns}/no-app"),
        ),
        case(
            "app-no-key",
            json!({"connSecretRef": {"name": "quay-credentials"}, "clientIdFrom": {"name": "s-app-no-key"}}),
            "ClientIdKeyMissing",
            "key clientId not found",
        ),
        case(
            "app-other-key",
            json!({"connSecretRef": {"name": "quay-credentials"}, "clientIdFrom": {"name": "s-app-no-key", "key": "appId"}}),
            "ClientIdKeyMissing",
            "key appId not found",
        ),
        case(
            "app-empty-key",
            json!({"connSecretRef": {"name": "quay-credentials"}, "clientIdFrom": {"name": "s-app-empty-key"}}),
            "ClientIdKeyMissing",
            "key clientId: the value is not a Quay client ID",
        ),
        case(
            "super-user",
            json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": cid, "rights": ["super:user"]}),
            "RightNotHeld",
            "`super:user`",
        ),
        case(
            "for-nobody",
            json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": cid, "forUser": "no-such-user"}),
            "UserNotFound",
            "`no-such-user`",
        ),
        case(
            "ret-is-conn",
            json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": cid, "retSecretRef": {"name": "quay-credentials"}}),
            "SecretConflict",
            "connSecretRef",
        ),
        case(
            "ret-foreign",
            json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": cid, "retSecretRef": {"name": "s-someone-elses"}}),
            "SecretConflict",
            format!("retSecretRef: {ns}/s-someone-elses"),
        ),
        case(
            "ret-no-namespace",
            json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": cid, "retSecretRef": {"name": "out", "namespace": "no-such-namespace-here"}}),
            "ResultNamespaceMissing",
            "retSecretRef.namespace: namespace no-such-namespace-here",
        ),
    ];
    assert!(cases.len() >= 25, "{} cases", cases.len());
    cases.sort_by_key(|c| c.name);
    for c in &cases {
        env.create(c.name, c.spec.clone()).await;
    }
    for c in &cases {
        let failed = env.wait_reason(c.name, c.reason).await;
        let text = message(&failed);
        assert!(text.contains(c.text.as_str()), "{}: {text}", c.name);
        assert!(!text.contains(ADMIN_PASSWORD) && !text.contains("Not-The-Passw0rd"));
    }
    // A quiet while: transient cases back off, permanent ones wait for a change. A rate over
    // an interval has no event to wait for, so the interval is slept; it starts only once
    // every case's status (above) shows its first reconcile done.
    let reconciles = env.operator().reconciles();
    tokio::time::sleep(Duration::from_secs(8)).await;
    let more = env.operator().reconciles() - reconciles;
    assert!(
        more <= cases.len() as u64,
        "{more} reconciles in 8 s for {} failing ApiTokens",
        cases.len()
    );
    for c in &cases {
        let warnings: Vec<_> = env
            .events(c.name)
            .await
            .into_iter()
            .filter(|(kind, reason, _)| kind == "Warning" && reason == c.reason)
            .collect();
        assert_eq!(
            warnings.len(),
            1,
            "{}: one Warning event: {warnings:?}",
            c.name
        );
    }
    let foreign = env.secret_data(&ns, "s-someone-elses").await.unwrap();
    assert_eq!(
        foreign,
        BTreeMap::from([("mine".to_owned(), "keep me".to_owned())])
    );
    assert!(env.quay.tokens().is_empty(), "nothing was minted");
    assert!(
        !crate::capture::logs().contains("panicked"),
        "no panic in the operator's logs"
    );
}
