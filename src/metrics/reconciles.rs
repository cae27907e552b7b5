//! ApiToken reconciles and the Quay tokens they mint, rotate and revoke.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::families::{counter, gauge};
use super::outcomes::Outcomes;

/// Reconcile results and durations, and the token lifecycle counters.
#[derive(Debug)]
pub(super) struct ReconcileMetrics {
    pub(super) outcomes: Outcomes,
    pub(super) tokens_minted: Counter,
    pub(super) tokens_rotated: Counter,
    pub(super) tokens_revoked: Counter,
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
        Self {
            outcomes: Outcomes::register(registry, "", "ApiToken"),
            tokens_minted: counter(
                registry,
                "tokens_minted",
                "Quay access tokens minted for new ApiTokens or to repair lost ones",
            ),
            tokens_rotated: counter(
                registry,
                "tokens_rotated",
                "Quay access tokens replaced on request",
            ),
            tokens_revoked: counter(registry, "tokens_revoked", "Quay access tokens revoked"),
            waiting_for_mint_lock: gauge(
                registry,
                "reconciles_waiting_for_mint_lock",
                "Reconciles queued behind another web-flow mint of the same Quay account, holding no concurrency slot",
            ),
            // No host label: host names are tenants' input, and a series per host would grow
            // with every host anyone names.
            waiting_for_host_share: gauge(
                registry,
                "reconciles_waiting_for_host_share",
                "Reconciles queued, holding no concurrency slot, because the other reconciles of their Quay host hold that host's share of the slots",
            ),
        }
    }
}
