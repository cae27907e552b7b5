//! ApiToken reconciles and the Quay tokens they mint, rotate and revoke.

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use super::families::{ResultLabel, reconcile_buckets};

/// Reconcile results and durations, and the token lifecycle counters.
#[derive(Debug)]
pub(super) struct ReconcileMetrics {
    reconciles: Family<ResultLabel, Counter>,
    reconcile_duration: Histogram,
    tokens_minted: Counter,
    tokens_rotated: Counter,
    tokens_revoked: Counter,
    waiting_for_mint_lock: Gauge,
    waiting_for_host_share: Gauge,
}

impl ReconcileMetrics {
    /// The gauge of reconciles waiting for an account's mint lock (shared with the slots).
    pub(super) fn waiting_for_mint_lock(&self) -> Gauge {
        self.waiting_for_mint_lock.clone()
    }

    /// The gauge of reconciles waiting for their Quay host's share (shared with the slots).
    pub(super) fn waiting_for_host_share(&self) -> Gauge {
        self.waiting_for_host_share.clone()
    }

    /// Creates the families and registers them.
    pub(super) fn register(registry: &mut Registry) -> Self {
        let m = Self {
            reconciles: Family::default(),
            reconcile_duration: reconcile_buckets(),
            tokens_minted: Counter::default(),
            tokens_rotated: Counter::default(),
            tokens_revoked: Counter::default(),
            waiting_for_mint_lock: Gauge::default(),
            waiting_for_host_share: Gauge::default(),
        };
        registry.register(
            "reconciles",
            "Reconciliations of ApiTokens by result: ok, or the error category",
            m.reconciles.clone(),
        );
        registry.register_with_unit(
            "reconcile_duration",
            "Time spent reconciling one ApiToken",
            Unit::Seconds,
            m.reconcile_duration.clone(),
        );
        registry.register(
            "tokens_minted",
            "Quay access tokens minted for new ApiTokens or to repair lost ones",
            m.tokens_minted.clone(),
        );
        registry.register(
            "tokens_rotated",
            "Quay access tokens replaced on request",
            m.tokens_rotated.clone(),
        );
        registry.register(
            "tokens_revoked",
            "Quay access tokens revoked",
            m.tokens_revoked.clone(),
        );
        registry.register(
            "reconciles_waiting_for_mint_lock",
            "Reconciles queued behind another web-flow mint of the same Quay account, holding no concurrency slot",
            m.waiting_for_mint_lock.clone(),
        );
        // No host label: host names are tenants' input, and a series per host would grow
        // with every host anyone names.
        registry.register(
            "reconciles_waiting_for_host_share",
            "Reconciles queued, holding no concurrency slot, because the other reconciles of their Quay host hold that host's share of the slots",
            m.waiting_for_host_share.clone(),
        );
        m
    }

    /// Records one finished reconcile.
    pub(super) fn finished(&self, result: &str, elapsed: Duration) {
        self.reconciles
            .get_or_create(&ResultLabel {
                result: result.to_owned(),
            })
            .inc();
        self.reconcile_duration.observe(elapsed.as_secs_f64());
    }

    /// Counts a token minted in Quay.
    pub(super) fn minted(&self) {
        self.tokens_minted.inc();
    }

    /// Counts a token replaced on request.
    pub(super) fn rotated(&self) {
        self.tokens_rotated.inc();
    }

    /// Counts a token revoked in Quay.
    pub(super) fn revoked(&self) {
        self.tokens_revoked.inc();
    }
}
