//! Prometheus metrics of the operator, held in the controller context rather than in globals.
//!
//! Label values come from small closed sets chosen by the callers (a result category, a Quay
//! endpoint name), never from user input, so the series count stays bounded. The one exception
//! is the lifetime pair (`expiration_timestamp_seconds`, `renewal_timestamp_seconds`), one
//! series per ApiToken as cert-manager has one per Certificate, removed when it goes.
//!
//! Each area (reconciles, Quay requests, this replica's gauges, token lifetimes, Applications)
//! owns its families, registers them and records into them; [`Metrics`] is the one handle
//! callers hold, and `encode` renders the registry.

mod application;
mod encode;
mod families;
mod lifetime;
mod outcomes;
mod progress;
mod quay;
mod reconciles;
mod replica;
#[cfg(test)]
mod tests;

use std::time::Duration;

use prometheus_client::registry::Registry;

use application::ApplicationMetrics;
pub use encode::OPENMETRICS_CONTENT_TYPE;
use lifetime::LifetimeMetrics;
use progress::Progress;
pub use progress::{AtWork, Stall};
use quay::QuayMetrics;
use reconciles::ReconcileMetrics;
use replica::ReplicaMetrics;

/// Prefix of every metric name.
const PREFIX: &str = "quay_apitoken";

/// The operator's metrics and the registry that exposes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reconciles: ReconcileMetrics,
    quay: QuayMetrics,
    replica: ReplicaMetrics,
    lifetime: LifetimeMetrics,
    /// The Application resource's series (families of their own, beside the ApiToken ones).
    applications: ApplicationMetrics,
    /// Reconciles at work and the last one finished, for `/healthz` (not exported).
    progress: Progress,
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
        // The registration order is the scrape's order, so it stays as it was.
        let reconciles = ReconcileMetrics::register(&mut registry);
        let quay = QuayMetrics::register(&mut registry);
        let replica = ReplicaMetrics::register(&mut registry);
        let lifetime = LifetimeMetrics::register(&mut registry);
        let applications = ApplicationMetrics::register(&mut registry);
        Self {
            registry,
            reconciles,
            quay,
            replica,
            lifetime,
            applications,
            progress: Progress::default(),
        }
    }

    /// Counts a reconcile (either kind) at work until the guard is dropped; see `/healthz`.
    pub fn reconcile_started(&self) -> AtWork<'_> {
        self.progress.started(std::time::Instant::now())
    }

    /// Reconciles at work with none finished for longer than `limit`, if so.
    pub fn stalled(&self, limit: Duration) -> Option<Stall> {
        self.progress.stalled(std::time::Instant::now(), limit)
    }

    /// Records one finished reconcile; `result` is `"ok"` or the error's category.
    pub fn reconcile_finished(&self, result: &str, elapsed: Duration) {
        self.reconciles.outcomes.finished(result, elapsed);
    }

    /// Counts a token minted in Quay.
    pub fn token_minted(&self) {
        self.reconciles.tokens_minted.inc();
    }

    /// Counts a token replaced because rotation was requested.
    pub fn token_rotated(&self) {
        self.reconciles.tokens_rotated.inc();
    }

    /// Counts a token revoked in Quay.
    pub fn token_revoked(&self) {
        self.reconciles.tokens_revoked.inc();
    }

    /// The gauge the concurrency slots keep: reconciles waiting for an account's mint lock.
    pub fn waiting_for_mint_lock(&self) -> prometheus_client::metrics::gauge::Gauge {
        self.reconciles.waiting_for_mint_lock()
    }

    /// The gauge the concurrency slots keep: reconciles waiting for their Quay host's share.
    pub fn waiting_for_host_share(&self) -> prometheus_client::metrics::gauge::Gauge {
        self.reconciles.waiting_for_host_share()
    }

    /// Records one Quay HTTP request; `status` is `None` when no response arrived.
    pub fn quay_request(&self, endpoint: &str, status: Option<u16>, elapsed: Duration) {
        self.quay.request(endpoint, status, elapsed);
    }

    /// Sets how many ApiTokens are currently Ready and not Ready.
    pub fn set_apitokens_ready(&self, ready: i64, not_ready: i64) {
        self.replica.set_apitokens_ready(ready, not_ready);
    }

    /// Records when an ApiToken's token expires and is renewed; `None` drops its series (no
    /// token, or one the operator does not renew).
    pub fn set_schedule(&self, namespace: &str, name: &str, times: Option<(f64, f64)>) {
        self.lifetime.set_schedule(namespace, name, times);
    }

    /// Sets whether this replica currently leads.
    pub fn set_leader(&self, leading: bool) {
        self.replica.set_leader(leading);
    }

    /// Records one finished Application reconcile; `result` is `"ok"` or the error's category.
    pub fn application_reconcile_finished(&self, result: &str, elapsed: Duration) {
        self.applications.outcomes.finished(result, elapsed);
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
        self.applications.set_ready(ready, not_ready);
    }

    /// Renders every metric in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        encode::encode(&self.registry)
    }
}
