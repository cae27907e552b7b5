//! kube-apiserver restarted under the running binary (as a control-plane upgrade does): the
//! operator keeps running and leading, its watches come back by themselves, and nothing is
//! minted again for the ApiTokens that were Ready.
//!
//! Restarting the API server would disturb tests sharing it, hence a test binary with its own
//! control plane. Against an existing cluster (`QAO_TEST_KUBECONFIG`) the test says so and
//! does nothing: it does not restart other people's API servers.

#[path = "support/mod.rs"]
mod support;

#[allow(dead_code)]
#[path = "operator_binary/process.rs"]
mod process;

#[allow(dead_code)]
#[path = "operator_binary/world.rs"]
mod world;

use std::collections::BTreeMap;
use std::time::Duration;

use process::OperatorProcess;
use support::{invariant, wait_for};
use world::{ADMIN, PATIENCE, World};

const TOKENS: usize = 10;
/// Long enough for every watch and the Lease renewal to fail at least once.
const DOWN: Duration = Duration::from_secs(2);
/// A stop, the pause and a start of kube-apiserver take 10–15 s here, more than the default
/// renew deadline (10 s, after which a leader exits on purpose); the leader is given a
/// longer one so that this test sees it ride the outage out.
const LEASE: [&str; 4] = [
    "--lease-duration-seconds",
    "60",
    "--renew-deadline-seconds",
    "45",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_rides_out_an_apiserver_restart() {
    let Some(plane) = support::cluster().control_plane() else {
        eprintln!("an existing cluster: its API server is not restarted by this test");
        return;
    };
    let world = World::start("restart").await;
    let ns = world.ns.name.clone();
    let mut operator = OperatorProcess::start(
        "restart",
        world.admin_kubeconfig(),
        &[
            &[
                "--namespaces",
                &ns,
                "--leader-elect",
                "--lease-namespace",
                &ns,
            ],
            &LEASE[..],
        ]
        .concat(),
    );
    operator.wait_serving().await;
    operator.wait_ready().await;
    let names: Vec<String> = (0..TOKENS).map(|i| format!("tok-{i:02}")).collect();
    for name in &names {
        world.create_token(name).await;
    }
    let mut delivered = BTreeMap::new();
    for name in &names {
        world.wait_ready(name, PATIENCE).await;
        let value = world
            .access_token(name)
            .await
            .expect("the Secret holds a token");
        delivered.insert(name.clone(), value);
    }
    wait_for(PATIENCE, "the operator leading", || async {
        (operator.is_leader().await == Some(true)).then_some(())
    })
    .await;
    let minted = operator.sample("quay_apitoken_tokens_minted_total").await;
    assert_eq!(minted, Some(TOKENS as f64));

    let outage = std::time::Instant::now();
    plane
        .restart_apiserver(DOWN)
        .await
        .unwrap_or_else(|e| panic!("the API server did not come back: {e}"));
    eprintln!("kube-apiserver was away for {:?}", outage.elapsed());
    assert!(operator.is_running(), "the operator rode out the outage");

    // Watches are back: a new ApiToken and a deletion are reconciled as usual.
    world.create_token("after-restart").await;
    world.wait_ready("after-restart", PATIENCE).await;
    let gone = delivered.remove("tok-00").expect("tok-00 was delivered");
    world.delete_and_wait("tok-00").await;
    assert!(!world.is_live_in_quay(&gone), "the deleted one is revoked");

    // The others kept their tokens: one mint since the restart, for the new ApiToken.
    for (name, value) in &delivered {
        assert_eq!(
            world.access_token(name).await.as_deref(),
            Some(value.as_str()),
            "{name} kept its token"
        );
        assert!(world.is_live_in_quay(value), "{name}'s token is live");
    }
    assert_eq!(
        operator.sample("quay_apitoken_tokens_minted_total").await,
        Some(TOKENS as f64 + 1.0),
        "no mint for the ApiTokens that were Ready"
    );
    assert_eq!(operator.is_leader().await, Some(true), "still the leader");
    let check = invariant::World {
        tokens: world.tokens(),
        client: world.ns.client.clone(),
        quay: &world.quay,
        client_id: &world.app.client_id,
        user: ADMIN,
    };
    invariant::assert_converged(&check, PATIENCE).await;
}
