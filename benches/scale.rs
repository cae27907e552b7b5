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
//!   `idle`, `secret`.
//! - `QAO_OPERATOR_BIN` measures another build.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "../tests/operator_binary/process.rs"]
#[allow(dead_code)]
mod process;

#[path = "../tests/operator_binary/world.rs"]
#[allow(dead_code)]
mod world;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use quay_apitoken_operator::crd::ApiToken;
use quay_emulator::{FaultRule, Faults};
use serde_json::json;

use process::OperatorProcess;
use world::{ADMIN_PASSWORD, CONN_SECRET, ORG, World, is_ready_now};

/// Creates in flight at once: "applied at once" without tripping the API server's limit on
/// concurrent mutating requests (200).
const CREATE_PARALLEL: usize = 64;
/// Writes trail Ready (events, the result Secret's own watch event): counted before reading.
const SETTLE: Duration = Duration::from_secs(3);
/// Emulator latency during the restart (what a restart waits on Quay for).
const RESTART_LATENCY_MS: u64 = 50;
/// Goals from issue 13.
const GOAL_RSS_MIB: f64 = 40.0;
const GOAL_REQUESTS_TOKEN_API: f64 = 1.0;
const GOAL_REQUESTS_WEB_FLOW: f64 = 2.0;
const GOAL_TIME_FACTOR: f64 = 1.3;
/// Client-ID Secret of the probe ApiToken of the Secret-change scenario.
const PROBE: &str = "probe";
const PROBE_SECRET: &str = "probe-client-id";
/// Tokens per page of Quay's token list (the emulator's, as Quay's).
const QUAY_TOKEN_PAGE: usize = 50;

/// What the environment asks for.
struct Knobs {
    tokens: usize,
    web_tokens: usize,
    warm: Option<usize>,
    accounts: Vec<usize>,
    latencies: Vec<u64>,
    concurrency: u16,
    idle: Duration,
    patience: Duration,
    only: Vec<String>,
}

impl Knobs {
    fn read() -> Knobs {
        let num = |key: &str, default: u64| -> u64 {
            std::env::var(key)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| {
                    v.trim()
                        .parse()
                        .unwrap_or_else(|e| panic!("{key}={v}: not a number: {e}"))
                })
                .unwrap_or(default)
        };
        let list = |key: &str, default: &str| -> Vec<u64> {
            std::env::var(key)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_owned())
                .split(',')
                .map(|v| {
                    v.trim()
                        .parse()
                        .unwrap_or_else(|e| panic!("{key}: {v}: not a number: {e}"))
                })
                .collect()
        };
        let tokens = num("QAO_SCALE_TOKENS", 1000) as usize;
        Knobs {
            tokens,
            web_tokens: num("QAO_SCALE_WEB_TOKENS", tokens as u64) as usize,
            warm: std::env::var("QAO_SCALE_WARM_TOKENS")
                .ok()
                .filter(|v| !v.is_empty())
                .map(|_| num("QAO_SCALE_WARM_TOKENS", 0) as usize),
            accounts: list("QAO_SCALE_ACCOUNTS", "1,10")
                .into_iter()
                .map(|a| a.max(1) as usize)
                .collect(),
            latencies: list("QAO_SCALE_LATENCY_MS", "0,50"),
            concurrency: num("QAO_SCALE_CONCURRENCY", 10) as u16,
            idle: Duration::from_secs(num("QAO_SCALE_IDLE_SECS", 60)),
            patience: Duration::from_secs(num("QAO_SCALE_PATIENCE_SECS", 600)),
            only: std::env::var("QAO_BENCH_ONLY")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        }
    }

    fn wants(&self, scenario: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == scenario)
    }
}

/// One line of the table.
struct Row {
    scenario: String,
    measure: String,
    value: String,
    target: String,
}

/// The table, filled as scenarios finish.
#[derive(Default)]
struct Table {
    rows: Vec<Row>,
}

impl Table {
    fn add(&mut self, scenario: &str, measure: &str, value: String, target: String) {
        self.rows.push(Row {
            scenario: scenario.to_owned(),
            measure: measure.to_owned(),
            value,
            target,
        });
    }

    fn print(&self) {
        println!("| Scenario | Measure | Value | Target |");
        println!("|---|---|---|---|");
        let mut last = "";
        for row in &self.rows {
            // The scenario once per group keeps the table readable.
            let scenario = if row.scenario == last {
                ""
            } else {
                &row.scenario
            };
            last = &row.scenario;
            println!(
                "| {scenario} | {} | {} | {} |",
                row.measure, row.value, row.target
            );
        }
    }
}

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
                    burst(&knobs, token_api, accounts, latency, &mut table).await;
                }
            }
        }
        if ["restart", "idle", "secret"].iter().any(|s| knobs.wants(s)) {
            steady(&knobs, &mut table).await;
        }
    });
    println!();
    println!(
        "scale bench: real operator binary ({}), --concurrency {}, real kube-apiserver, \
         in-process Quay emulator; {} cores shared with other work",
        process::binary().display(),
        knobs.concurrency,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!();
    table.print();
    eprintln!("bench finished in {:.0?}", started.elapsed());
}

fn flavour_name(token_api: bool) -> &'static str {
    if token_api { "token API" } else { "web flow" }
}

/// A world with `accounts` Quay accounts, all owners of the org: the first is the world's
/// admin with its connection Secret; the others get `quay-credentials-NN`.
async fn world_with_accounts(prefix: &str, token_api: bool, accounts: usize) -> World {
    let world = World::start_flavour(prefix, token_api).await;
    for i in 1..accounts {
        let user = format!("account{i:02}");
        world.quay.add_user(&user, ADMIN_PASSWORD);
        world.quay.add_org_admin(ORG, &user);
        world
            .put_secret(
                &world.ns.name,
                &conn_secret(i),
                BTreeMap::from([
                    ("host".to_owned(), world.quay.url()),
                    ("username".to_owned(), user.clone()),
                    ("password".to_owned(), ADMIN_PASSWORD.to_owned()),
                ]),
            )
            .await;
    }
    world
}

/// The connection Secret of account `i` (0 is the world's admin).
fn conn_secret(i: usize) -> String {
    if i == 0 {
        CONN_SECRET.to_owned()
    } else {
        format!("{CONN_SECRET}-{i:02}")
    }
}

fn start_operator(name: &str, world: &World, knobs: &Knobs) -> OperatorProcess {
    OperatorProcess::start(
        name,
        world.admin_kubeconfig(),
        &[
            "--namespaces",
            &world.ns.name,
            "--concurrency",
            &knobs.concurrency.to_string(),
        ],
    )
}

fn latency(ms: u64) -> Faults {
    if ms == 0 {
        return Faults::default();
    }
    Faults {
        rules: vec![FaultRule {
            latency_ms: Some(ms),
            ..FaultRule::default()
        }],
    }
}

/// Creates an ApiToken whose client ID is inline, or read from `PROBE_SECRET` for the probe.
async fn create_token(api: &Api<ApiToken>, name: &str, conn: &str, client_id: &str) {
    let client = if name == PROBE {
        json!({"clientIdFrom": {"name": PROBE_SECRET}})
    } else {
        json!({"clientId": client_id})
    };
    let mut spec = json!({"connSecretRef": {"name": conn}});
    if let (Some(spec), Some(client)) = (spec.as_object_mut(), client.as_object()) {
        spec.extend(client.clone());
    }
    let token: ApiToken = serde_json::from_value(json!({
        "apiVersion": "quay.herve4m.github.io/v1alpha1", "kind": "ApiToken",
        "metadata": {"name": name},
        "spec": spec,
    }))
    .unwrap_or_else(|e| panic!("ApiToken {name}: {e}"));
    api.create(&PostParams::default(), &token)
        .await
        .unwrap_or_else(|e| panic!("cannot create ApiToken {name}: {e}"));
}

/// Creates `names` with at most `CREATE_PARALLEL` in flight; ApiToken i uses account i % n.
async fn create_all(world: &World, names: &[String], accounts: usize) -> Duration {
    let api = world.tokens();
    let client_id = world.app.client_id.clone();
    let started = Instant::now();
    futures::stream::iter(names.iter().enumerate())
        .for_each_concurrent(CREATE_PARALLEL, |(i, name)| {
            let api = api.clone();
            let client_id = client_id.clone();
            async move {
                create_token(&api, name, &conn_secret(i % accounts), &client_id).await;
            }
        })
        .await;
    started.elapsed()
}

/// When each ApiToken was first seen Ready for its generation, fed by a watch (no polling load
/// on the API server being measured).
struct ReadyWatch {
    times: Arc<Mutex<HashMap<String, Instant>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ReadyWatch {
    fn start(api: Api<ApiToken>) -> ReadyWatch {
        let times: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let sink = times.clone();
        let task = tokio::spawn(async move {
            let mut events = Box::pin(watcher::watcher(api, watcher::Config::default()));
            while let Some(event) = events.next().await {
                let token = match event {
                    Ok(watcher::Event::Apply(t) | watcher::Event::InitApply(t)) => t,
                    _ => continue,
                };
                if is_ready_now(&token)
                    && let Some(name) = token.metadata.name
                {
                    let mut times = sink.lock().unwrap_or_else(|p| p.into_inner());
                    times.entry(name).or_insert_with(Instant::now);
                }
            }
        });
        ReadyWatch { times, task }
    }

    fn count(&self) -> usize {
        self.times.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn last(&self) -> Option<Instant> {
        let times = self.times.lock().unwrap_or_else(|p| p.into_inner());
        times.values().max().copied()
    }

    /// Waits until `n` are Ready or `patience` passes; the count reached.
    async fn wait(&self, n: usize, patience: Duration, operator: &mut OperatorProcess) -> usize {
        let started = Instant::now();
        loop {
            let ready = self.count();
            if ready >= n || started.elapsed() > patience {
                return ready;
            }
            assert!(
                operator.is_running(),
                "the operator exited; log:\n{}",
                operator.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ReadyWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One burst: N ApiTokens applied at once to a fresh namespace, emulator and binary.
async fn burst(k: &Knobs, token_api: bool, accounts: usize, latency_ms: u64, table: &mut Table) {
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
    let cpu = cpu_seconds(operator.pid()) - cpu_before;
    let peak = proc_status_kib(operator.pid(), "VmHWM");
    let minted = operator
        .sample("quay_apitoken_tokens_minted_total")
        .await
        .unwrap_or(0.0) as u64;

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
    let writes: BTreeMap<String, u64> = api
        .into_iter()
        .filter(|(key, _)| is_write(key) && is_operators(key))
        .collect();
    table.add(
        &scenario,
        "Kubernetes writes per token",
        format!("{:.2}: {}", per(writes.values().sum()), by_key(&writes, n)),
        String::new(),
    );
    table.add(
        &scenario,
        "peak RSS (VmHWM), operator CPU",
        format!("{:.1} MiB, {cpu:.1} CPU s", peak as f64 / 1024.0),
        verdict(
            format!("RSS ≤ {GOAL_RSS_MIB:.0} MiB"),
            peak as f64 / 1024.0 <= GOAL_RSS_MIB,
        ),
    );
}

/// N Ready ApiTokens on the token API and one account, then restart, idle and Secret change.
async fn steady(k: &Knobs, table: &mut Table) {
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
    let mut operator = start_operator("steady", &world, k);
    operator.wait_serving().await;
    operator.wait_ready().await;
    let watch = ReadyWatch::start(world.tokens());
    let mut names: Vec<String> = (1..n).map(|i| format!("t{i:04}")).collect();
    names.push(PROBE.to_owned());
    let started = Instant::now();
    create_all(&world, &names, 1).await;
    let ready = watch.wait(n, k.patience, &mut operator).await;
    drop(watch);
    assert_eq!(
        ready,
        n,
        "only {ready}/{n} ApiTokens Ready after {:.0?}",
        started.elapsed()
    );
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

/// A request that mints a token, on either flavour.
fn is_mint(endpoint: &str) -> bool {
    endpoint == "POST /api/v1/organization/{org}/applications/{client_id}/tokens"
        || endpoint == "POST /oauth/authorizeapp"
}

/// A page of the account's tokens (token API) or authorizations (web flow).
fn is_list(endpoint: &str) -> bool {
    endpoint == "GET /api/v1/organization/{org}/applications/{client_id}/tokens"
        || endpoint == "GET /api/v1/user/authorizations"
}

fn verdict(goal: String, met: bool) -> String {
    format!("{goal}: {}", if met { "met" } else { "MISSED" })
}

/// "key 1.00; key 0.01" per ApiToken.
fn by_key(counts: &BTreeMap<String, u64>, n: usize) -> String {
    counts
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| format!("`{k}` {:.3}", *v as f64 / n as f64))
        .collect::<Vec<_>>()
        .join("; ")
}

/// "key 3; key 1".
fn counts(counts: &BTreeMap<String, u64>) -> String {
    counts
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| format!("`{k}` {v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A `kB` field of /proc/<pid>/status.
fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// User plus system CPU seconds of a process (/proc/<pid>/stat utime + stime).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/stat: {e}"));
    // The command name may hold spaces; the fields after it are fixed: utime is the 14th
    // field of the line, the 12th after the closing parenthesis.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (tick(11) + tick(12)) as f64 / clock_ticks() as f64
}

fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100)
    })
}

/// `apiserver_request_total` summed per "VERB resource[/subresource]", from the API server's
/// own /metrics.
fn apiserver_requests() -> BTreeMap<String, u64> {
    let (ok, out, err) = support::kubectl(&["get", "--raw", "/metrics"]);
    assert!(ok, "kubectl get --raw /metrics failed: {err}");
    let mut counts = BTreeMap::new();
    for line in out.lines() {
        let Some(rest) = line.strip_prefix("apiserver_request_total{") else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once("} ") else {
            continue;
        };
        let label = |key: &str| {
            labels
                .split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{key}=\"")))
                .map(|v| v.trim_end_matches('"').to_owned())
                .unwrap_or_default()
        };
        let mut resource = label("resource");
        let sub = label("subresource");
        if !sub.is_empty() {
            resource = format!("{resource}/{sub}");
        }
        let value = value.trim().parse::<f64>().unwrap_or(0.0) as u64;
        *counts
            .entry(format!("{} {resource}", label("verb")))
            .or_insert(0) += value;
    }
    counts
}

fn diff(after: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v.saturating_sub(*before.get(k).unwrap_or(&0))))
        .filter(|(_, v)| *v > 0)
        .collect()
}

fn is_write(verb_resource: &str) -> bool {
    let verb = verb_resource.split(' ').next().unwrap_or_default();
    matches!(
        verb,
        "POST" | "PUT" | "PATCH" | "APPLY" | "DELETE" | "DELETECOLLECTION"
    )
}

/// Resources the operator writes; other writes in the window are the control plane's own.
fn is_operators(verb_resource: &str) -> bool {
    let resource = verb_resource.split(' ').nth(1).unwrap_or_default();
    let base = resource.split('/').next().unwrap_or_default();
    matches!(base, "apitokens" | "secrets" | "events")
}
