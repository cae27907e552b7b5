//! The Application resource's series: families of their own, so that the ApiToken series keep
//! their names and label sets.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::families::{ReadyLabel, counter, ready_counts, set_ready_counts};
use super::outcomes::Outcomes;

/// The Application resource's series: families of their own, so that the ApiToken series keep
/// their names and label sets.
#[derive(Debug)]
pub(super) struct ApplicationMetrics {
    ready: Family<ReadyLabel, Gauge>,
    pub(super) outcomes: Outcomes,
    pub(super) created: Counter,
    pub(super) updated: Counter,
    pub(super) deleted: Counter,
}

impl ApplicationMetrics {
    /// Creates the families and registers them.
    pub(super) fn register(registry: &mut Registry) -> Self {
        ApplicationMetrics {
            outcomes: Outcomes::register(registry, "application_", "Application"),
            created: counter(
                registry,
                "application_creates",
                "OAuth applications created in Quay (first ones, and those deleted in Quay behind the operator's back)",
            ),
            updated: counter(
                registry,
                "application_updates",
                "OAuth applications whose fields were brought to their spec (one replacing PUT each)",
            ),
            deleted: counter(
                registry,
                "application_deletes",
                "OAuth applications deleted in Quay with their Application",
            ),
            ready: ready_counts(
                registry,
                "applications",
                "Applications known to this replica by Ready condition",
            ),
        }
    }

    /// Sets how many Applications are Ready and not Ready.
    pub(super) fn set_ready(&self, ready: i64, not_ready: i64) {
        set_ready_counts(&self.ready, ready, not_ready);
    }
}
