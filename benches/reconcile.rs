//! `cargo bench --bench reconcile`: how fast and how frugal the controller is, on a real API
//! server (the test harness's etcd + kube-apiserver) and the in-process Quay emulator.
//!
//! Measures apply → Ready latency of one ApiToken (median of 10, one after another), the time
//! for 50 ApiTokens applied at once to all become Ready, and what each minted token costs:
//! Quay requests (the emulator's own counters) and Kubernetes API requests (the API server's own
//! `apiserver_request_total`, read before and after, minus the bench's own creates).
//! Timing goals live here, not in the tests: a miss is printed, never a failure.

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Api, Client, CustomResourceExt};
use quay_apitoken_operator::context::{Context, CrossNamespacePolicy, Settings};
use quay_apitoken_operator::crd::ApiToken;
use quay_apitoken_operator::metrics::Metrics;
use quay_emulator::{Config, Emulator};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const LATENCY_SAMPLES: usize = 10;
const BURST: usize = 50;
/// Concurrency of the in-process controller: the binary's default.
const CONCURRENCY: u16 = 4;
const PATIENCE: Duration = Duration::from_secs(120);
/// Goals: one token within a second of `kubectl apply`; a burst of 50 within 30 s.
const GOAL_LATENCY: Duration = Duration::from_secs(1);
const GOAL_BURST: Duration = Duration::from_secs(30);

/// When each ApiToken was first seen Ready for its current generation, fed by a watch.
type ReadyTimes = Arc<Mutex<HashMap<String, Instant>>>;

#[tokio::main]
async fn main() -> Result<()> {
    quay_testenv::install_crypto_provider();
    let started = Instant::now();
    let mut plane = quay_testenv::ControlPlane::start(quay_testenv::Options::default()).await?;
    let outcome = run(&plane).await;
    plane.stop();
    eprintln!("bench finished in {:.0?}", started.elapsed());
    outcome
}

/// What one scenario measured.
struct Measured {
    flavour: &'static str,
    /// The first ApiToken after the controller started: includes the first sign-in and watches.
    first: Duration,
    latencies: Vec<Duration>,
    burst: Duration,
    minted: usize,
    single_quay: BTreeMap<String, u64>,
    burst_quay: BTreeMap<String, u64>,
    burst_api: BTreeMap<String, u64>,
}

async fn run(plane: &quay_testenv::ControlPlane) -> Result<()> {
    let client = plane.client().await?;
    install_crd(&client).await?;
    let mut results = Vec::new();
    for (flavour, token_api) in [
        ("token API (Quay 3.18+)", true),
        ("web flow (Quay 3.17)", false),
    ] {
        results.push(scenario(plane, &client, flavour, token_api).await?);
    }
    for measured in &results {
        report(measured);
    }
    Ok(())
}

/// One namespace, one emulator playing one Quay flavour, one controller.
async fn scenario(
    plane: &quay_testenv::ControlPlane,
    client: &Client,
    flavour: &'static str,
    token_api: bool,
) -> Result<Measured> {
    let ns = quay_testenv::create_namespace(client, "bench").await?;
    let config = Config {
        token_api,
        ..Config::default()
    };
    let quay = Emulator::start("127.0.0.1:0".parse()?, config).await?;
    quay.add_user("admin", "Sup3r53cr3L");
    quay.add_org("production", "admin");
    let app = quay.add_app("production", "quay-operator", None);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    put_secret(
        &secrets,
        "quay-credentials",
        json!({"host": quay.url(), "username": "admin", "password": "Sup3r53cr3L"}),
    )
    .await?;
    put_secret(
        &secrets,
        "application-secret",
        json!({"clientId": app.client_id}),
    )
    .await?;

    let tokens: Api<ApiToken> = Api::namespaced(client.clone(), &ns);
    let ready = watch_ready(tokens.clone());
    let (stop, controller) = start_controller(client.clone(), &ns);

    let applied = Instant::now();
    create(&tokens, "first").await?;
    let first = wait_ready(&ready, "first", applied).await?;

    // One at a time: the latency a user sees after `kubectl apply`.
    let mut latencies = Vec::new();
    let before = quay.request_counts();
    for i in 0..LATENCY_SAMPLES {
        let name = format!("single-{i}");
        let applied = Instant::now();
        create(&tokens, &name).await?;
        latencies.push(wait_ready(&ready, &name, applied).await?);
    }
    let single_quay = diff(&quay.request_counts(), &before);

    // A burst: 50 applied at once, e.g. a namespace's worth from GitOps.
    let api_before = apiserver_requests(plane.kubeconfig_path())?;
    let quay_before = quay.request_counts();
    let live_before = quay.tokens().len();
    let applied = Instant::now();
    let names: Vec<String> = (0..BURST).map(|i| format!("burst-{i:02}")).collect();
    futures::future::try_join_all(names.iter().map(|n| create(&tokens, n))).await?;
    for name in &names {
        wait_ready(&ready, name, applied).await?;
    }
    let burst = applied.elapsed();
    // Writes that trail Ready (events, the re-reconcile the result Secret triggers) count too.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let minted = quay.tokens().len() - live_before;
    let burst_quay = diff(&quay.request_counts(), &quay_before);
    let mut burst_api = diff(&apiserver_requests(plane.kubeconfig_path())?, &api_before);
    // The bench's own creates are not the operator's.
    if let Some(own) = burst_api.get_mut("POST apitokens") {
        *own = own.saturating_sub(BURST as u64);
    }
    burst_api.retain(|_, n| *n > 0);

    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(20), controller).await;
    quay.shutdown().await;
    Ok(Measured {
        flavour,
        first,
        latencies,
        burst,
        minted,
        single_quay,
        burst_quay,
        burst_api,
    })
}

/// The controller of the binary, in this process, scoped to the bench's namespace.
fn start_controller(
    client: Client,
    ns: &str,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let settings = Settings {
        cross_namespace: CrossNamespacePolicy::Allow,
        verify_interval: Duration::from_secs(300),
    };
    let ctx = Arc::new(Context::new(client, Arc::new(Metrics::new()), settings));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = futures::FutureExt::shared(async move {
        let _ = stopped.await;
    });
    let handle = tokio::spawn(quay_apitoken_operator::controller::run(
        ctx,
        Some(vec![ns.to_string()]),
        CONCURRENCY,
        shutdown,
        || {},
    ));
    (stop, handle)
}

async fn install_crd(client: &Client) -> Result<()> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = ApiToken::crd();
    let name = crd.metadata.name.clone().unwrap_or_default();
    crds.patch(
        &name,
        &PatchParams::apply("quay-apitoken-operator-bench").force(),
        &Patch::Apply(&crd),
    )
    .await?;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let established = crds.get(&name).await?.status.and_then(|s| s.conditions);
        if established
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("the ApiToken CRD never became Established".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn put_secret(api: &Api<Secret>, name: &str, data: serde_json::Value) -> Result<()> {
    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name}, "stringData": data,
    }))?;
    api.create(&PostParams::default(), &secret).await?;
    Ok(())
}

/// Creates the documentation's example under `name`, with a result Secret of its own.
async fn create(api: &Api<ApiToken>, name: &str) -> Result<()> {
    let token: ApiToken = serde_json::from_value(json!({
        "apiVersion": "quay.herve4m.github.io/v1alpha1", "kind": "ApiToken",
        "metadata": {"name": name},
        "spec": {
            "connSecretRef": {"name": "quay-credentials"},
            "clientIdFrom": {"name": "application-secret", "key": "clientId"},
            "rights": ["all"],
            "retSecretRef": {"name": format!("{name}-token")},
        },
    }))?;
    api.create(&PostParams::default(), &token).await?;
    Ok(())
}

/// Records when each ApiToken is first Ready for its generation; a watch, so the bench adds no
/// polling load to the API server it measures.
fn watch_ready(api: Api<ApiToken>) -> ReadyTimes {
    let times: ReadyTimes = Arc::default();
    let sink = times.clone();
    tokio::spawn(async move {
        let mut events = Box::pin(watcher::watcher(api, watcher::Config::default()));
        while let Some(event) = events.next().await {
            let token = match event {
                Ok(watcher::Event::Apply(t) | watcher::Event::InitApply(t)) => t,
                _ => continue,
            };
            let status = token.status.as_ref();
            let is_ready = status.is_some_and(|s| {
                s.observed_generation == token.metadata.generation
                    && s.conditions
                        .iter()
                        .any(|c| c.type_ == "Ready" && c.status == "True")
            });
            if is_ready && let Some(name) = token.metadata.name {
                let mut times = sink.lock().unwrap_or_else(|p| p.into_inner());
                times.entry(name).or_insert_with(Instant::now);
            }
        }
    });
    times
}

/// Time from `since` until `name` was seen Ready.
async fn wait_ready(ready: &ReadyTimes, name: &str, since: Instant) -> Result<Duration> {
    loop {
        let seen = ready
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .copied();
        if let Some(at) = seen {
            return Ok(at.saturating_duration_since(since));
        }
        if since.elapsed() > PATIENCE {
            return Err(format!("{name} was not Ready after {PATIENCE:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// `apiserver_request_total` summed per "VERB resource[/subresource]", from the API server's
/// own /metrics (read with the control plane's kubectl).
fn apiserver_requests(kubeconfig: &Path) -> Result<BTreeMap<String, u64>> {
    let kubectl = quay_testenv::bin_dir()?.join("kubectl");
    let out = std::process::Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["get", "--raw", "/metrics"])
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "kubectl get --raw /metrics failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let mut counts = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
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
                .map(|v| v.trim_end_matches('"').to_string())
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
    Ok(counts)
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
        "POST" | "PUT" | "PATCH" | "APPLY" | "DELETE" | "DELETECOLLECTION" | "CREATE" | "UPDATE"
    )
}

/// Resources the operator writes; other writes in the window are the control plane's own
/// (its identity Lease renewals, for instance).
fn is_operators(verb_resource: &str) -> bool {
    let resource = verb_resource.split(' ').nth(1).unwrap_or_default();
    let base = resource.split('/').next().unwrap_or_default();
    matches!(base, "apitokens" | "secrets" | "events")
}

fn report(m: &Measured) {
    let mut sorted = m.latencies.clone();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let per = |n: u64| n as f64 / m.minted.max(1) as f64;
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    let goal = |ok: bool, goal: String| format!("{goal} {}", if ok { "met" } else { "MISSED" });
    let row = |what: String, value: String, goal: String| {
        println!("{what:<46} {value:>15}   {goal}");
    };
    let total = |counts: &BTreeMap<String, u64>, keep: &dyn Fn(&str) -> bool| -> u64 {
        counts.iter().filter(|(k, _)| keep(k)).map(|(_, v)| v).sum()
    };

    println!();
    println!(
        "reconcile bench, {}: real kube-apiserver, in-process Quay emulator, controller concurrency {CONCURRENCY}",
        m.flavour
    );
    println!("{:-<80}", "");
    row("measure".into(), "value".into(), "goal".into());
    println!("{:-<80}", "");
    row(
        "first ApiToken after the controller starts".into(),
        ms(m.first),
        String::new(),
    );
    row(
        format!("apply -> Ready, median of {LATENCY_SAMPLES}"),
        ms(median),
        goal(median < GOAL_LATENCY, format!("< {}", ms(GOAL_LATENCY))),
    );
    row(
        format!("apply -> Ready, min / max of {LATENCY_SAMPLES}"),
        format!("{} / {}", ms(sorted[0]), ms(sorted[sorted.len() - 1])),
        String::new(),
    );
    row(
        format!("{BURST} ApiTokens applied at once -> all Ready"),
        format!("{:.2} s", m.burst.as_secs_f64()),
        goal(
            m.burst < GOAL_BURST,
            format!("< {} s", GOAL_BURST.as_secs()),
        ),
    );
    row(
        "tokens minted in the burst".into(),
        m.minted.to_string(),
        format!("= {BURST}"),
    );
    row(
        "Quay requests per minted token (burst)".into(),
        format!("{:.2}", per(total(&m.burst_quay, &|_| true))),
        String::new(),
    );
    row(
        format!("Quay requests per token ({LATENCY_SAMPLES} one by one)"),
        format!(
            "{:.2}",
            total(&m.single_quay, &|_| true) as f64 / LATENCY_SAMPLES as f64
        ),
        String::new(),
    );
    row(
        "Kubernetes API writes per minted token".into(),
        format!(
            "{:.2}",
            per(total(&m.burst_api, &|k| is_write(k) && is_operators(k)))
        ),
        String::new(),
    );
    row(
        "Kubernetes API reads per minted token".into(),
        format!(
            "{:.2}",
            per(total(&m.burst_api, &|k| !is_write(k) && is_operators(k)))
        ),
        String::new(),
    );
    println!("{:-<80}", "");
    println!("Quay requests in the burst, per minted token:");
    for (endpoint, n) in &m.burst_quay {
        println!("  {endpoint:<66} {:>8.2}", per(*n));
    }
    println!("Kubernetes API requests in the burst (apiserver_request_total), per minted token:");
    for (request, n) in m.burst_api.iter().filter(|(k, _)| is_operators(k)) {
        let kind = if is_write(request) { "write" } else { "read" };
        println!("  {request:<60} {kind:>5} {:>8.2}", per(*n));
    }
    let other: Vec<String> = m
        .burst_api
        .iter()
        .filter(|(k, _)| !is_operators(k))
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if !other.is_empty() {
        println!(
            "  (the control plane's own, left out: {})",
            other.join(", ")
        );
    }
}
