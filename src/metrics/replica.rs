//! What this replica sees and holds right now: its ApiTokens by readiness, and leadership.

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::families::{ReadyLabel, gauge, ready_counts, set_ready_counts};

/// The readiness and leadership gauges.
#[derive(Debug)]
pub(super) struct ReplicaMetrics {
    apitokens: Family<ReadyLabel, Gauge>,
    leader: Gauge,
}

impl ReplicaMetrics {
    /// Creates the gauges and registers them.
    pub(super) fn register(registry: &mut Registry) -> Self {
        Self {
            apitokens: ready_counts(
                registry,
                "apitokens",
                "ApiTokens known to this replica by Ready condition",
            ),
            leader: gauge(
                registry,
                "leader",
                "1 when this replica holds the leader-election Lease (or runs without election), else 0",
            ),
        }
    }

    /// Sets how many ApiTokens are Ready and not Ready.
    pub(super) fn set_apitokens_ready(&self, ready: i64, not_ready: i64) {
        set_ready_counts(&self.apitokens, ready, not_ready);
    }

    /// Sets whether this replica leads.
    pub(super) fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }
}
