//! Per-object exponential backoff with jitter, reset on success.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Retry delays per object (keyed by UID): 2 s, 4 s, 8 s … up to `max`, each ±20 %.
#[derive(Debug)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: Mutex<HashMap<String, u32>>,
}

impl Backoff {
    /// A backoff starting at `base` and capped at `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Records one more failure of `key` and returns how long to wait before the next try.
    pub fn next_delay(&self, key: &str) -> Duration {
        let n = {
            let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            let n = failures.entry(key.to_string()).or_insert(0);
            *n = n.saturating_add(1);
            *n
        };
        jittered(delay_for(self.base, self.max, n), rand::random::<f64>())
    }

    /// The requeue after a failed reconcile of `key`: transient errors back off (or wait for
    /// Quay's Retry-After), permanent ones wait for a watched change, with the verify interval
    /// as a safety net since some fixes happen inside Quay.
    pub fn requeue_after(
        &self,
        key: &str,
        error: &dyn std::fmt::Display,
        transient: bool,
        retry_after: Option<Duration>,
        verify_interval: Duration,
    ) -> kube::runtime::controller::Action {
        use kube::runtime::controller::Action;
        if transient {
            // Quay's Retry-After, plus a second so the retry lands after it, not on its edge;
            // never past FAR_FUTURE, since the controller adds the delay to an Instant.
            let delay = retry_after
                .map(|d| d.saturating_add(Duration::from_secs(1)))
                .unwrap_or_else(|| self.next_delay(key))
                .min(crate::clock::FAR_FUTURE);
            tracing::info!(error = %error, retry_in = ?delay, "transient failure");
            Action::requeue(delay)
        } else {
            tracing::info!(error = %error, "permanent failure; waiting for a change");
            Action::requeue(verify_interval.min(crate::clock::FAR_FUTURE))
        }
    }

    /// How many objects have failures on record.
    pub fn len(&self) -> usize {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Whether no object has failures on record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets the failures of `key` after a success (or once its object is gone).
    pub fn reset(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// The un-jittered delay after `n` consecutive failures.
fn delay_for(base: Duration, max: Duration, n: u32) -> Duration {
    let factor = 2u32.saturating_pow(n.saturating_sub(1).min(20));
    base.saturating_mul(factor).min(max)
}

/// Spreads retries of many objects so they do not hit Quay together: ±20 %.
fn jittered(delay: Duration, unit: f64) -> Duration {
    let factor = 0.8 + 0.4 * unit.clamp(0.0, 1.0);
    // `mul_f64` panics past Duration::MAX, which a huge configured maximum could reach.
    Duration::try_from_secs_f64(delay.as_secs_f64() * factor).unwrap_or(Duration::MAX)
}

impl crate::per_uid::PerUid for Backoff {
    fn forget(&self, uid: &str) {
        self.reset(uid);
    }

    fn retain_live(&self, live: &dyn Fn(&str) -> bool) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|key, _| live(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::per_uid::PerUid;

    #[test]
    fn delays_double_up_to_the_cap() {
        let base = Duration::from_secs(2);
        let max = Duration::from_secs(300);
        let delays: Vec<u64> = (1..=10)
            .map(|n| delay_for(base, max, n).as_secs())
            .collect();
        assert_eq!(delays, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let d = Duration::from_secs(10);
        assert_eq!(jittered(d, 0.0), Duration::from_secs(8));
        assert_eq!(jittered(d, 1.0), Duration::from_secs(12));
        assert_eq!(jittered(Duration::MAX, 1.0), Duration::MAX);
    }

    #[test]
    fn success_resets_the_count() {
        let b = Backoff::new(Duration::from_secs(2), Duration::from_secs(300));
        b.next_delay("a");
        b.next_delay("a");
        assert!(b.next_delay("a") >= Duration::from_millis(6400));
        b.reset("a");
        assert!(b.next_delay("a") <= Duration::from_millis(2400));
        assert!(
            b.next_delay("other") <= Duration::from_millis(2400),
            "keys are independent"
        );
        b.retain_live(&|key| key == "a");
        assert_eq!(b.len(), 1);
        b.reset("a");
        assert!(b.is_empty());
    }
}
