//! No secret value ever reaches logs, events or status (§7).

use crate::env::*;
use kube::api::{Patch, PatchParams};
use serde_json::json;

/// A whole lifecycle — mint, rotate, fail on a wrong password, forUser, delete — and then the
/// logs, Events and statuses are searched for the passwords and every token minted.
#[tokio::test]
async fn no_secret_value_in_logs_events_or_status() {
    crate::capture::install();
    let env = Env::start("e2e-secrecy").await;
    let ns = env.ns.name.clone();
    env.put_secret(&ns, "wrong", env.conn_data(ADMIN, "Wr0ngPassw0rdValue"))
        .await;
    env.create_seed_example("s1", "s1-out").await;
    env.create_token(env.apitoken("s2").connection("wrong"))
        .await;
    env.create_token(env.apitoken("s3").for_user(OTHER_USER))
        .await;
    env.wait_ready("s1").await;
    env.wait_reason("s2", "InvalidCredentials").await;
    env.wait_ready("s3").await;
    let mut minted: Vec<String> = env.live_token_values();
    let patch = json!({"spec": {"rights": ["repo:read"]}});
    env.tokens()
        .patch("s1", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    env.wait_token("s1", "rotated", |t| {
        observed(t) == Some(2) && ready(t) == Some(true)
    })
    .await;
    minted.extend(env.live_token_values());
    let statuses: Vec<String> = env
        .tokens()
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|t| serde_json::to_string(&t.status).unwrap())
        .collect();
    let mut events = Vec::new();
    for name in ["s1", "s2", "s3"] {
        events.extend(
            env.events(name)
                .await
                .into_iter()
                .map(|e| format!("{} {} {}", e.0, e.1, e.2)),
        );
    }
    env.delete_and_wait("s1").await;
    events.extend(
        env.events("s1")
            .await
            .into_iter()
            .map(|e| format!("{} {} {}", e.0, e.1, e.2)),
    );
    let logs = crate::capture::logs();
    assert!(!minted.is_empty() && !logs.is_empty() && !events.is_empty());
    let secrets: Vec<&str> = [ADMIN_PASSWORD, "Wr0ngPassw0rdValue", OTHER_PASSWORD]
        .into_iter()
        .chain(minted.iter().map(String::as_str))
        .collect();
    for secret in secrets {
        assert!(!logs.contains(secret), "a secret value reached the logs");
        assert!(
            !statuses.iter().any(|s| s.contains(secret)),
            "a secret value reached a status"
        );
        assert!(
            !events.iter().any(|e| e.contains(secret)),
            "a secret value reached an event"
        );
    }
}

/// `clientIdFrom` naming a password key (issue 20, item 1): a password that cannot be a client
/// ID is refused before any request, and one that can (the fixture's own alphanumeric
/// password, and a 20-character lookalike of Quay's) reaches Quay's 404; in every case the
/// value appears in no status, condition, event, log line or metric, and the message names
/// the Secret and key.
#[tokio::test]
async fn a_client_id_from_a_password_key_is_never_shown() {
    crate::capture::install();
    let env = Env::start("e2e-cid-secret").await;
    let ns = env.ns.name.clone();
    const PUNCTUATED: &str = "n0t-a/cl!ent id#Pw";
    const LOOKALIKE: &str = "Q7ZK2M9XWPL4RT8VBN3C";
    env.put_secret(&ns, "punct", env.conn_data(ADMIN, PUNCTUATED))
        .await;
    env.put_secret(&ns, "lookalike", env.conn_data(ADMIN, LOOKALIKE))
        .await;
    let cases = [
        ("own-pw", "quay-credentials", "UnknownClientId"),
        ("punct-pw", "punct", "ClientIdKeyMissing"),
        ("look-pw", "lookalike", "UnknownClientId"),
    ];
    for (name, secret, _) in cases {
        env.create_token(ApiTokenFixture::new(name).client_id_from_key(secret, "password"))
            .await;
    }
    let mut texts = Vec::new();
    for (name, secret, reason) in cases {
        let token = env.wait_reason(name, reason).await;
        let named = format!("clientIdFrom: {ns}/{secret} key password");
        assert!(message(&token).contains(&named), "{}", message(&token));
        texts.push(serde_json::to_string(&token.status).unwrap());
        // The Event follows the status write; under load it can land a moment later.
        let events = crate::support::try_wait_for(PATIENCE, || async {
            let events = env.events(name).await;
            events
                .iter()
                .any(|(t, r, n)| t == "Warning" && r == reason && n.contains(&named))
                .then_some(events)
        })
        .await
        .unwrap_or_else(|| panic!("no Warning {reason} naming {named} for {name}"));
        texts.extend(
            events
                .into_iter()
                .map(|e| format!("{} {} {}", e.0, e.1, e.2)),
        );
    }
    texts.push(env.operator().metrics.encode());
    let logs = crate::capture::logs();
    assert!(logs.contains("own-pw"), "the operator's log was captured");
    for value in [ADMIN_PASSWORD, PUNCTUATED, LOOKALIKE] {
        assert!(!logs.contains(value), "a password reached the logs");
        assert!(
            !texts.iter().any(|t| t.contains(value)),
            "a password reached a status, an event or a metric"
        );
    }
}
