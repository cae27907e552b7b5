//! Trying an idempotent Quay request again inside one reconcile, and remembering hosts that
//! stopped answering: the policy, and the one loop that every request path retries through.

use std::future::Future;
use std::time::{Duration, Instant};

use super::error::QuayError;
use super::transport::Reply;
use crate::clock::deadline_after;

/// Attempts of one idempotent request in all, the first included.
pub(crate) const ATTEMPTS: u32 = 3;

/// Whether a request may be sent again when its outcome is unknown: reads and revocations
/// (a second DELETE answers 404, which counts as done). Never a mint.
pub(crate) fn is_idempotent(endpoint: &str) -> bool {
    endpoint.starts_with("GET ") || endpoint.starts_with("DELETE ")
}

/// Whether an answer is a passing failure worth one more try.
pub(crate) fn is_passing_status(status: u16) -> bool {
    matches!(status, 500 | 502 | 503 | 504)
}

/// The pause before attempt `attempt` (1 = the first retry): short, growing, jittered, so that
/// many reconciles that failed together do not retry together.
pub(crate) fn pause(attempt: u32, jitter: f64) -> Duration {
    let base_ms = 100u64 << attempt.min(4);
    let jitter = jitter.clamp(0.0, 1.0);
    Duration::from_millis(base_ms + (base_ms as f64 * jitter) as u64)
}

/// Sends a request through `once` until it passes: a read or revocation that meets a passing
/// failure (5xx, no answer) is sent again after a short pause, up to [`ATTEMPTS`] in all; any
/// other request (a mint above all, whose outcome is then unknown) is sent once.
pub(crate) async fn repeat<F, Fut>(endpoint: &'static str, mut once: F) -> Result<Reply, QuayError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Reply, QuayError>>,
{
    let attempts = if is_idempotent(endpoint) { ATTEMPTS } else { 1 };
    let mut attempt = 1;
    loop {
        let result = once().await;
        let passing = match &result {
            Ok(reply) => is_passing_status(reply.status),
            Err(QuayError::Timeout { .. } | QuayError::Unreachable { .. }) => true,
            Err(_) => false,
        };
        if !passing || attempt >= attempts {
            return result;
        }
        let pause = pause(attempt, rand::random::<f64>());
        tracing::debug!(
            endpoint,
            attempt,
            ?pause,
            "passing Quay failure; trying again"
        );
        tokio::time::sleep(pause).await;
        attempt += 1;
    }
}

/// Consecutive failures to reach a host before it is taken for down.
const DOWN_AFTER: u32 = 3;
/// The longest a down host is left alone before the next probe.
const MAX_QUIET: Duration = Duration::from_secs(30);
/// How long a host just taken for down is left alone before the first probe.
pub(crate) const FIRST_QUIET: Duration = Duration::from_secs(1);

/// What the transport remembers of one host.
#[derive(Debug, Clone)]
pub(crate) struct HostHealth {
    /// The quiet time after the third failure; it doubles with each failed probe.
    first_quiet: Duration,
    failures: u32,
    quiet_until: Option<Instant>,
    /// Why the last request got no answer; a request that fails fast reports the same, so
    /// that status and events do not change while nothing new is learnt.
    last_failure: Option<String>,
}

impl HostHealth {
    /// A host not known to be down, first left alone for `first_quiet` once it is.
    pub(crate) fn new(first_quiet: Duration) -> Self {
        Self {
            first_quiet,
            failures: 0,
            quiet_until: None,
            last_failure: None,
        }
    }

    /// `Some(why)` when the host is down and this request should fail at once (with the last
    /// failure's words); otherwise the request goes ahead (as the probe, when the quiet time
    /// is over).
    pub(crate) fn admit(&mut self, now: Instant) -> Option<String> {
        match self.quiet_until {
            Some(until) if now < until => Some(self.last_failure.clone().unwrap_or_default()),
            Some(_) => {
                // Let this one probe; the others keep failing fast until it answers.
                self.quiet_until = Some(deadline_after(now, self.quiet_for()));
                None
            }
            None => None,
        }
    }

    /// Records an answer (any status: the host is there).
    pub(crate) fn answered(&mut self) {
        *self = Self::new(self.first_quiet);
    }

    /// Records a request that got no answer (refused, reset, timed out).
    pub(crate) fn unanswered(&mut self, now: Instant, why: String) {
        self.failures = self.failures.saturating_add(1);
        self.last_failure = Some(why);
        if self.failures >= DOWN_AFTER {
            self.quiet_until = Some(deadline_after(now, self.quiet_for()));
        }
    }

    fn quiet_for(&self) -> Duration {
        let steps = self.failures.saturating_sub(DOWN_AFTER).min(5);
        self.first_quiet
            .saturating_mul(1u32 << steps)
            .min(MAX_QUIET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reads_and_revocations_are_retried() {
        assert!(is_idempotent("GET /api/v1/user/authorizations"));
        assert!(is_idempotent("DELETE /api/v1/user/authorizations/{uuid}"));
        assert!(!is_idempotent("POST /oauth/authorizeapp"));
        assert!(!is_idempotent(
            "POST /api/v1/organization/{org}/applications/{client_id}/tokens"
        ));
    }

    #[test]
    fn pauses_grow_and_stay_short() {
        assert!(pause(1, 0.0) < pause(2, 0.0));
        assert!(pause(2, 1.0) <= Duration::from_millis(800));
        assert!(pause(1, 0.5) > pause(1, 0.0));
    }

    #[test]
    fn a_host_is_down_after_three_unanswered_requests_until_a_probe_answers() {
        let start = Instant::now();
        let mut host = HostHealth::new(FIRST_QUIET);
        host.unanswered(start, "refused".into());
        host.unanswered(start, "refused".into());
        assert_eq!(
            host.admit(start),
            None,
            "two losses are bad luck, not a dead host"
        );
        host.unanswered(start, "refused".into());
        assert_eq!(
            host.admit(start).as_deref(),
            Some("refused"),
            "three in a row: fail fast, in the same words"
        );
        let later = start + Duration::from_secs(2);
        assert_eq!(
            host.admit(later),
            None,
            "after the quiet time, one probe goes"
        );
        assert!(host.admit(later).is_some(), "the others wait for the probe");
        host.answered();
        assert_eq!(host.admit(later), None);
    }

    #[test]
    fn the_quiet_time_is_bounded() {
        let start = Instant::now();
        let mut host = HostHealth::new(FIRST_QUIET);
        for _ in 0..50 {
            host.unanswered(start, "refused".into());
        }
        assert!(host.admit(start).is_some());
        assert!(
            host.quiet_until
                .is_some_and(|until| until - start <= MAX_QUIET)
        );
    }
}
