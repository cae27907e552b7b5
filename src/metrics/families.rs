//! Label sets, family types, histogram buckets and registration helpers shared by the metric
//! areas.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ResultLabel {
    pub(super) result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct EndpointLabel {
    pub(super) endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ObjectLabel {
    pub(super) namespace: String,
    pub(super) name: String,
}

pub(super) type TimestampFamily = Family<ObjectLabel, Gauge<f64, std::sync::atomic::AtomicU64>>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ReadyLabel {
    pub(super) ready: &'static str,
}

pub(super) type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Reconciles span a few milliseconds (nothing to do) to tens of seconds (slow Quay, retries).
pub(super) fn reconcile_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

/// Single Quay HTTP calls: 5 ms up to about 20 s (the client's timeout range).
pub(super) fn quay_request_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 13))
}

/// Sets a Ready/not-Ready pair of gauges to the latest counts.
pub(super) fn set_ready_counts(family: &Family<ReadyLabel, Gauge>, ready: i64, not_ready: i64) {
    family
        .get_or_create(&ReadyLabel { ready: "true" })
        .set(ready);
    family
        .get_or_create(&ReadyLabel { ready: "false" })
        .set(not_ready);
}

/// Registers a counter named `name` and returns the handle that counts into it.
pub(super) fn counter(registry: &mut Registry, name: &str, help: &str) -> Counter {
    let counter = Counter::default();
    registry.register(name, help, counter.clone());
    counter
}

/// Registers a gauge named `name` and returns the handle that sets it.
pub(super) fn gauge(registry: &mut Registry, name: &str, help: &str) -> Gauge {
    let gauge = Gauge::default();
    registry.register(name, help, gauge.clone());
    gauge
}

/// Registers a Ready/not-Ready pair of gauges named `name`; [`set_ready_counts`] sets them.
pub(super) fn ready_counts(
    registry: &mut Registry,
    name: &str,
    help: &str,
) -> Family<ReadyLabel, Gauge> {
    let family = Family::default();
    registry.register(name, help, family.clone());
    family
}
