//! N Ready ApiTokens, then the operator restarted, left idle, and one Secret changed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams};
use quay_emulator::Faults;
use serde_json::json;

use crate::goals::GOAL_RSS_MIB;
use crate::knobs::Knobs;
use crate::process;
use crate::procfs::{cpu_seconds, proc_status_kib};
use crate::requests::{SETTLE, apiserver_requests, diff, is_list, is_mint, is_operators, is_write};
use crate::setup::{PROBE, PROBE_SECRET, fill, latency, start_operator, world_with_accounts};
use crate::table::{Table, counts, verdict};
use crate::world::{ORG, is_ready_now};

/// Emulator latency during the restart (what a restart waits on Quay for).
pub const RESTART_LATENCY_MS: u64 = 50;
/// Tokens per page of Quay's token list (the emulator's, as Quay's).
pub const QUAY_TOKEN_PAGE: usize = 50;

/// N Ready ApiTokens on the token API and one account, then restart, idle and Secret change.
pub async fn run(k: &Knobs, table: &mut Table) {
    let n = k.tokens.max(1);
    eprintln!("scale: {n} Ready for restart / idle / Secret change…");
    let began = Instant::now();
    let world = world_with_accounts("scale-steady", true, 1).await;
    let other = world.quay.add_app(ORG, "probe-other", None);
    world
        .put_secret(
            &world.ns.name,
            PROBE_SECRET,
            BTreeMap::from([("clientId".to_owned(), world.app.client_id.clone())]),
        )
        .await;
    let mut names: Vec<String> = (1..n).map(|i| format!("t{i:04}")).collect();
    names.push(PROBE.to_owned());
    let mut operator = fill(&world, k, "steady", &names, 1).await;
    tokio::time::sleep(SETTLE).await;
    let scenario_restart =
        format!("restart with {n} Ready (token API, 1 account, {RESTART_LATENCY_MS} ms)");

    if k.wants("restart") || k.wants("idle") {
        eprintln!("scale: restart…");
        world.quay.set_faults(latency(RESTART_LATENCY_MS));
        world.quay.reset_counters();
        let live_before = world.quay.tokens().len();
        let api_before = apiserver_requests();
        operator.kill();
        drop(operator);
        let started = Instant::now();
        operator = start_operator("restarted", &world, k);
        let mut first = None;
        let mut all = None;
        while all.is_none() && started.elapsed() < k.patience {
            if let Some((200, text)) = operator.get("/metrics").await {
                let done = process::sum(&text, "quay_apitoken_reconciles_total");
                if done > 0.0 && first.is_none() {
                    first = Some(started.elapsed());
                }
                if done >= n as f64 {
                    all = Some(started.elapsed());
                }
            }
            assert!(
                operator.is_running(),
                "the restarted operator exited; log:\n{}",
                operator.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(SETTLE).await;
        let minted = operator
            .sample("quay_apitoken_tokens_minted_total")
            .await
            .unwrap_or(0.0) as u64;
        let live_after = world.quay.tokens().len();
        let quay = world.quay.request_counts();
        let api = diff(&apiserver_requests(), &api_before);
        let writes: BTreeMap<String, u64> = api
            .into_iter()
            .filter(|(key, _)| is_write(key) && is_operators(key))
            .collect();
        let secs = |d: Option<Duration>| {
            d.map_or("never".to_owned(), |d| format!("{:.2} s", d.as_secs_f64()))
        };
        table.add(
            &scenario_restart,
            "time to first reconcile done",
            secs(first),
            String::new(),
        );
        table.add(
            &scenario_restart,
            &format!("time to {n} reconciles done"),
            secs(all),
            String::new(),
        );
        table.add(
            &scenario_restart,
            "mints",
            format!("{minted} (tokens live in Quay: {live_before} before, {live_after} after)"),
            verdict("= 0".to_owned(), minted == 0),
        );
        let total: u64 = quay.values().sum();
        let mints: u64 = quay
            .iter()
            .filter(|(key, _)| is_mint(key))
            .map(|(_, v)| v)
            .sum();
        let lists: u64 = quay
            .iter()
            .filter(|(key, _)| is_list(key))
            .map(|(_, v)| v)
            .sum();
        // One list of every token of the account (per app on the token API), in pages.
        let pages = n.div_ceil(QUAY_TOKEN_PAGE) as u64;
        table.add(
            &scenario_restart,
            "Quay requests",
            format!(
                "{total}: {}",
                if quay.is_empty() {
                    "none".to_owned()
                } else {
                    counts(&quay)
                }
            ),
            verdict(
                format!(
                    "no mint request, ≤ 1 list per account ({pages} pages of {QUAY_TOKEN_PAGE})"
                ),
                mints == 0 && lists <= pages,
            ),
        );
        table.add(
            &scenario_restart,
            "Kubernetes writes",
            format!(
                "{}: {}",
                writes.values().sum::<u64>(),
                if writes.is_empty() {
                    "none".to_owned()
                } else {
                    counts(&writes)
                }
            ),
            String::new(),
        );
        world.quay.set_faults(Faults::default());
    }

    if k.wants("idle") {
        eprintln!("scale: idle for {:?}…", k.idle);
        let scenario = format!("idle with {n} Ready, {} s", k.idle.as_secs());
        world.quay.reset_counters();
        let api_before = apiserver_requests();
        let cpu_before = cpu_seconds(operator.pid());
        tokio::time::sleep(k.idle).await;
        let cpu = cpu_seconds(operator.pid()) - cpu_before;
        let rss = proc_status_kib(operator.pid(), "VmRSS");
        let quay: u64 = world.quay.request_counts().values().sum();
        let writes: u64 = diff(&apiserver_requests(), &api_before)
            .iter()
            .filter(|(key, _)| is_write(key) && is_operators(key))
            .map(|(_, v)| v)
            .sum();
        table.add(
            &scenario,
            "operator CPU",
            format!("{cpu:.2} CPU s"),
            String::new(),
        );
        table.add(
            &scenario,
            "RSS (VmRSS)",
            format!("{:.1} MiB", rss as f64 / 1024.0),
            verdict(
                format!("≤ {GOAL_RSS_MIB:.0} MiB"),
                rss as f64 / 1024.0 <= GOAL_RSS_MIB,
            ),
        );
        table.add(
            &scenario,
            "Quay requests, Kubernetes writes",
            format!("{quay}, {writes}"),
            String::new(),
        );
    }

    if k.wants("secret") {
        eprintln!("scale: Secret change…");
        let scenario = format!("Secret change referenced by 1 of {n} ApiTokens");
        world.quay.reset_counters();
        let reconciles_before = operator.reconciles().await;
        let secrets: Api<Secret> = world.secrets_in(&world.ns.name);
        let tokens = world.tokens();
        let patch = json!({"stringData": {"clientId": other.client_id}});
        let started = Instant::now();
        secrets
            .patch(PROBE_SECRET, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap_or_else(|e| panic!("cannot patch Secret {PROBE_SECRET}: {e}"));
        let mut took = None;
        while started.elapsed() < k.patience {
            if let Ok(token) = tokens.get(PROBE).await {
                let recorded = token
                    .status
                    .as_ref()
                    .and_then(|s| s.token.as_ref())
                    .map(|t| t.client_id.clone());
                if recorded.as_deref() == Some(other.client_id.as_str()) && is_ready_now(&token) {
                    took = Some(started.elapsed());
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(SETTLE).await;
        let reconciles = operator.reconciles().await - reconciles_before;
        let quay: u64 = world.quay.request_counts().values().sum();
        table.add(
            &scenario,
            "patch → its status records the new client ID (re-minted, Ready)",
            took.map_or("never".to_owned(), |d| {
                format!("{:.0} ms", d.as_secs_f64() * 1000.0)
            }),
            String::new(),
        );
        table.add(
            &scenario,
            "reconciles, Quay requests it caused",
            format!("{reconciles}, {quay}"),
            String::new(),
        );
    }
    drop(operator);
    eprintln!("scale: … done in {:.0?}", began.elapsed());
}
