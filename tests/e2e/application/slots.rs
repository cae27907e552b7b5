//! Applications share the process's `--concurrency` slots with ApiTokens, and like an ApiToken
//! queued for its account's mint lock (tests/e2e/busy_account.rs), an Application queued for its
//! organization's lock holds no slot meanwhile.

use super::fixture::*;
use crate::env::*;
use crate::support::wait_for;
use quay_emulator::{Config, Emulator, FaultRule, Faults};
use std::collections::BTreeMap;

/// Quay's endpoint that lists an organization's applications, under the organization's lock.
const LIST: &str = "GET /api/v1/organization/{org}/applications";
const WAITING: &str = "quay_apitoken_reconciles_waiting_for_mint_lock";

/// A Quay with the fixture's admin, organization and an OAuth application.
async fn quay() -> Emulator {
    let quay = Emulator::start("127.0.0.1:0".parse().unwrap(), Config::default())
        .await
        .unwrap();
    quay.add_user(ADMIN, ADMIN_PASSWORD);
    quay.add_org(ORG, ADMIN);
    quay
}

/// Connection settings for `quay`, with a timeout longer than the test.
fn conn(quay: &Emulator) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("host".to_owned(), quay.url()),
        ("username".to_owned(), ADMIN.to_owned()),
        ("password".to_owned(), ADMIN_PASSWORD.to_owned()),
        ("timeout".to_owned(), "60".to_owned()),
    ])
}

fn hang_lists(quay: &Emulator) {
    quay.set_faults(Faults {
        rules: vec![FaultRule {
            endpoint: Some(LIST.to_owned()),
            hang: true,
            ..FaultRule::default()
        }],
    });
}

/// Two Quay hosts each hold one Application's list of its organization (which never answers)
/// and queue a second one for that organization's lock. Each host's share is half of the 4
/// slots, so queued Applications that kept their slots would hold all four and stop an
/// ApiToken of a third Quay from starting.
#[tokio::test]
async fn applications_queued_for_their_organization_leave_their_slots() {
    let env = start("e2e-app-slots", Options::default()).await;
    let ns = env.ns.name.clone();
    let second = quay().await;
    for (secret, host) in [("quay-a1", &env.quay), ("quay-a2", &second)] {
        env.put_secret(&ns, secret, conn(host)).await;
        hang_lists(host);
    }
    for (name, secret) in [
        ("a1-first", "quay-a1"),
        ("a1-second", "quay-a1"),
        ("a2-first", "quay-a2"),
        ("a2-second", "quay-a2"),
    ] {
        let mut s = spec(name, &format!("{name}-secret"));
        s["connSecretRef"]["name"] = secret.into();
        create_app(&env, name, s).await;
    }
    let operator = env.operator();
    wait_for(
        PATIENCE,
        "one list hanging on each host and the other Application queued for its lock",
        || async {
            (env.quay.request_count(LIST) == 1
                && second.request_count(LIST) == 1
                && operator.counter(WAITING) == 2)
                .then_some(())
        },
    )
    .await;

    // A third Quay for an ApiToken: it needs a slot that the queued Applications gave back.
    let third = quay().await;
    let third_app = third.add_app(ORG, "quay-operator", None);
    env.put_secret(&ns, "quay-b", conn(&third)).await;
    env.create_token(
        ApiTokenFixture::new("b")
            .connection("quay-b")
            .client_id(&third_app.client_id),
    )
    .await;
    env.wait_ready("b").await;
    assert_eq!(
        env.quay.request_count(LIST),
        1,
        "still one list on the first host"
    );
    assert_eq!(
        second.request_count(LIST),
        1,
        "still one list on the second host"
    );
}
