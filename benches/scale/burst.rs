//! One burst: N ApiTokens applied at once, then a warm wave, on a fresh namespace, emulator
//! and binary.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::goals::{
    GOAL_REQUESTS_TOKEN_API, GOAL_REQUESTS_WEB_FLOW, GOAL_RSS_MIB, GOAL_TIME_FACTOR,
};
use crate::knobs::Knobs;
use crate::process;
use crate::procfs::{CONTROL_PLANE, cores, cpu_seconds, cpu_seconds_named, proc_status_kib};

use crate::ready::ReadyWatch;
use crate::requests::{SETTLE, apiserver_requests, diff, is_operators, is_write};
use crate::setup::{create_all, flavour_name, latency, start_operator, world_with_accounts};
use crate::table::{Table, by_key, verdict};

/// One burst: N ApiTokens applied at once to a fresh namespace, emulator and binary.
pub async fn run(k: &Knobs, token_api: bool, accounts: usize, latency_ms: u64, table: &mut Table) {
    let n = if token_api { k.tokens } else { k.web_tokens };
    let scenario = format!(
        "{n} applied at once, {}, {accounts} account{}, {latency_ms} ms",
        flavour_name(token_api),
        if accounts == 1 { "" } else { "s" }
    );
    eprintln!("scale: {scenario}…");
    let world = world_with_accounts(
        if token_api { "scale-api" } else { "scale-web" },
        token_api,
        accounts,
    )
    .await;
    let mut operator = start_operator("burst", &world, k);
    operator.wait_serving().await;
    operator.wait_ready().await;
    let watch = ReadyWatch::start(world.tokens());
    world.quay.set_faults(latency(latency_ms));
    world.quay.reset_counters();
    let api_before = apiserver_requests();
    let cpu_before = cpu_seconds(operator.pid());
    let control_plane_before = cpu_seconds_named(CONTROL_PLANE);
    let bench_before = cpu_seconds(std::process::id());

    let names: Vec<String> = (0..n).map(|i| format!("t{i:04}")).collect();
    let started = Instant::now();
    let created_in = create_all(&world, &names, accounts).await;
    let ready = watch.wait(n, k.patience, &mut operator).await;
    let took = if ready == n {
        watch.last().map_or(started.elapsed(), |at| at - started)
    } else {
        started.elapsed()
    };
    tokio::time::sleep(SETTLE).await;

    let quay = world.quay.request_counts();
    let mut api = diff(&apiserver_requests(), &api_before);
    if let Some(own) = api.get_mut("POST apitokens") {
        *own = own.saturating_sub(n as u64);
    }
    let window = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(operator.pid()) - cpu_before;
    let control_plane_cpu = cpu_seconds_named(CONTROL_PLANE) - control_plane_before;
    // The in-process emulator's, and the bench's own creates and watch.
    let bench_cpu = cpu_seconds(std::process::id()) - bench_before;
    let busy = (cpu + control_plane_cpu + bench_cpu) / (cores() as f64 * window);
    let peak = proc_status_kib(operator.pid(), "VmHWM");
    let minted = operator
        .sample("quay_apitoken_tokens_minted_total")
        .await
        .unwrap_or(0.0) as u64;

    let reconciling = operator
        .sample("quay_apitoken_reconcile_duration_seconds_sum")
        .await
        .unwrap_or(0.0);
    let quay_waited = process::sum(
        &operator.metrics().await,
        "quay_apitoken_quay_request_duration_seconds_sum",
    );
    // Steady state: a wave more, with sessions open and whatever the operator caches warm.
    let warm_n = k.warm.unwrap_or(n / 10).max(1);
    world.quay.reset_counters();
    let warm_names: Vec<String> = (0..warm_n).map(|i| format!("w{i:04}")).collect();
    create_all(&world, &warm_names, accounts).await;
    // After an unfinished burst the wave would wait behind it: counted, not waited for.
    let warm_patience = if ready == n { k.patience } else { SETTLE };
    let warm_ready = watch
        .wait(n + warm_n, warm_patience, &mut operator)
        .await
        .saturating_sub(ready);
    tokio::time::sleep(SETTLE).await;
    let warm_quay = world.quay.request_counts();
    let warm_minted = operator
        .sample("quay_apitoken_tokens_minted_total")
        .await
        .unwrap_or(0.0) as u64
        - minted;
    drop(watch);
    drop(operator);
    eprintln!("scale: … done in {:.0?}", started.elapsed());

    let ready_value = if ready == n {
        format!(
            "{:.1} s (creates took {:.1} s)",
            took.as_secs_f64(),
            created_in.as_secs_f64()
        )
    } else {
        format!(
            "only {ready}/{n} Ready after {:.0} s (gave up)",
            took.as_secs_f64()
        )
    };
    let goal_requests = if token_api {
        GOAL_REQUESTS_TOKEN_API
    } else {
        GOAL_REQUESTS_WEB_FLOW
    };
    let time_target = if latency_ms == 0 {
        String::new()
    } else {
        let parallel = accounts.min(k.concurrency as usize).max(1);
        let limit = GOAL_TIME_FACTOR * goal_requests * latency_ms as f64 / 1000.0 * n as f64
            / parallel as f64;
        verdict(
            format!(
                "≤ {limit:.1} s = {GOAL_TIME_FACTOR} × {goal_requests} req × {latency_ms} ms × {n} / {parallel}"
            ),
            ready == n && took.as_secs_f64() <= limit,
        )
    };
    table.add(&scenario, "time to all Ready", ready_value, time_target);

    let per = |count: u64| count as f64 / n as f64;
    let total: u64 = quay.values().sum();
    table.add(
        &scenario,
        "Quay requests per token (whole burst, sign-ins included)",
        format!(
            "{:.3} ({total} for {n} ApiTokens, {minted} mints): {}",
            per(total),
            by_key(&quay, n)
        ),
        String::new(),
    );
    let warm_total: u64 = warm_quay.values().sum();
    let warm_per = warm_total as f64 / warm_n as f64;
    table.add(
        &scenario,
        &format!("Quay requests per mint, warm ({warm_n} more after the burst)"),
        format!(
            "{warm_per:.3} ({warm_total} for {warm_n} ApiTokens, {warm_minted} mints, \
             {warm_ready} Ready): {}",
            by_key(&warm_quay, warm_n)
        ),
        verdict(
            format!("≤ {goal_requests:.1}"),
            warm_ready == warm_n && warm_per <= goal_requests + 1e-9,
        ),
    );
    let reads: BTreeMap<String, u64> = api
        .iter()
        .filter(|(key, _)| !is_write(key) && is_operators(key))
        .map(|(key, count)| (key.clone(), *count))
        .collect();
    let writes: BTreeMap<String, u64> = api
        .into_iter()
        .filter(|(key, _)| is_write(key) && is_operators(key))
        .collect();
    let slot_time = |seconds: f64| seconds * 1000.0 / n as f64;
    table.add(
        &scenario,
        "reconcile time per token: all, in Quay requests; reconciles in flight on average (those queued for an account's lock, holding no slot, included) against the slots",
        format!(
            "{:.0} ms, {:.0} ms; {:.1} against {}",
            slot_time(reconciling),
            slot_time(quay_waited),
            reconciling / took.as_secs_f64(),
            k.concurrency
        ),
        String::new(),
    );
    table.add(
        &scenario,
        "Kubernetes writes per token",
        format!("{:.2}: {}", per(writes.values().sum()), by_key(&writes, n)),
        String::new(),
    );
    table.add(
        &scenario,
        "Kubernetes reads per token",
        format!("{:.2}: {}", per(reads.values().sum()), by_key(&reads, n)),
        String::new(),
    );
    table.add(
        &scenario,
        "peak RSS (VmHWM); CPU s of the operator, etcd + API server, emulator + bench; cores busy",
        format!(
            "{:.1} MiB; {cpu:.1}, {control_plane_cpu:.1}, {bench_cpu:.1}; {:.0} %",
            peak as f64 / 1024.0,
            busy * 100.0
        ),
        verdict(
            format!("RSS ≤ {GOAL_RSS_MIB:.0} MiB"),
            peak as f64 / 1024.0 <= GOAL_RSS_MIB,
        ),
    );
}
