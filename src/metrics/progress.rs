//! Whether the reconcilers still get work done, for `/healthz`: a reconcile that never ends (a
//! lock never released, a request never answered) would otherwise leave a replica that holds
//! the Lease, answers its probes and reconciles nothing, until someone notices.
//!
//! Progress is a reconcile of either kind finishing, whatever its result. The replica is
//! stalled when reconciles have been at work for longer than a limit and none finished
//! meanwhile. An idle replica (a standby, or a leader with nothing to do) is never stalled, so
//! the probe does not restart pods for being quiet.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Reconciles at work, and when the last one finished (or the first one started).
#[derive(Debug, Default)]
pub(super) struct Progress {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    at_work: u64,
    /// The last time a reconcile finished, or work began after an idle spell.
    since: Option<Instant>,
}

/// One reconcile at work; dropping it (finished, failed or cancelled) counts as progress.
#[derive(Debug)]
#[must_use = "the reconcile counts as at work until this is dropped"]
pub struct AtWork<'a> {
    progress: &'a Progress,
}

impl Drop for AtWork<'_> {
    fn drop(&mut self) {
        self.progress.finished(Instant::now());
    }
}

impl Progress {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one reconcile at work from `now` until the returned guard is dropped.
    pub(super) fn started(&self, now: Instant) -> AtWork<'_> {
        let mut state = self.state();
        // An idle replica's clock starts with its first work, not with its last finish.
        if state.at_work == 0 {
            state.since = Some(now);
        }
        state.at_work += 1;
        AtWork { progress: self }
    }

    fn finished(&self, now: Instant) {
        let mut state = self.state();
        state.at_work = state.at_work.saturating_sub(1);
        state.since = Some(now);
    }

    /// How long reconciles have been at work with none finishing, when that exceeds `limit`;
    /// `None` while idle or progressing.
    pub(super) fn stalled(&self, now: Instant, limit: Duration) -> Option<Stall> {
        let state = self.state();
        if state.at_work == 0 {
            return None;
        }
        let idle_for = now.saturating_duration_since(state.since?);
        (idle_for > limit).then_some(Stall {
            at_work: state.at_work,
            for_: idle_for,
        })
    }
}

/// Reconciles that have been at work without any finishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall {
    /// How many are at work.
    pub at_work: u64,
    /// How long since a reconcile last finished.
    pub for_: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_secs(600);

    #[test]
    fn an_idle_replica_is_never_stalled() {
        let progress = Progress::default();
        let t0 = Instant::now();
        assert_eq!(progress.stalled(t0 + LIMIT * 10, LIMIT), None);
        drop(progress.started(t0));
        assert_eq!(progress.stalled(t0 + LIMIT * 10, LIMIT), None);
    }

    #[test]
    fn work_that_never_finishes_is_a_stall_after_the_limit() {
        let progress = Progress::default();
        let t0 = Instant::now();
        // Finished long ago: the clock starts with the new work, not with that finish.
        drop(progress.started(t0));
        let later = t0 + LIMIT * 3;
        let _stuck = progress.started(later);
        assert_eq!(progress.stalled(later + LIMIT, LIMIT), None);
        let stall = progress.stalled(later + LIMIT + Duration::from_secs(1), LIMIT);
        assert_eq!(
            stall,
            Some(Stall {
                at_work: 1,
                for_: LIMIT + Duration::from_secs(1)
            })
        );
    }

    #[test]
    fn any_reconcile_finishing_is_progress() {
        let progress = Progress::default();
        let t0 = Instant::now();
        let _stuck = progress.started(t0);
        let other = progress.started(t0 + LIMIT / 2);
        drop(other); // finishes now, with the stuck one still at work
        let checked = Instant::now() + LIMIT - Duration::from_secs(1);
        assert_eq!(progress.stalled(checked, LIMIT), None);
        let stall = progress
            .stalled(Instant::now() + LIMIT * 2, LIMIT)
            .expect("the stuck one alone stalls");
        assert_eq!(stall.at_work, 1);
    }
}
