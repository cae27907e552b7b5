//! `cargo bench --bench reconcile`: how fast and how frugal the controller is, on a real API
//! server (the test harness's etcd + kube-apiserver) and the in-process Quay emulator.
//!
//! Measures apply → Ready latency of one ApiToken (median of 10, one after another), the time
//! for 50 ApiTokens applied at once to all become Ready, and what each minted token costs:
//! Quay requests (the emulator's own counters) and Kubernetes API requests (the API server's own
//! `apiserver_request_total`, read before and after, minus the bench's own creates).
//! Timing goals live here, not in the tests: a miss is printed, never a failure.

mod apiserver;
mod cluster;
mod plan;
mod ready;
mod report;

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};
use quay_apitoken_operator::crd::ApiToken;
use quay_emulator::{Config, Emulator};
use serde_json::json;

use apiserver::{apiserver_requests, diff};
use cluster::{create, install_crd, put_secret, start_controller};
use plan::{BURST, LATENCY_SAMPLES, Result};
use ready::{wait_ready, watch_ready};
use report::{Measured, report};

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
