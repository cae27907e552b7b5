//! The wall clock every lifetime decision reads. In production it is the system clock; tests
//! move it forward together with the Quay emulator's, so a ten-minute lifetime is tested in
//! seconds. A jump wakes every ApiToken, since their timers were set on the old time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
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
    pub fn now(&self) -> DateTime<Utc> {
        let offset = self.offset_ms.load(Ordering::Relaxed);
        Utc::now() + chrono::Duration::milliseconds(i64::try_from(offset).unwrap_or(i64::MAX))
    }

    /// Now as status records it (RFC 3339, whole seconds, `Z`).
    pub fn stamp(&self) -> String {
        self.now()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    /// Moves the clock forward (tests only: production never calls it) and wakes whoever
    /// waits on [`Clock::jumps`].
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let total = self.offset_ms.fetch_add(ms, Ordering::Relaxed) + ms;
        self.jumps.send_replace(total);
    }

    /// Ticks once per jump: the controller reconciles everything again on each.
    pub fn jumps(&self) -> watch::Receiver<u64> {
        self.jumps.subscribe()
    }
}

/// Parses a time that status recorded; `None` for text that is not RFC 3339.
pub fn parse_stamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Formats a time the way status records it.
pub fn stamp_of(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
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
        let moved = clock.now() - before;
        assert!(moved >= chrono::Duration::seconds(3600), "{moved}");
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
}
