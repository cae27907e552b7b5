//! Where the Lease lives and how the election is timed.

use std::time::Duration;

/// Where the Lease lives and how the election is timed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseSettings {
    /// Name of the Lease object.
    pub name: String,
    /// Namespace of the Lease object.
    pub namespace: String,
    /// This replica's identity, written as `holderIdentity`.
    pub identity: String,
    /// How long others wait for a silent holder before taking over.
    pub lease_duration: Duration,
    /// How long the leader keeps failing to renew before it gives up.
    pub renew_deadline: Duration,
    /// Interval between acquire or renew attempts.
    pub retry_period: Duration,
}
