//! The exported series, checked through the public handle as a scrape sees them.

use std::time::Duration;

use super::Metrics;

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

fn assert_has(text: &str, line: &str) {
    assert!(
        lines(text).contains(&line),
        "{line:?} missing from:\n{text}"
    );
}

/// Dashboards and alerts key on these exact series names and labels.
#[test]
fn reconcile_results_and_durations_are_exported() {
    let metrics = Metrics::new();
    metrics.reconcile_finished("ok", Duration::from_millis(250));
    metrics.reconcile_finished("ok", Duration::from_millis(500));
    metrics.reconcile_finished("QuayUnavailable", Duration::from_secs(2));
    let text = metrics.encode();
    assert_has(&text, "# TYPE quay_apitoken_reconciles counter");
    assert_has(&text, "quay_apitoken_reconciles_total{result=\"ok\"} 2");
    assert_has(
        &text,
        "quay_apitoken_reconciles_total{result=\"QuayUnavailable\"} 1",
    );
    assert_has(
        &text,
        "# TYPE quay_apitoken_reconcile_duration_seconds histogram",
    );
    assert_has(&text, "quay_apitoken_reconcile_duration_seconds_count 3");
    assert_has(&text, "quay_apitoken_reconcile_duration_seconds_sum 2.75");
    // 250 ms and 500 ms fall under the 640 ms bucket; 2 s does not.
    assert_has(
        &text,
        "quay_apitoken_reconcile_duration_seconds_bucket{le=\"0.32\"} 1",
    );
    assert_has(
        &text,
        "quay_apitoken_reconcile_duration_seconds_bucket{le=\"0.64\"} 2",
    );
    assert_has(
        &text,
        "quay_apitoken_reconcile_duration_seconds_bucket{le=\"+Inf\"} 3",
    );
    assert!(
        text.ends_with("# EOF\n"),
        "OpenMetrics output must end with # EOF"
    );
}

/// Token lifecycle counters tell operators how often Quay is written to.
#[test]
fn token_lifecycle_counters_are_exported() {
    let metrics = Metrics::new();
    metrics.token_minted();
    metrics.token_minted();
    metrics.token_rotated();
    let text = metrics.encode();
    assert_has(&text, "quay_apitoken_tokens_minted_total 2");
    assert_has(&text, "quay_apitoken_tokens_rotated_total 1");
    assert_has(&text, "quay_apitoken_tokens_revoked_total 0");
    metrics.token_revoked();
    assert_has(&metrics.encode(), "quay_apitoken_tokens_revoked_total 1");
}

/// Transport failures and 5xx count as errors; 2xx and 4xx do not, but all are timed.
#[test]
fn quay_requests_are_timed_and_server_errors_counted() {
    let metrics = Metrics::new();
    metrics.quay_request("create_token", Some(200), Duration::from_millis(500));
    metrics.quay_request("create_token", Some(404), Duration::from_millis(250));
    metrics.quay_request("create_token", Some(502), Duration::from_millis(125));
    metrics.quay_request("signin", None, Duration::from_secs(1));
    let text = metrics.encode();
    assert_has(
        &text,
        "quay_apitoken_quay_request_duration_seconds_count{endpoint=\"create_token\"} 3",
    );
    assert_has(
        &text,
        "quay_apitoken_quay_request_duration_seconds_sum{endpoint=\"create_token\"} 0.875",
    );
    assert_has(
        &text,
        "quay_apitoken_quay_request_duration_seconds_count{endpoint=\"signin\"} 1",
    );
    assert_has(
        &text,
        "quay_apitoken_quay_request_errors_total{endpoint=\"create_token\"} 1",
    );
    assert_has(
        &text,
        "quay_apitoken_quay_request_errors_total{endpoint=\"signin\"} 1",
    );
}

/// The gauge is overwritten, not accumulated, on each count.
#[test]
fn apitoken_readiness_gauge_holds_the_latest_counts() {
    let metrics = Metrics::new();
    metrics.set_apitokens_ready(5, 2);
    metrics.set_apitokens_ready(6, 1);
    let text = metrics.encode();
    assert_has(&text, "# TYPE quay_apitoken_apitokens gauge");
    assert_has(&text, "quay_apitoken_apitokens{ready=\"true\"} 6");
    assert_has(&text, "quay_apitoken_apitokens{ready=\"false\"} 1");
}

/// Exactly one replica should report 1, which is how a failover shows on a dashboard.
#[test]
fn leader_gauge_follows_leadership() {
    let metrics = Metrics::new();
    assert_has(&metrics.encode(), "quay_apitoken_leader 0");
    metrics.set_leader(true);
    assert_has(&metrics.encode(), "quay_apitoken_leader 1");
    metrics.set_leader(false);
    assert_has(&metrics.encode(), "quay_apitoken_leader 0");
}

/// The Application series are there beside the ApiToken ones, which keep their names.
#[test]
fn application_series_are_their_own() {
    let metrics = Metrics::new();
    metrics.application_reconcile_finished("ok", Duration::from_millis(10));
    metrics.application_created();
    metrics.application_updated();
    metrics.set_applications_ready(2, 1);
    let text = metrics.encode();
    for line in [
        "quay_apitoken_application_reconciles_total{result=\"ok\"} 1",
        "quay_apitoken_application_reconcile_duration_seconds_count 1",
        "quay_apitoken_application_creates_total 1",
        "quay_apitoken_application_updates_total 1",
        "quay_apitoken_application_deletes_total 0",
        "quay_apitoken_applications{ready=\"true\"} 2",
        "quay_apitoken_applications{ready=\"false\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line:?} missing from:\n{text}"
        );
    }
    assert!(
        !text.contains("quay_apitoken_reconciles_total{result=\"ok\"}"),
        "an Application reconcile is not counted as an ApiToken's"
    );
}

#[test]
fn mint_lock_waiters_are_a_gauge() {
    let metrics = Metrics::new();
    assert_has(
        &metrics.encode(),
        "quay_apitoken_reconciles_waiting_for_mint_lock 0",
    );
    let waiting = metrics.waiting_for_mint_lock();
    waiting.inc();
    waiting.inc();
    assert_has(
        &metrics.encode(),
        "quay_apitoken_reconciles_waiting_for_mint_lock 2",
    );
}
