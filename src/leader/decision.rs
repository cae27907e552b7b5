//! The pure decision: given the Lease as it stands and how long we have seen it unchanged,
//! create it, acquire it, renew it, or stand by. For a replica that leads, standing by means it
//! has lost the Lease.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use tokio::time::Instant;

/// What a candidate should do with the Lease as it currently stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No Lease exists: create it with ourselves as holder.
    Create,
    /// The Lease is free or its holder is presumed dead: take it over.
    Acquire,
    /// We hold the Lease: renew it.
    Renew,
    /// Someone else holds a live Lease: try again later.
    Wait {
        /// The current holder.
        holder: String,
        /// How long until the holder is presumed dead if it stays silent.
        remaining: Duration,
    },
}

/// Decides, without I/O, what `identity` should do with `lease`, which has been seen unchanged
/// for `unchanged_for`; `default_duration` applies when the Lease does not state one.
pub fn decide(
    lease: Option<&Lease>,
    identity: &str,
    unchanged_for: Duration,
    default_duration: Duration,
) -> Decision {
    let Some(lease) = lease else {
        return Decision::Create;
    };
    let spec = lease.spec.as_ref();
    let holder = spec
        .and_then(|s| s.holder_identity.as_deref())
        .unwrap_or_default();
    if holder.is_empty() {
        return Decision::Acquire;
    }
    if holder == identity {
        return Decision::Renew;
    }
    let duration = spec
        .and_then(|s| s.lease_duration_seconds)
        .and_then(|secs| u64::try_from(secs).ok())
        .map_or(default_duration, Duration::from_secs);
    match duration.checked_sub(unchanged_for) {
        Some(remaining) if !remaining.is_zero() => Decision::Wait {
            holder: holder.to_owned(),
            remaining,
        },
        _ => Decision::Acquire,
    }
}

/// The resourceVersion we last saw and since when, on our own monotonic clock: how a silent
/// holder is told from a live one without trusting anyone's wall clock.
#[derive(Debug, Default)]
pub(super) struct Observation {
    seen: Option<(Option<String>, Instant)>,
}

impl Observation {
    /// Notes `version` read at `now`; returns how long the Lease has stood at that version
    /// (zero when it is new to us).
    pub(super) fn unchanged_for(&mut self, version: Option<String>, now: Instant) -> Duration {
        match &self.seen {
            Some((seen, since)) if *seen == version => now.saturating_duration_since(*since),
            _ => {
                self.seen = Some((version, now));
                Duration::ZERO
            }
        }
    }

    /// Notes our own write, which left the Lease at `version` at `now`.
    pub(super) fn wrote(&mut self, version: Option<String>, now: Instant) {
        self.seen = Some((version, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leader::test_support::{FIFTEEN, ME, lease};

    /// The first replica ever started creates the Lease.
    #[test]
    fn missing_lease_is_created() {
        assert_eq!(decide(None, ME, Duration::ZERO, FIFTEEN), Decision::Create);
    }

    /// A released Lease (no or empty holder) is taken at once, without waiting for expiry.
    #[test]
    fn free_lease_is_acquired_immediately() {
        for holder in [None, Some("")] {
            let current = lease(holder, Some(15), Some(3));
            assert_eq!(
                decide(Some(&current), ME, Duration::ZERO, FIFTEEN),
                Decision::Acquire
            );
        }
        let no_spec = Lease {
            spec: None,
            ..lease(None, None, None)
        };
        assert_eq!(
            decide(Some(&no_spec), ME, Duration::ZERO, FIFTEEN),
            Decision::Acquire
        );
    }

    /// Our own record is renewed, also after a restart with the same pod name.
    #[test]
    fn own_lease_is_renewed() {
        let current = lease(Some(ME), Some(15), Some(1));
        assert_eq!(
            decide(Some(&current), ME, Duration::ZERO, FIFTEEN),
            Decision::Renew
        );
        assert_eq!(
            decide(Some(&current), ME, Duration::from_secs(60), FIFTEEN),
            Decision::Renew
        );
    }

    /// A live holder is left alone until its record has been silent for its lease duration.
    #[test]
    fn live_holder_is_waited_for() {
        let current = lease(Some("pod-b"), Some(15), Some(1));
        assert_eq!(
            decide(Some(&current), ME, Duration::from_secs(4), FIFTEEN),
            Decision::Wait {
                holder: "pod-b".to_owned(),
                remaining: Duration::from_secs(11)
            }
        );
        assert_eq!(
            decide(Some(&current), ME, Duration::from_millis(14_999), FIFTEEN),
            Decision::Wait {
                holder: "pod-b".to_owned(),
                remaining: Duration::from_millis(1)
            }
        );
    }

    /// A holder silent for its whole lease duration is presumed dead and replaced.
    #[test]
    fn silent_holder_is_replaced_after_its_lease_duration() {
        let current = lease(Some("pod-b"), Some(15), Some(1));
        assert_eq!(
            decide(Some(&current), ME, FIFTEEN, FIFTEEN),
            Decision::Acquire
        );
        assert_eq!(
            decide(Some(&current), ME, Duration::from_secs(99), FIFTEEN),
            Decision::Acquire
        );
    }

    /// The holder's own stated duration counts, not ours; ours is only the fallback.
    #[test]
    fn holder_duration_takes_precedence_over_ours() {
        let long = lease(Some("pod-b"), Some(60), None);
        assert!(matches!(
            decide(Some(&long), ME, Duration::from_secs(30), FIFTEEN),
            Decision::Wait { .. }
        ));
        let unstated = lease(Some("pod-b"), None, None);
        assert_eq!(
            decide(Some(&unstated), ME, Duration::from_secs(30), FIFTEEN),
            Decision::Acquire
        );
        assert!(matches!(
            decide(Some(&unstated), ME, Duration::from_secs(5), FIFTEEN),
            Decision::Wait { .. }
        ));
    }

    /// Silence is counted from when we first saw a version, so a holder that keeps renewing
    /// (a new version each time) is never presumed dead, whatever the clocks say.
    #[test]
    fn silence_counts_from_the_first_sight_of_a_version() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut observed = Observation::default();
        let v = |s: &str| Some(s.to_owned());
        assert_eq!(observed.unchanged_for(v("1"), at(0)), Duration::ZERO);
        assert_eq!(
            observed.unchanged_for(v("1"), at(900)),
            Duration::from_millis(900)
        );
        assert_eq!(observed.unchanged_for(v("2"), at(1_000)), Duration::ZERO);
        assert_eq!(
            observed.unchanged_for(v("2"), at(1_250)),
            Duration::from_millis(250)
        );
        assert_eq!(observed.unchanged_for(None, at(1_300)), Duration::ZERO);
    }

    /// Our own write restarts the count, so we never presume ourselves silent.
    #[test]
    fn our_write_restarts_the_count() {
        let start = Instant::now();
        let mut observed = Observation::default();
        observed.unchanged_for(Some("1".to_owned()), start);
        observed.wrote(Some("2".to_owned()), start + Duration::from_secs(5));
        assert_eq!(
            observed.unchanged_for(Some("2".to_owned()), start + Duration::from_secs(7)),
            Duration::from_secs(2)
        );
    }
}
