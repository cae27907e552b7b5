//! Two replicas of the binary with leader election: exactly one reconciles; when it is killed
//! (SIGKILL, no Lease release) the standby takes over once the Lease runs out.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;

use crate::process::OperatorProcess;
use crate::support::wait_for;
use crate::world::{PATIENCE, World};

const LEASE_DURATION: Duration = Duration::from_secs(4);
/// Room for the standby's retry period, a slow API server and a busy 2-core machine.
const TAKEOVER_MARGIN: Duration = Duration::from_secs(8);

fn replica(world: &World, lease: &str, identity: &str) -> OperatorProcess {
    let ns = world.ns.name.as_str();
    OperatorProcess::start(
        identity,
        world.admin_kubeconfig(),
        &[
            "--namespaces",
            ns,
            "--leader-elect",
            "--lease-namespace",
            ns,
            "--lease-name",
            lease,
            "--identity",
            identity,
            "--lease-duration-seconds",
            "4",
            "--renew-deadline-seconds",
            "3",
            "--retry-period-seconds",
            "1",
        ],
    )
}

async fn holder(world: &World, lease: &str) -> Option<String> {
    let leases: Api<Lease> = world.ns.api();
    leases.get_opt(lease).await.ok()??.spec?.holder_identity
}

/// Which replicas report leading right now (a replica without an admin port counts as not).
async fn leaders(replicas: &[OperatorProcess]) -> Vec<bool> {
    let mut out = Vec::new();
    for replica in replicas {
        out.push(replica.is_leader().await == Some(true));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_of_two_replicas_reconciles_and_the_other_takes_over_after_a_crash() {
    let world = World::start("bin-lead").await;
    let lease = crate::chart::release_name("lease");
    let identities = ["replica-a", "replica-b"];
    let mut replicas = vec![
        replica(&world, &lease, identities[0]),
        replica(&world, &lease, identities[1]),
    ];
    for replica in &mut replicas {
        replica.wait_serving().await;
    }
    let leader = wait_for(PATIENCE, "one replica leads", || async {
        leaders(&replicas).await.iter().position(|l| *l)
    })
    .await;
    let standby = 1 - leader;
    assert_eq!(
        holder(&world, &lease).await.as_deref(),
        Some(identities[leader])
    );
    // Both replicas are ready: a standby must not hold a rollout back.
    for replica in &replicas {
        replica.wait_ready().await;
    }

    world.create_token("first").await;
    let watch_until = Instant::now() + Duration::from_secs(30);
    while world.ready_count().await < 1 {
        assert_eq!(
            leaders(&replicas).await,
            [leader == 0, leader == 1],
            "leadership stays put"
        );
        assert!(Instant::now() < watch_until, "first never became Ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(replicas[leader].reconciles().await >= 1.0);
    assert_eq!(
        replicas[standby].reconciles().await,
        0.0,
        "the standby must not reconcile"
    );
    assert_eq!(
        replicas[standby]
            .sample("quay_apitoken_tokens_minted_total")
            .await,
        Some(0.0)
    );
    assert_eq!(world.quay.tokens().len(), 1, "exactly one token minted");

    replicas[leader].kill();
    let crashed = Instant::now();
    world.create_token("meanwhile").await;
    let limit = LEASE_DURATION + TAKEOVER_MARGIN;
    wait_for(limit, "the standby takes over", || async {
        replicas[standby].is_leader().await.filter(|l| *l)
    })
    .await;
    let takeover = crashed.elapsed();
    println!("leader killed; standby led after {takeover:?} (lease duration {LEASE_DURATION:?})");
    assert_eq!(
        holder(&world, &lease).await.as_deref(),
        Some(identities[standby])
    );

    world.wait_ready("meanwhile", PATIENCE).await;
    world.wait_ready("first", PATIENCE).await;
    assert!(replicas[standby].reconciles().await >= 1.0);
    assert_eq!(
        world.quay.tokens().len(),
        2,
        "the new leader minted one token and kept the first"
    );
}
