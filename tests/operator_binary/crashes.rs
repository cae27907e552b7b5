//! The real binary SIGKILLed again and again while 100 ApiTokens are minted through a slow
//! Quay (every request delayed 0–400 ms, as on a real network), then while half of them are
//! deleted: afterwards every ApiToken holds one live tracked token and no token is untracked.
//! Kill times come from a seeded random source, so a failure can be replayed.

use std::time::Duration;

use quay_emulator::{FaultRule, Faults};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::process::OperatorProcess;
use crate::support::invariant;
use crate::support::wait_for;
use crate::world::{ADMIN, World};

const TOKENS: usize = 100;
const KILLS_WHILE_MINTING: usize = 12;
const KILLS_WHILE_DELETING: usize = 10;

fn slow_network() -> Faults {
    Faults {
        rules: vec![FaultRule {
            random_latency_ms: Some((0, 400)),
            ..FaultRule::default()
        }],
    }
}

/// Runs the binary for a random while, then kills it.
async fn run_and_kill(world: &World, rng: &mut StdRng, round: usize) {
    let mut operator = OperatorProcess::start(
        &format!("crash-{round}"),
        world.admin_kubeconfig(),
        &["--namespaces", &world.ns.name],
    );
    let alive = Duration::from_millis(rng.random_range(300..2_500));
    tokio::time::sleep(alive).await;
    operator.kill();
}

async fn kill_storm(token_api: bool, seed: u64) {
    let flavour = if token_api { "api" } else { "web" };
    let world = World::start_flavour(&format!("bin-crash-{flavour}"), token_api).await;
    world.quay.set_faults(slow_network());
    for i in 0..TOKENS {
        world.create_token(&format!("t{i:03}")).await;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    for round in 0..KILLS_WHILE_MINTING {
        run_and_kill(&world, &mut rng, round).await;
    }
    for i in 0..TOKENS / 2 {
        world
            .tokens()
            .delete(&format!("t{i:03}"), &Default::default())
            .await
            .unwrap_or_else(|e| panic!("cannot delete t{i:03}: {e}"));
    }
    for round in 0..KILLS_WHILE_DELETING {
        run_and_kill(&world, &mut rng, KILLS_WHILE_MINTING + round).await;
    }
    let kills = KILLS_WHILE_MINTING + KILLS_WHILE_DELETING;
    assert!(kills >= 20);

    // The last one runs to the end.
    let _operator = OperatorProcess::start(
        "crash-final",
        world.admin_kubeconfig(),
        &["--namespaces", &world.ns.name],
    );
    let api = world.tokens();
    wait_for(Duration::from_secs(240), "the deleted half gone", || {
        let api = api.clone();
        async move {
            let left = api.list(&Default::default()).await.ok()?.items.len();
            (left == TOKENS - TOKENS / 2).then_some(())
        }
    })
    .await;
    let check = invariant::World {
        tokens: world.tokens(),
        client: world.ns.client.clone(),
        quay: &world.quay,
        client_id: &world.app.client_id,
        user: ADMIN,
    };
    invariant::assert_converged(&check, Duration::from_secs(240)).await;
    assert_eq!(
        world.quay.tokens().len(),
        TOKENS - TOKENS / 2,
        "one live token per remaining ApiToken, none untracked, after {kills} kills"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkills_while_minting_and_deleting_leave_one_tracked_token_each_token_api() {
    kill_storm(true, 0x5eed_0001).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkills_while_minting_and_deleting_leave_one_tracked_token_each_web_flow() {
    kill_storm(false, 0x5eed_0002).await;
}
