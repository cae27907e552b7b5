//! The binary's admin port: `/healthz`, `/readyz` and `/metrics` with every documented series,
//! counting what actually happened (one Quay outage, one minted token).

use std::time::Duration;

use quay_emulator::{FaultRule, Faults};

use crate::process::{OperatorProcess, sample, sum};
use crate::support::wait_for;
use crate::world::{PATIENCE, World};

/// The series the operator documents; histograms show up as `_bucket`/`_sum`/`_count` lines.
const SERIES: &[&str] = &[
    "quay_apitoken_reconciles_total",
    "quay_apitoken_reconcile_duration_seconds",
    "quay_apitoken_tokens_minted_total",
    "quay_apitoken_tokens_rotated_total",
    "quay_apitoken_tokens_revoked_total",
    "quay_apitoken_quay_request_duration_seconds",
    "quay_apitoken_quay_request_errors_total",
    "quay_apitoken_apitokens",
    "quay_apitoken_leader",
];

/// Quay answers 503 to everything.
fn outage() -> Faults {
    Faults {
        rules: vec![FaultRule {
            endpoint: None,
            latency_ms: None,
            random_latency_ms: None,
            error_rate: Some(1.0),
            drop_rate: None,
            hang: false,
            hang_rate: None,
            answer: None,
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_endpoints_answer_and_metrics_count_what_happened() {
    let world = World::start("bin-admin").await;
    world.quay.set_faults(outage());
    let mut operator = OperatorProcess::start(
        "admin",
        world.admin_kubeconfig(),
        &["--namespaces", &world.ns.name],
    );
    operator.wait_serving().await;
    assert_eq!(operator.get("/healthz").await, Some((200, "ok".to_owned())));
    operator.wait_ready().await;
    assert_eq!(operator.get("/readyz").await, Some((200, "ok".to_owned())));
    assert_eq!(operator.get("/nothing-here").await.map(|r| r.0), Some(404));
    assert_eq!(
        operator.sample("quay_apitoken_leader").await,
        Some(1.0),
        "a replica without election reconciles, so it reports leading"
    );

    world.create_token("watched").await;
    wait_for(PATIENCE, "a Quay error counted", || async {
        let errors = sum(
            &operator.metrics().await,
            "quay_apitoken_quay_request_errors_total",
        );
        (errors >= 1.0).then_some(())
    })
    .await;
    world.quay.set_faults(Faults::default());
    world.wait_ready("watched", PATIENCE).await;

    // The Ready gauge is refreshed every 10 s.
    let text = wait_for(
        Duration::from_secs(30),
        "apitokens gauge: 1 ready",
        || async {
            let text = operator.metrics().await;
            let ready = sample(&text, "quay_apitoken_apitokens{ready=\"true\"}");
            let not_ready = sample(&text, "quay_apitoken_apitokens{ready=\"false\"}");
            (ready == Some(1.0) && not_ready == Some(0.0)).then_some(text)
        },
    )
    .await;

    for series in SERIES {
        let present = text
            .lines()
            .any(|l| !l.starts_with('#') && l.starts_with(series));
        assert!(present, "{series} missing from /metrics:\n{text}");
    }
    assert_eq!(
        sample(&text, "quay_apitoken_tokens_minted_total"),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "quay_apitoken_tokens_rotated_total"),
        Some(0.0)
    );
    assert_eq!(
        sample(&text, "quay_apitoken_tokens_revoked_total"),
        Some(0.0)
    );
    assert!(sample(&text, "quay_apitoken_reconciles_total{result=\"ok\"}") >= Some(1.0));
    let reconciles = sum(&text, "quay_apitoken_reconciles_total");
    let failed =
        reconciles - sample(&text, "quay_apitoken_reconciles_total{result=\"ok\"}").unwrap_or(0.0);
    assert!(
        failed >= 1.0,
        "the outage shows as failed reconciles:\n{text}"
    );
    assert_eq!(
        sample(&text, "quay_apitoken_reconcile_duration_seconds_count"),
        Some(reconciles),
        "one duration per reconcile"
    );
    let requests = sum(&text, "quay_apitoken_quay_request_duration_seconds_count");
    let errors = sum(&text, "quay_apitoken_quay_request_errors_total");
    assert!(
        requests > errors && errors >= 1.0,
        "{requests} requests, {errors} errors"
    );
}

/// A taken admin port stops the start at once: no process runs on without probes or metrics.
#[test]
fn a_taken_metrics_port_fails_the_start_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = taken.local_addr().expect("local address").to_string();
    let started = std::time::Instant::now();
    let mut child = std::process::Command::new(crate::process::binary())
        .env_clear()
        // Never read: the bind comes first. A path that does not exist proves it.
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .args(["run", "--metrics-addr", &addr])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the operator binary");
    // The ceiling only keeps a broken binary from hanging the suite; the measured exit is
    // reported so that a slow start shows up in the test log.
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the binary") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("the binary still runs 10 s after its admin port was found taken");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    let output = child.wait_with_output().expect("read the binary's output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("exited with {status} after {elapsed:?}");
    assert!(!status.success(), "a taken port must fail the start");
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")) && stderr.contains("--metrics-addr"),
        "the message names the address and the flag: {stderr}"
    );
    drop(taken);
}
