//! HTTP requests to Quay: their durations, and the ones that failed on Quay's side.

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::{Registry, Unit};

use super::families::{EndpointLabel, HistogramFamily, quay_request_buckets};

/// Request durations and server-side failures, by endpoint.
#[derive(Debug)]
pub(super) struct QuayMetrics {
    request_duration: HistogramFamily<EndpointLabel>,
    request_errors: Family<EndpointLabel, Counter>,
}

impl QuayMetrics {
    /// Creates the families and registers them.
    pub(super) fn register(registry: &mut Registry) -> Self {
        let m = Self {
            request_duration: HistogramFamily::<EndpointLabel>::new_with_constructor(
                quay_request_buckets,
            ),
            request_errors: Family::default(),
        };
        registry.register_with_unit(
            "quay_request_duration",
            "Duration of HTTP requests to Quay by endpoint",
            Unit::Seconds,
            m.request_duration.clone(),
        );
        registry.register(
            "quay_request_errors",
            "Quay requests that failed without a response or with a 5xx status",
            m.request_errors.clone(),
        );
        m
    }

    /// Records one request; `status` is `None` when no response arrived.
    pub(super) fn request(&self, endpoint: &str, status: Option<u16>, elapsed: Duration) {
        let label = EndpointLabel {
            endpoint: endpoint.to_owned(),
        };
        self.request_duration
            .get_or_create(&label)
            .observe(elapsed.as_secs_f64());
        // 4xx answers are Quay doing its job (bad credentials, missing token): the operator
        // reports those per object; only transport failures and server errors count here.
        if status.is_none_or(|code| code >= 500) {
            self.request_errors.get_or_create(&label).inc();
        }
    }
}
