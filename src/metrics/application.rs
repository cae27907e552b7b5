//! The Application resource's series: families of their own, so that the ApiToken series keep
//! their names and label sets.

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use super::families::{ReadyLabel, ResultLabel, reconcile_buckets, set_ready_counts};

/// The Application resource's series: families of their own, so that the ApiToken series keep
/// their names and label sets.
#[derive(Debug)]
pub(super) struct ApplicationMetrics {
    reconciles: Family<ResultLabel, Counter>,
    reconcile_duration: Histogram,
    created: Counter,
    updated: Counter,
    deleted: Counter,
    ready: Family<ReadyLabel, Gauge>,
}

impl ApplicationMetrics {
    /// Creates the families and registers them.
    pub(super) fn register(registry: &mut Registry) -> Self {
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

    /// Records one finished Application reconcile.
    pub(super) fn finished(&self, result: &str, elapsed: Duration) {
        self.reconciles
            .get_or_create(&ResultLabel {
                result: result.to_owned(),
            })
            .inc();
        self.reconcile_duration.observe(elapsed.as_secs_f64());
    }

    /// Counts an application created in Quay.
    pub(super) fn created(&self) {
        self.created.inc();
    }

    /// Counts an application updated in Quay.
    pub(super) fn updated(&self) {
        self.updated.inc();
    }

    /// Counts an application deleted in Quay.
    pub(super) fn deleted(&self) {
        self.deleted.inc();
    }

    /// Sets how many Applications are Ready and not Ready.
    pub(super) fn set_ready(&self, ready: i64, not_ready: i64) {
        set_ready_counts(&self.ready, ready, not_ready);
    }
}
