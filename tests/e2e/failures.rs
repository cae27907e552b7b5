//! Bad input and Quay refusals: each its own message, no hot loop, nothing clobbered (§3, §7).

use crate::env::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// A missing connection Secret is named; creating it makes the ApiToken Ready without touching it.
#[tokio::test]
async fn missing_connection_secret_is_named_and_creating_it_heals() {
    crate::capture::install();
    let env = Env::start("e2e-noconn").await;
    env.create_token(env.apitoken("late").connection("late-credentials"))
        .await;
    let failed = env.wait_reason("late", "ConnectionSecretMissing").await;
    let expected = format!(
        "connSecretRef: {}/late-credentials: secret not found",
        env.ns.name
    );
    assert!(message(&failed).contains(&expected), "{}", message(&failed));
    let generation = failed.metadata.generation;
    env.put_secret(
        &env.ns.name.clone(),
        "late-credentials",
        env.conn_data(ADMIN, ADMIN_PASSWORD),
    )
    .await;
    let ready = env.wait_ready("late").await;
    assert_eq!(
        ready.metadata.generation, generation,
        "the ApiToken itself was not touched"
    );
}

/// Each bad input or refusal gets its own reason and message, and none of them loops.
#[tokio::test]
async fn each_failure_has_its_message_and_no_hot_loop() {
    crate::capture::install();
    let env = Env::start("e2e-fail").await;
    let ns = env.ns.name.clone();
    env.put_secret(
        &ns,
        "wrong-password",
        env.conn_data(ADMIN, "not-the-password"),
    )
    .await;
    env.put_secret(&ns, "not-admin", env.conn_data(OTHER_USER, OTHER_PASSWORD))
        .await;
    env.put_secret(
        &ns,
        "no-client-key",
        BTreeMap::from([("other".to_string(), "x".to_string())]),
    )
    .await;
    let cid = env.app.client_id.clone();
    let cases = [
        (
            "no-id-secret",
            json!({"connSecretRef": {"name": "quay-credentials"}, "clientIdFrom": {"name": "missing-app"}}),
            "ClientIdSecretMissing",
            format!("clientIdFrom: {ns}/missing-app: secret not found"),
        ),
        (
            "no-id-key",
            json!({"connSecretRef": {"name": "quay-credentials"}, "clientIdFrom": {"name": "no-client-key"}}),
            "ClientIdKeyMissing",
            format!("clientIdFrom: {ns}/no-client-key: key clientId not found"),
        ),
        (
            "bad-password",
            json!({"connSecretRef": {"name": "wrong-password"}, "clientId": cid}),
            "InvalidCredentials",
            "rejected the username or password of `admin`".to_string(),
        ),
        (
            "unknown-client",
            json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": "NOSUCHCLIENTID000000"}),
            "UnknownClientId",
            "no OAuth application with client ID `NOSUCHCLIENTID000000`".to_string(),
        ),
        (
            "non-admin",
            json!({"connSecretRef": {"name": "not-admin"}, "clientId": cid}),
            "NotOrganizationAdmin",
            format!("`{OTHER_USER}` is not an administrator of organization `{ORG}`"),
        ),
    ];
    for (name, spec, _, _) in &cases {
        env.create(name, spec.clone()).await;
    }
    for (name, _, reason, text) in &cases {
        let failed = env.wait_reason(name, reason).await;
        assert!(
            message(&failed).contains(text.as_str()),
            "{name}: {}",
            message(&failed)
        );
        // The event follows the status write by a moment.
        crate::support::wait_for(
            PATIENCE,
            &format!("{name}: a Warning event with reason {reason}"),
            || async {
                env.events(name)
                    .await
                    .into_iter()
                    .any(|e| e.0 == "Warning" && e.1 == *reason)
                    .then_some(())
            },
        )
        .await;
    }
    // Every failure is permanent: over 10 s nothing is retried. Absence over an interval has
    // no event to wait for, so the interval is slept; it starts only once every case's
    // status and Warning event (above) show its reconcile done.
    let reconciles = env.operator().reconciles();
    env.quay.reset_counters();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let more = env.operator().reconciles() - reconciles;
    let requests: u64 = env.quay.request_counts().values().sum();
    assert!(
        more <= 5,
        "{more} reconciles in 10 s for 5 failing ApiTokens"
    );
    assert!(
        requests <= 2,
        "{requests} Quay requests in 10 s: {:?}",
        env.quay.request_counts()
    );
    assert!(env.quay.tokens().is_empty());
    // A wrong password was tried exactly once: retrying only lengthens Quay's lock-out.
    env.patch_secret(&ns, "wrong-password", "password", ADMIN_PASSWORD)
        .await;
    env.wait_ready("bad-password").await;
}

/// A result Secret that exists and is not ours is refused and left byte for byte as it was.
#[tokio::test]
async fn someone_elses_secret_is_never_clobbered() {
    crate::capture::install();
    let env = Env::start("e2e-clobber").await;
    let ns = env.ns.name.clone();
    env.put_secret(
        &ns,
        "taken",
        BTreeMap::from([("accessToken".to_string(), "keep-me".to_string())]),
    )
    .await;
    let before = env.secrets_in(&ns).get("taken").await.unwrap();
    let conn_before = env.secrets_in(&ns).get("quay-credentials").await.unwrap();
    env.create_token(env.apitoken("thief").secret("taken"))
        .await;
    env.create_token(env.apitoken("self").secret("quay-credentials"))
        .await;
    let thief = env.wait_reason("thief", "SecretConflict").await;
    assert!(
        message(&thief).contains("retSecretRef"),
        "{}",
        message(&thief)
    );
    let own = env.wait_reason("self", "SecretConflict").await;
    assert!(
        message(&own).contains("connection Secret"),
        "{}",
        message(&own)
    );
    // Both refusing reconciles have ended (the count comes last, after status and event):
    // whatever they were going to write is written.
    crate::support::wait_for(PATIENCE, "both refusals counted", || async {
        let refused = env.operator().series(
            "quay_apitoken_reconciles_total",
            r#"result="SecretConflict""#,
        );
        (refused >= 2).then_some(())
    })
    .await;
    let after = env.secrets_in(&ns).get("taken").await.unwrap();
    assert_eq!(before.data, after.data);
    assert_eq!(
        before.metadata.resource_version,
        after.metadata.resource_version
    );
    let conn_after = env.secrets_in(&ns).get("quay-credentials").await.unwrap();
    assert_eq!(
        conn_before.metadata.resource_version,
        conn_after.metadata.resource_version
    );
    assert!(
        env.quay.tokens().is_empty(),
        "nothing minted for a refused Secret"
    );
}

/// A bad key in the connection Secret is named in the message.
#[tokio::test]
async fn a_bad_connection_key_is_named() {
    crate::capture::install();
    let env = Env::start("e2e-badkey").await;
    let ns = env.ns.name.clone();
    let mut data = env.conn_data(ADMIN, ADMIN_PASSWORD);
    data.insert("validateCerts".into(), "perhaps".into());
    env.put_secret(&ns, "bad-validate", data).await;
    let mut only_token = BTreeMap::new();
    only_token.insert("host".to_string(), env.quay.url());
    only_token.insert("token".to_string(), "sometoken".to_string());
    env.put_secret(&ns, "token-only", only_token).await;
    env.create_token(env.apitoken("bv").connection("bad-validate"))
        .await;
    env.create_token(env.apitoken("to").connection("token-only"))
        .await;
    let bv = env.wait_reason("bv", "InvalidConnectionSecret").await;
    assert!(message(&bv).contains("validateCerts"), "{}", message(&bv));
    let to = env.wait_reason("to", "InvalidConnectionSecret").await;
    assert!(
        message(&to).contains("token") && message(&to).contains("username"),
        "{}",
        message(&to)
    );
}

/// Quay answering 5xx is transient: the ApiToken says so and becomes Ready once Quay recovers.
#[tokio::test]
async fn quay_errors_back_off_and_recover() {
    crate::capture::install();
    let env = Env::start("e2e-5xx").await;
    env.set_quay_down(true);
    env.create_token(env.apitoken("flaky")).await;
    env.wait_reason("flaky", "QuayUnavailable").await;
    env.set_quay_down(false);
    env.wait_ready("flaky").await;
    assert_eq!(env.quay.tokens().len(), 1);
}

/// Two ApiTokens naming one result Secret: the one that holds it keeps it and stays Ready; the
/// conflict is reported on both (the newcomer's status, a Warning event on the holder), and
/// nobody fights over the Secret. On Quay 3.18 and later (the token API).
#[tokio::test]
async fn a_result_secret_named_twice_is_reported_on_both() {
    named_twice("e2e-shared", true).await;
}

/// The same on Quay before 3.18 (the web flow).
#[tokio::test]
async fn a_result_secret_named_twice_is_reported_on_both_web_flow() {
    named_twice("e2e-shared-web", false).await;
}

async fn named_twice(prefix: &str, token_api: bool) {
    crate::capture::install();
    let env = Env::start_with(
        prefix,
        Options {
            token_api,
            ..Options::default()
        },
    )
    .await;
    let spec = json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": env.app.client_id, "retSecretRef": {"name": "shared"}});
    env.create("first", spec.clone()).await;
    env.wait_ready("first").await;
    let before = env.secrets_in(&env.ns.name).get("shared").await.unwrap();
    env.create("second", spec).await;
    let second = env.wait_reason("second", "SecretConflict").await;
    assert!(message(&second).contains("first"), "{}", message(&second));
    // The holder is told before the newcomer's status is written.
    let told: Vec<_> = env
        .events("first")
        .await
        .into_iter()
        .filter(|(_, reason, _)| reason == "ResultSecretShared")
        .collect();
    assert_eq!(told.len(), 1, "one Warning event on the holder: {told:?}");
    let (kind, _, note) = &told[0];
    assert_eq!(kind, "Warning");
    let newcomer = format!("ApiToken {}/second", env.ns.name);
    assert!(
        note.contains(&newcomer) && note.contains("holds it"),
        "{note}"
    );
    let first = env.wait_ready("first").await;
    assert_eq!(ready_reason(&first).as_deref(), Some("TokenReady"));
    let after = env.secrets_in(&env.ns.name).get("shared").await.unwrap();
    assert_eq!(
        before.metadata.resource_version, after.metadata.resource_version,
        "nobody rewrote it"
    );
    assert_eq!(env.quay.tokens().len(), 1, "the second never minted");
    env.delete_and_wait("second").await;
    env.wait_ready("first").await;
    assert_eq!(
        env.secrets_in(&env.ns.name)
            .get("shared")
            .await
            .unwrap()
            .data,
        before.data
    );
    // One live token, in the holder's Secret and status, and none untracked.
    crate::invariant::assert_converged(&env).await;
}
