//! The wall clock every lifetime decision reads. In production it is the system clock; tests
//! move it forward together with the Quay emulator's, so a ten-minute lifetime is tested in
//! seconds. A jump wakes every ApiToken, since their timers were set on the old time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::watch;

/// The system clock plus an offset that only tests move.
#[derive(Debug)]
pub struct Clock {
    offset_ms: AtomicU64,
    jumps: watch::Sender<u64>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self {
            offset_ms: AtomicU64::new(0),
            jumps: watch::channel(0).0,
        }
    }

    /// Now, as the operator reasons about lifetimes.
    pub fn now(&self) -> Timestamp {
        let offset = self.offset_ms.load(Ordering::Relaxed);
        later(Timestamp::now(), Duration::from_millis(offset))
    }

    /// Now as status records it (RFC 3339, whole seconds, `Z`).
    pub fn stamp(&self) -> String {
        stamp_of(self.now())
    }

    /// Moves the clock forward (tests only: production never calls it) and wakes whoever
    /// waits on [`Clock::jumps`].
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let add = |offset: u64| Some(offset.saturating_add(ms));
        // The closure never refuses, so both arms carry the offset before the update.
        let before = match self
            .offset_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, add)
        {
            Ok(before) | Err(before) => before,
        };
        self.jumps.send_replace(before.saturating_add(ms));
    }

    /// Ticks once per jump: the controller reconciles everything again on each.
    pub fn jumps(&self) -> watch::Receiver<u64> {
        self.jumps.subscribe()
    }
}

/// Parses a time that status recorded; `None` for text that is not RFC 3339.
pub fn parse_stamp(text: &str) -> Option<Timestamp> {
    text.parse().ok()
}

/// Formats a time the way status records it: RFC 3339 in UTC, fractions of a second dropped
/// (not rounded), e.g. `2026-12-02T04:12:42Z`, the text status has always held.
pub fn stamp_of(t: Timestamp) -> String {
    // Precision 0 truncates the fraction; without it a time off the whole second would
    // print its nanoseconds.
    format!("{t:.0}")
}

/// `t` plus `d`, held at the last representable time instead of overflowing: a lifetime read
/// from status or from Quay must never panic the operator.
pub fn later(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

/// `t` minus `d`, held at the first representable time instead of overflowing (an expiry
/// that a server wrote near the start of time must not panic a renewal schedule).
pub fn earlier(t: Timestamp, d: jiff::SignedDuration) -> Timestamp {
    t.checked_sub(d).unwrap_or(if d.is_negative() {
        Timestamp::MAX
    } else {
        Timestamp::MIN
    })
}

/// The longest wait an [`Instant`] deadline is set to: far beyond any real schedule, and far
/// below what the platform's monotonic clock can hold, so that adding it never overflows.
pub const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `now` plus `d` for a deadline, with `d` held at [`FAR_FUTURE`]: `Instant + Duration`
/// panics on overflow, and some waits come from values a server sent.
pub fn deadline_after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d.min(FAR_FUTURE)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_and_signals_a_jump() {
        let clock = Clock::system();
        let mut jumps = clock.jumps();
        let before = clock.now();
        clock.advance(Duration::from_secs(3600));
        let moved = clock.now().duration_since(before);
        assert!(moved >= jiff::SignedDuration::from_secs(3600), "{moved:?}");
        assert!(jumps.has_changed().unwrap_or(false));
        assert_eq!(*jumps.borrow_and_update(), 3_600_000);
    }

    #[test]
    fn stamps_round_trip() {
        let clock = Clock::system();
        let stamp = clock.stamp();
        let parsed = parse_stamp(&stamp).expect("RFC 3339");
        assert_eq!(stamp_of(parsed), stamp);
        assert!(parse_stamp("yesterday").is_none());
        // Quay's own form, with microseconds.
        assert!(parse_stamp("2036-11-29T07:11:43.553046Z").is_some());
    }

    /// Status keeps the text it always had: whole seconds, `Z`, the fraction cut off rather
    /// than rounded up (what the earlier `SecondsFormat::Secs` wrote).
    #[test]
    fn stamps_are_whole_seconds_in_utc() {
        let at = |text: &str| stamp_of(parse_stamp(text).expect("RFC 3339"));
        assert_eq!(at("2026-12-02T04:12:42Z"), "2026-12-02T04:12:42Z");
        assert_eq!(at("2026-12-02T04:12:42.999999Z"), "2026-12-02T04:12:42Z");
        assert_eq!(at("2026-12-02T06:12:42.5+02:00"), "2026-12-02T04:12:42Z");
        assert_eq!(at("2036-11-29T07:11:43.553046Z"), "2036-11-29T07:11:43Z");
        assert_eq!(stamp_of(Timestamp::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let stamp = Clock::system().stamp();
        assert_eq!(stamp.len(), "2026-12-02T04:12:42Z".len(), "{stamp}");
        assert!(stamp.ends_with('Z'), "{stamp}");
    }

    #[test]
    fn deadlines_never_overflow() {
        let now = Instant::now();
        let far = deadline_after(now, Duration::MAX);
        assert_eq!(far, deadline_after(now, FAR_FUTURE));
        assert!(far > now);
        assert_eq!(
            deadline_after(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
    }

    #[test]
    fn subtracting_before_the_start_of_time_saturates() {
        let week = jiff::SignedDuration::from_hours(24 * 7);
        assert_eq!(earlier(Timestamp::MIN, week), Timestamp::MIN);
        assert_eq!(earlier(Timestamp::MAX, -week), Timestamp::MAX);
        assert_eq!(
            earlier(parse_stamp("1970-01-08T00:00:00Z").expect("RFC 3339"), week),
            Timestamp::UNIX_EPOCH
        );
    }

    #[test]
    fn advancing_by_a_huge_amount_saturates() {
        let clock = Clock::system();
        clock.advance(Duration::MAX);
        clock.advance(Duration::from_secs(1));
        assert_eq!(*clock.jumps().borrow(), u64::MAX);
    }

    #[test]
    fn adding_past_the_end_of_time_saturates() {
        let max = Timestamp::MAX;
        assert_eq!(later(max, Duration::from_secs(1)), max);
        assert_eq!(
            later(Timestamp::UNIX_EPOCH, Duration::from_secs(60)),
            parse_stamp("1970-01-01T00:01:00Z").expect("RFC 3339")
        );
    }
}
