//! What the binary costs when idle: resident memory with 100 Ready ApiTokens. Printed, not
//! asserted: the number depends on the allocator, the machine and the build profile (set
//! `QAO_OPERATOR_BIN` to measure a release build).

use std::time::{Duration, Instant};

use crate::process::OperatorProcess;
use crate::world::World;

const TOKENS: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_memory_with_100_ready_apitokens() {
    let world = World::start("bin-rss").await;
    let mut operator = OperatorProcess::start(
        "footprint",
        world.admin_kubeconfig(),
        &["--namespaces", &world.ns.name],
    );
    operator.wait_serving().await;
    operator.wait_ready().await;
    let empty_kib = operator.rss_kib();

    let started = Instant::now();
    for i in 0..TOKENS {
        world.create_token(&format!("tok-{i:03}")).await;
    }
    let limit = Duration::from_secs(240);
    loop {
        let ready = world.ready_count().await;
        if ready == TOKENS {
            break;
        }
        assert!(
            started.elapsed() < limit,
            "only {ready} of {TOKENS} ApiTokens Ready after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let all_ready = started.elapsed();
    assert_eq!(world.quay.tokens().len(), TOKENS, "one live token each");
    assert_eq!(
        operator.sample("quay_apitoken_tokens_minted_total").await,
        Some(TOKENS as f64)
    );

    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle_kib = operator.rss_kib();
    assert!(operator.is_running());
    println!(
        "operator binary {}: RSS {empty_kib} KiB with no ApiToken, {idle_kib} KiB idle \
         with {TOKENS} Ready ApiTokens ({:.1} MiB); {TOKENS} ApiTokens Ready in {all_ready:?}",
        crate::process::binary().display(),
        idle_kib as f64 / 1024.0,
    );
}
