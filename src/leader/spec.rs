//! Pure Lease builders: the spec a candidate writes when it acquires or renews the Lease, and
//! the one its holder writes when it gives the Lease up.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::LeaseSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;

use super::settings::LeaseSettings;

/// The Lease spec after `identity` acquires (`renewing == false`) or renews it at `now`.
pub fn claimed_spec(
    current: Option<&LeaseSpec>,
    settings: &LeaseSettings,
    renewing: bool,
    now: Timestamp,
) -> LeaseSpec {
    let transitions = current.and_then(|s| s.lease_transitions).unwrap_or(0);
    let acquire_time = if renewing {
        current.and_then(|s| s.acquire_time.clone())
    } else {
        None
    };
    LeaseSpec {
        holder_identity: Some(settings.identity.clone()),
        lease_duration_seconds: Some(whole_seconds(settings.lease_duration)),
        acquire_time: Some(acquire_time.unwrap_or(MicroTime(now))),
        renew_time: Some(MicroTime(now)),
        // Like client-go, any change of holder (including from a released Lease) is a transition.
        lease_transitions: Some(if renewing {
            transitions
        } else {
            transitions.saturating_add(1)
        }),
        ..current.cloned().unwrap_or_default()
    }
}

/// The Lease spec after its holder gives it up at `now`: no holder, so a standby takes over at
/// once instead of waiting for the lease to expire.
pub fn released_spec(current: &LeaseSpec, now: Timestamp) -> LeaseSpec {
    LeaseSpec {
        holder_identity: None,
        lease_duration_seconds: Some(1),
        acquire_time: None,
        renew_time: Some(MicroTime(now)),
        ..current.clone()
    }
}

/// Rounds up so that a sub-second setting never becomes a zero-length lease.
fn whole_seconds(duration: Duration) -> i32 {
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    i32::try_from(secs.max(1)).unwrap_or(i32::MAX)
}

#[cfg(test)]
#[allow(clippy::expect_used)] // a test failing loudly on a broken fixture is the point
mod tests {
    use k8s_openapi::api::coordination::v1::Lease;

    use super::*;
    use crate::leader::decision::{Decision, decide};
    use crate::leader::test_support::{FIFTEEN, ME, lease, settings, ts};

    /// Taking over records a new acquire time and counts one more transition.
    #[test]
    fn acquiring_sets_holder_times_and_transitions() {
        let current = lease(Some("pod-b"), Some(15), Some(3));
        let spec = claimed_spec(
            current.spec.as_ref(),
            &settings(ME, 15_000, 10_000, 2_000),
            false,
            ts(200),
        );
        assert_eq!(spec.holder_identity.as_deref(), Some(ME));
        assert_eq!(spec.lease_duration_seconds, Some(15));
        assert_eq!(spec.acquire_time, Some(MicroTime(ts(200))));
        assert_eq!(spec.renew_time, Some(MicroTime(ts(200))));
        assert_eq!(spec.lease_transitions, Some(4));
        let fresh = claimed_spec(None, &settings(ME, 15_000, 10_000, 2_000), false, ts(5));
        assert_eq!(fresh.lease_transitions, Some(1));
        assert_eq!(fresh.acquire_time, Some(MicroTime(ts(5))));
    }

    /// Renewing moves only renewTime, so acquireTime still tells when leadership began.
    #[test]
    fn renewing_keeps_acquire_time_and_transitions() {
        let current = lease(Some(ME), Some(15), Some(3));
        let spec = claimed_spec(
            current.spec.as_ref(),
            &settings(ME, 15_000, 10_000, 2_000),
            true,
            ts(300),
        );
        assert_eq!(spec.acquire_time, Some(MicroTime(ts(100))));
        assert_eq!(spec.renew_time, Some(MicroTime(ts(300))));
        assert_eq!(spec.lease_transitions, Some(3));
    }

    /// A sub-second setting must not write a zero duration that makes the Lease free at once.
    #[test]
    fn lease_duration_is_rounded_up_to_whole_seconds() {
        let spec = claimed_spec(None, &settings(ME, 1_500, 1_000, 100), false, ts(0));
        assert_eq!(spec.lease_duration_seconds, Some(2));
        assert_eq!(whole_seconds(Duration::from_millis(10)), 1);
    }

    /// Releasing clears the holder but keeps the transition count.
    #[test]
    fn releasing_clears_the_holder() {
        let current = lease(Some(ME), Some(15), Some(3));
        let spec = released_spec(current.spec.as_ref().expect("spec"), ts(400));
        assert_eq!(spec.holder_identity, None);
        assert_eq!(spec.lease_transitions, Some(3));
        assert_eq!(spec.renew_time, Some(MicroTime(ts(400))));
        let released = Lease {
            spec: Some(spec),
            ..current
        };
        assert_eq!(
            decide(Some(&released), "pod-b", Duration::ZERO, FIFTEEN),
            Decision::Acquire
        );
    }
}
