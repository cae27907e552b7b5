//! Each fault mode, set at start, through the Rust API and through `/_emulator/faults`.

mod common;

use std::time::{Duration, Instant};

use common::{loopback, start};
use quay_emulator::{Config, Emulator, FaultRule, Faults};

fn rule(endpoint: Option<&str>) -> FaultRule {
    FaultRule {
        endpoint: endpoint.map(str::to_string),
        latency_ms: None,
        random_latency_ms: None,
        error_rate: None,
        drop_rate: None,
        hang: false,
        hang_rate: None,
        answer: None,
    }
}

async fn timed_get(url: &str) -> (Result<reqwest::Response, reqwest::Error>, Duration) {
    let started = Instant::now();
    let r = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .get(url)
        .send()
        .await;
    (r, started.elapsed())
}

/// Slow Quay answers must be reproducible for timeout tests.
#[tokio::test]
async fn fixed_latency_delays_only_its_endpoint() {
    let mut r = rule(Some("GET /csrf_token"));
    r.latency_ms = Some(400);
    let config = Config {
        faults: Faults { rules: vec![r] },
        ..Config::default()
    };
    let emu = Emulator::start(loopback(), config).await.unwrap();
    let (resp, took) = timed_get(&format!("{}/csrf_token", emu.url())).await;
    assert_eq!(resp.unwrap().status(), 200);
    assert!(took >= Duration::from_millis(400), "took {took:?}");
    let (resp, took) = timed_get(&format!("{}/api/v1/discovery", emu.url())).await;
    assert_eq!(resp.unwrap().status(), 200);
    assert!(took < Duration::from_millis(400), "took {took:?}");
}

/// Jitter exercises clients' ordering assumptions.
#[tokio::test]
async fn random_latency_stays_within_its_range() {
    let emu = start().await;
    let mut r = rule(None);
    r.random_latency_ms = Some((150, 300));
    emu.set_faults(Faults { rules: vec![r] });
    for _ in 0..3 {
        let (resp, took) = timed_get(&format!("{}/csrf_token", emu.url())).await;
        assert_eq!(resp.unwrap().status(), 200);
        assert!(took >= Duration::from_millis(150), "took {took:?}");
        assert!(took < Duration::from_millis(2000), "took {took:?}");
    }
}

/// A flaky Quay answers 503 with a plain body; the rate is seedable.
#[tokio::test]
async fn error_rate_answers_503_with_a_plain_body() {
    let emu = start().await;
    let mut always = rule(Some("GET /csrf_token"));
    always.error_rate = Some(1.0);
    emu.set_faults(Faults {
        rules: vec![always],
    });
    let (resp, _) = timed_get(&format!("{}/csrf_token", emu.url())).await;
    let resp = resp.unwrap();
    assert_eq!(resp.status(), 503);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );

    let mut half = rule(None);
    half.error_rate = Some(0.5);
    emu.set_faults(Faults { rules: vec![half] });
    let mut errors = 0;
    for _ in 0..40 {
        let (resp, _) = timed_get(&format!("{}/csrf_token", emu.url())).await;
        if resp.unwrap().status() == 503 {
            errors += 1;
        }
    }
    assert!((5..=35).contains(&errors), "{errors} of 40 failed");
    assert_eq!(
        emu.request_count("GET /csrf_token"),
        41,
        "faulted requests are counted"
    );
}

/// A dropped connection gives the client a transport error, not an HTTP status.
#[tokio::test]
async fn drop_rate_closes_the_connection_without_an_answer() {
    let emu = start().await;
    let mut r = rule(Some("POST /api/v1/signin"));
    r.drop_rate = Some(1.0);
    emu.set_faults(Faults { rules: vec![r] });
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/signin", emu.url()))
        .json(&serde_json::json!({"username": "a", "password": "b"}))
        .send()
        .await;
    let err = resp.expect_err("no answer");
    assert!(!err.is_timeout(), "dropped, not timed out: {err}");
    let (resp, _) = timed_get(&format!("{}/csrf_token", emu.url())).await;
    assert_eq!(resp.unwrap().status(), 200, "other endpoints still answer");
}

/// A hung Quay must be cut off by the client's own timeout.
#[tokio::test]
async fn hang_never_answers_until_the_client_gives_up() {
    let emu = start().await;
    let mut r = rule(Some("GET /api/v1/user/"));
    r.hang = true;
    emu.set_faults(Faults { rules: vec![r] });
    let started = Instant::now();
    let err = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap()
        .get(format!("{}/api/v1/user/", emu.url()))
        .send()
        .await
        .expect_err("hangs");
    assert!(err.is_timeout(), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(500));
}

/// Tests outside Rust (the demo) change faults over HTTP.
#[tokio::test]
async fn faults_change_at_run_time_over_http_and_counters_reset() {
    let emu = start().await;
    let http = reqwest::Client::new();
    let url = emu.url();
    let body = r#"{"rules":[{"endpoint":"GET /csrf_token","error_rate":1.0}]}"#;
    let resp = http
        .put(format!("{url}/_emulator/faults"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        http.get(format!("{url}/csrf_token"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    let resp = http
        .put(format!("{url}/_emulator/faults"))
        .body(r#"{"rules":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        http.get(format!("{url}/csrf_token"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let bad = http
        .put(format!("{url}/_emulator/faults"))
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    let counts: serde_json::Value = http
        .get(format!("{url}/_emulator/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts["GET /csrf_token"], serde_json::json!(2));
    let reset = http
        .post(format!("{url}/_emulator/reset-counters"))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 204);
    assert!(emu.request_counts().is_empty());
}
