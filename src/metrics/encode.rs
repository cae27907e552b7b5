//! The OpenMetrics text rendering of the registry.

use prometheus_client::registry::Registry;

/// Content type of [`Metrics::encode`](super::Metrics::encode)'s output.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Renders every metric in `registry` in the OpenMetrics text format.
pub(super) fn encode(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail; an error here could only come from a metric's own
    // encoder, and a partial scrape is still more useful than none.
    if let Err(error) = prometheus_client::encoding::text::encode(&mut out, registry) {
        tracing::warn!(%error, "encoding metrics failed; the scrape is incomplete");
    }
    out
}
