//! Prometheus metrics of the operator, held in the controller context rather than in globals.
//!
//! Label values come from small closed sets chosen by the callers (a result category, a Quay
//! endpoint name), never from user input, so the series count stays bounded. The one exception
//! is the lifetime pair (`expiration_timestamp_seconds`, `renewal_timestamp_seconds`), one
//! series per ApiToken as cert-manager has one per Certificate, removed when it goes.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// Content type of [`Metrics::encode`]'s output.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Prefix of every metric name.
const PREFIX: &str = "quay_apitoken";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabel {
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ObjectLabel {
    namespace: String,
    name: String,
}

type TimestampFamily = Family<ObjectLabel, Gauge<f64, std::sync::atomic::AtomicU64>>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReadyLabel {
    ready: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The operator's metrics and the registry that exposes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reconciles: Family<ResultLabel, Counter>,
    reconcile_duration: Histogram,
    tokens_minted: Counter,
    tokens_rotated: Counter,
    tokens_revoked: Counter,
    quay_request_duration: HistogramFamily<EndpointLabel>,
    quay_request_errors: Family<EndpointLabel, Counter>,
    apitokens: Family<ReadyLabel, Gauge>,
    leader: Gauge,
    /// The Application resource's series (families of their own, beside the ApiToken ones).
    applications: ApplicationMetrics,
    expiration: TimestampFamily,
    renewal: TimestampFamily,
}

/// Reconciles span a few milliseconds (nothing to do) to tens of seconds (slow Quay, retries).
fn reconcile_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

/// Single Quay HTTP calls: 5 ms up to about 20 s (the client's timeout range).
fn quay_request_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 13))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates all metrics and registers them under the `quay_apitoken_` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix(PREFIX);
        let reconciles = Family::<ResultLabel, Counter>::default();
        registry.register(
            "reconciles",
            "Reconciliations of ApiTokens by result: ok, or the error category",
            reconciles.clone(),
        );
        let reconcile_duration = reconcile_buckets();
        registry.register_with_unit(
            "reconcile_duration",
            "Time spent reconciling one ApiToken",
            Unit::Seconds,
            reconcile_duration.clone(),
        );
        let tokens_minted = Counter::default();
        registry.register(
            "tokens_minted",
            "Quay access tokens minted for new ApiTokens or to repair lost ones",
            tokens_minted.clone(),
        );
        let tokens_rotated = Counter::default();
        registry.register(
            "tokens_rotated",
            "Quay access tokens replaced on request",
            tokens_rotated.clone(),
        );
        let tokens_revoked = Counter::default();
        registry.register(
            "tokens_revoked",
            "Quay access tokens revoked",
            tokens_revoked.clone(),
        );
        let quay_request_duration =
            HistogramFamily::<EndpointLabel>::new_with_constructor(quay_request_buckets);
        registry.register_with_unit(
            "quay_request_duration",
            "Duration of HTTP requests to Quay by endpoint",
            Unit::Seconds,
            quay_request_duration.clone(),
        );
        let quay_request_errors = Family::<EndpointLabel, Counter>::default();
        registry.register(
            "quay_request_errors",
            "Quay requests that failed without a response or with a 5xx status",
            quay_request_errors.clone(),
        );
        let apitokens = Family::<ReadyLabel, Gauge>::default();
        registry.register(
            "apitokens",
            "ApiTokens known to this replica by Ready condition",
            apitokens.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 when this replica holds the leader-election Lease (or runs without election), else 0",
            leader.clone(),
        );
        let expiration = TimestampFamily::default();
        registry.register_with_unit(
            "expiration_timestamp",
            "When the current token of each ApiToken expires, in Unix seconds",
            Unit::Seconds,
            expiration.clone(),
        );
        let renewal = TimestampFamily::default();
        registry.register_with_unit(
            "renewal_timestamp",
            "When the current token of each ApiToken is renewed, in Unix seconds",
            Unit::Seconds,
            renewal.clone(),
        );
        let applications = ApplicationMetrics::register(&mut registry);
        Self {
            applications,
            expiration,
            renewal,
            registry,
            reconciles,
            reconcile_duration,
            tokens_minted,
            tokens_rotated,
            tokens_revoked,
            quay_request_duration,
            quay_request_errors,
            apitokens,
            leader,
        }
    }

    /// Records one finished reconcile; `result` is `"ok"` or the error's category.
    pub fn reconcile_finished(&self, result: &str, elapsed: Duration) {
        self.reconciles
            .get_or_create(&ResultLabel {
                result: result.to_owned(),
            })
            .inc();
        self.reconcile_duration.observe(elapsed.as_secs_f64());
    }

    /// Counts a token minted in Quay.
    pub fn token_minted(&self) {
        self.tokens_minted.inc();
    }

    /// Counts a token replaced because rotation was requested.
    pub fn token_rotated(&self) {
        self.tokens_rotated.inc();
    }

    /// Counts a token revoked in Quay.
    pub fn token_revoked(&self) {
        self.tokens_revoked.inc();
    }

    /// Records one Quay HTTP request; `status` is `None` when no response arrived.
    pub fn quay_request(&self, endpoint: &str, status: Option<u16>, elapsed: Duration) {
        let label = EndpointLabel {
            endpoint: endpoint.to_owned(),
        };
        self.quay_request_duration
            .get_or_create(&label)
            .observe(elapsed.as_secs_f64());
        // 4xx answers are Quay doing its job (bad credentials, missing token): the operator
        // reports those per object; only transport failures and server errors count here.
        if status.is_none_or(|code| code >= 500) {
            self.quay_request_errors.get_or_create(&label).inc();
        }
    }

    /// Sets how many ApiTokens are currently Ready and not Ready.
    pub fn set_apitokens_ready(&self, ready: i64, not_ready: i64) {
        self.apitokens
            .get_or_create(&ReadyLabel { ready: "true" })
            .set(ready);
        self.apitokens
            .get_or_create(&ReadyLabel { ready: "false" })
            .set(not_ready);
    }

    /// Records when an ApiToken's token expires and is renewed; `None` drops its series (no
    /// token, or one the operator does not renew).
    pub fn set_schedule(&self, namespace: &str, name: &str, times: Option<(f64, f64)>) {
        let label = ObjectLabel {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        };
        match times {
            Some((expires, renews)) => {
                self.expiration.get_or_create(&label).set(expires);
                self.renewal.get_or_create(&label).set(renews);
            }
            None => {
                self.expiration.remove(&label);
                self.renewal.remove(&label);
            }
        }
    }

    /// Sets whether this replica currently leads.
    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    /// Renders every metric in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; an error here could only come from a metric's own
        // encoder, and a partial scrape is still more useful than none.
        if let Err(error) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::warn!(%error, "encoding metrics failed; the scrape is incomplete");
        }
        out
    }
}

/// The Application resource's series: families of their own, so that the ApiToken series keep
/// their names and label sets.
#[derive(Debug)]
struct ApplicationMetrics {
    reconciles: Family<ResultLabel, Counter>,
    reconcile_duration: Histogram,
    created: Counter,
    updated: Counter,
    deleted: Counter,
    ready: Family<ReadyLabel, Gauge>,
}

impl ApplicationMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = ApplicationMetrics {
            reconciles: Family::default(),
            reconcile_duration: reconcile_buckets(),
            created: Counter::default(),
            updated: Counter::default(),
            deleted: Counter::default(),
            ready: Family::default(),
        };
        registry.register(
            "application_reconciles",
            "Reconciliations of Applications by result: ok, or the error category",
            m.reconciles.clone(),
        );
        registry.register_with_unit(
            "application_reconcile_duration",
            "Time spent reconciling one Application",
            Unit::Seconds,
            m.reconcile_duration.clone(),
        );
        registry.register(
            "application_creates",
            "OAuth applications created in Quay (first ones, and those deleted in Quay behind the operator's back)",
            m.created.clone(),
        );
        registry.register(
            "application_updates",
            "OAuth applications whose fields were brought to their spec (one replacing PUT each)",
            m.updated.clone(),
        );
        registry.register(
            "application_deletes",
            "OAuth applications deleted in Quay with their Application",
            m.deleted.clone(),
        );
        registry.register(
            "applications",
            "Applications known to this replica by Ready condition",
            m.ready.clone(),
        );
        m
    }
}

impl Metrics {
    /// Records one finished Application reconcile; `result` is `"ok"` or the error's category.
    pub fn application_reconcile_finished(&self, result: &str, elapsed: Duration) {
        self.applications
            .reconciles
            .get_or_create(&ResultLabel {
                result: result.to_owned(),
            })
            .inc();
        self.applications
            .reconcile_duration
            .observe(elapsed.as_secs_f64());
    }

    /// Counts an application created in Quay.
    pub fn application_created(&self) {
        self.applications.created.inc();
    }

    /// Counts an application updated in Quay.
    pub fn application_updated(&self) {
        self.applications.updated.inc();
    }

    /// Counts an application deleted in Quay.
    pub fn application_deleted(&self) {
        self.applications.deleted.inc();
    }

    /// Sets how many Applications are currently Ready and not Ready.
    pub fn set_applications_ready(&self, ready: i64, not_ready: i64) {
        let family = &self.applications.ready;
        family
            .get_or_create(&ReadyLabel { ready: "true" })
            .set(ready);
        family
            .get_or_create(&ReadyLabel { ready: "false" })
            .set(not_ready);
    }
}

#[cfg(test)]
mod application_tests {
    use super::*;

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
}

#[cfg(test)]
#[allow(clippy::expect_used)] // a test failing loudly on a broken fixture is the point
mod tests {
    use super::*;

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
}
