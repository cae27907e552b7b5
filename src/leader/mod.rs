//! Leader election on a `coordination.k8s.io/v1` Lease, with client-go's semantics.
//!
//! Why a module of our own rather than a crate: kube-runtime ships no leader election, and the
//! third-party crates differ in subtle ways (clock-skew handling, whether they ever give up).
//! This is the code that decides whether two replicas may write to Quay at once, so it is kept
//! small enough to audit: one pure [`decide`] function (`decision`), pure Lease builders
//! (`spec`), the Lease store (`store`), one read-decide-write round (`round`) and the loop that
//! times the rounds (`elector`).
//!
//! Safety rests on three rules. Every write is a `resourceVersion`-guarded replace (or a create),
//! so of two candidates racing for a free Lease exactly one succeeds. A holder is presumed dead
//! only after *we* have seen its record unchanged for its `leaseDurationSeconds`, measured on
//! our own monotonic clock, so clock skew between nodes does not matter. And a leader gives up
//! after `renew_deadline` without a successful renewal — before anyone may take over.

mod decision;
mod elector;
mod round;
mod settings;
mod spec;
mod store;
#[cfg(test)]
mod test_support;

pub use decision::{Decision, decide};
pub use elector::{LeaderElector, LeaderError};
pub use settings::LeaseSettings;
pub use spec::{claimed_spec, released_spec};
pub use store::{KubeLeases, LeaseStore, StoreError};
