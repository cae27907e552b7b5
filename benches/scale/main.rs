//! `cargo bench --bench scale`: the real operator binary with 1 000 ApiTokens, on the harness's
//! real API server and the in-process Quay emulator (optionally slowed per request).
//!
//! - Burst: N ApiTokens applied at once, for 1 and for 10 Quay accounts (each an owner of the
//!   org with a connection Secret of its own, ApiTokens spread evenly), at 0 and 50 ms emulator
//!   latency, on the token API and on the web flow: time to all Ready, Quay requests per token
//!   by endpoint (the emulator's counters), Kubernetes writes per token (the API server's
//!   `apiserver_request_total`, minus the bench's own creates), peak RSS and CPU of the binary.
//!   Then a tenth more on the warm binary: Quay requests per mint in steady state (sessions
//!   open), which the 1.0 / 2.0 goals are about.
//! - Restart: with N Ready, the binary is killed and a new one started: time to its first
//!   finished reconcile and to N, mints (0 expected), Quay requests.
//! - Idle: CPU seconds of the binary over 60 s with N Ready, and its RSS.
//! - Secret change: the client-ID Secret of one ApiToken among N is patched to another
//!   application's client ID: time until its status records the new client ID.
//!
//! - Floor: the Kubernetes writes of 1 000 first mints replayed with no operator and no Quay
//!   (the objects of a token-API burst copied), 4 per token (the least a first mint can write)
//!   and the operator's 6, 10 in flight: the control plane's time and CPU; and the 4 with
//!   Quay's 1 or 2 × 50 ms waited for in each token's slot, against the 10-account 50 ms
//!   targets. What no operator can beat on these cores.
//!
//! Prints one markdown table. Targets are printed met/MISSED, never a failure (timings live
//! here, not in the tests). Knobs (environment):
//! - `QAO_SCALE_TOKENS` (1000): ApiTokens per scenario; `QAO_SCALE_WEB_TOKENS` (same) for the
//!   web-flow bursts, which are slower; `QAO_SCALE_WARM_TOKENS` (a tenth): the wave applied
//!   after each burst to count requests per mint in steady state.
//! - `QAO_SCALE_ACCOUNTS` (`1,10`), `QAO_SCALE_LATENCY_MS` (`0,50`): the burst grid.
//! - `QAO_SCALE_CONCURRENCY` (10): the binary's `--concurrency`, so that 10 accounts can mint
//!   in parallel.
//! - `QAO_SCALE_IDLE_SECS` (60), `QAO_SCALE_PATIENCE_SECS` (600: a burst reports how many were
//!   Ready when it gives up).
//! - `QAO_BENCH_ONLY`: comma-separated among `token-api`, `web-flow` (bursts), `restart`,
//!   `idle`, `secret`, `floor`.
//! - `QAO_OPERATOR_BIN` measures another build.

#[path = "../../tests/support/mod.rs"]
mod support;

#[path = "../../tests/operator_binary/process.rs"]
#[allow(dead_code)]
mod process;

#[path = "../../tests/operator_binary/world.rs"]
#[allow(dead_code)]
mod world;

mod goals;
mod knobs;
mod procfs;
mod ready;
mod requests;
mod setup;
mod table;

mod burst;
mod floor;
mod steady;

use std::time::Instant;

use knobs::Knobs;
use table::Table;

fn main() {
    quay_testenv::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
    let started = Instant::now();
    let knobs = Knobs::read();
    let mut table = Table::default();
    runtime.block_on(async {
        for (flavour, token_api) in [("token-api", true), ("web-flow", false)] {
            if !knobs.wants(flavour) {
                continue;
            }
            for &latency in &knobs.latencies {
                for &accounts in &knobs.accounts {
                    burst::run(&knobs, token_api, accounts, latency, &mut table).await;
                }
            }
        }
        if ["restart", "idle", "secret"].iter().any(|s| knobs.wants(s)) {
            steady::run(&knobs, &mut table).await;
        }
        // Last: the objects it leaves behind would weigh on the scenarios after it.
        if knobs.wants("floor") {
            floor::run(&knobs, &mut table).await;
        }
    });
    println!();
    println!(
        "scale bench: real operator binary ({}), --concurrency {}, real kube-apiserver, \
         in-process Quay emulator; {} cores shared with other work",
        process::binary().display(),
        knobs.concurrency,
        procfs::cores(),
    );
    println!();
    table.print();
    eprintln!("bench finished in {:.0?}", started.elapsed());
}
