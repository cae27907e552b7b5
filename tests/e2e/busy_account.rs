//! One Quay account's queued web-flow mints leave the process's concurrency slots to other
//! accounts: a reconcile waiting for its account's mint lock holds no slot.

use crate::env::*;
use crate::support::wait_for;
use quay_emulator::{Config, Emulator, FaultRule, Faults};
use std::collections::BTreeMap;

const AUTHORIZE: &str = "POST /oauth/authorizeapp";
const WAITING: &str = "quay_apitoken_reconciles_waiting_for_mint_lock";
/// The fixture's `--concurrency`.
const SLOTS: usize = 4;

#[tokio::test]
async fn a_busy_account_leaves_its_slots_to_another() {
    let env = Env::start_with(
        "e2e-busy",
        Options {
            token_api: false,
            ..Options::default()
        },
    )
    .await;
    let ns = env.ns.name.clone();
    // Account A (the fixture's Quay): its first mint never gets an answer while the test
    // runs, so it keeps A's mint lock and every other mint of A queues behind it.
    let mut busy = env.conn_data(ADMIN, ADMIN_PASSWORD);
    busy.insert("timeout".into(), "60".into());
    env.put_secret(&ns, "quay-a", busy).await;
    env.quay.set_faults(Faults {
        rules: vec![FaultRule {
            endpoint: Some(AUTHORIZE.to_owned()),
            hang: true,
            ..FaultRule::default()
        }],
    });
    // Account B: another Quay.
    let other = Emulator::start(
        "127.0.0.1:0".parse().unwrap(),
        Config {
            token_api: false,
            ..Config::default()
        },
    )
    .await
    .unwrap();
    other.add_user(ADMIN, ADMIN_PASSWORD);
    other.add_org(ORG, ADMIN);
    let other_app = other.add_app(ORG, "quay-operator", None);
    env.put_secret(
        &ns,
        "quay-b",
        BTreeMap::from([
            ("host".to_owned(), other.url()),
            ("username".to_owned(), ADMIN.to_owned()),
            ("password".to_owned(), ADMIN_PASSWORD.to_owned()),
        ]),
    )
    .await;

    // As many ApiTokens of A as there are slots: one mint hangs, the others wait for its lock.
    let names: Vec<String> = (0..SLOTS).map(|i| format!("a{i}")).collect();
    for name in &names {
        env.create_token(
            ApiTokenFixture::new(name)
                .connection("quay-a")
                .client_id(&env.app.client_id),
        )
        .await;
    }
    let operator = env.operator();
    wait_for(
        PATIENCE,
        "one mint of A hanging in Quay and the others queued for A's lock",
        || async {
            (env.quay.request_count(AUTHORIZE) == 1
                && operator.counter(WAITING) == (SLOTS - 1) as u64)
                .then_some(())
        },
    )
    .await;

    // Every slot would be taken if the queued ones held theirs: B could not start.
    env.create_token(
        ApiTokenFixture::new("b")
            .connection("quay-b")
            .client_id(&other_app.client_id),
    )
    .await;
    env.wait_ready("b").await;
    assert_eq!(
        env.quay.request_count(AUTHORIZE),
        1,
        "A minted nothing more meanwhile: B ran while A's mints were still queued"
    );
    assert_eq!(operator.counter(WAITING), (SLOTS - 1) as u64);
    for name in &names {
        let token = env.tokens().get(name).await.unwrap();
        assert_ne!(ready(&token), Some(true), "{name} cannot be Ready yet");
    }
    assert_eq!(other.tokens().len(), 1, "B holds one live token");
}
