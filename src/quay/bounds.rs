//! Limits on what a Quay host may send: reply sizes, waits and lifetimes. Every `host` is
//! written by a tenant and may be a server that tenant runs, so nothing it answers may make
//! the operator wait for ever, hold unbounded memory or overflow its time arithmetic. Pure.

use std::time::Duration;

use jiff::Timestamp;

use crate::clock::{later, parse_stamp};

/// The largest reply body read, in bytes. Quay's largest answer is its discovery document
/// (about 150 KB); an authorization or token list of a busy account stays far below this.
pub(crate) const BODY_MAX: usize = 4 * 1024 * 1024;

/// The longest `Retry-After` honoured. Quay's login back-off grows to minutes, never hours;
/// a longer value only stalls the ApiToken (and, unclamped, overflows time arithmetic), and
/// an hour later the operator simply asks again and gets the remaining time.
pub(crate) const RETRY_AFTER_MAX: Duration = Duration::from_secs(3600);

/// The longest token lifetime a reply may state: Quay's own maximum, ten years (protocol §15).
pub(crate) const LIFETIME_MAX: Duration = Duration::from_secs(315_576_000);

/// The longest expiry text kept from a reply; RFC 3339 with microseconds and an offset is 32.
const STAMP_MAX: usize = 64;

/// The wait a `Retry-After` header asks for, plus a second (Quay truncates the remaining
/// time, so its "0" can still be too early), held at [`RETRY_AFTER_MAX`]. A missing or
/// unreadable header (an HTTP date, which Quay never sends) waits the minimum; digits beyond
/// `u64` wait the maximum.
pub(crate) fn retry_after(header: Option<&str>) -> Duration {
    let seconds = match header.map(str::trim) {
        Some(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse::<u64>().unwrap_or(u64::MAX)
        }
        _ => 0,
    };
    Duration::from_secs(seconds.saturating_add(1)).min(RETRY_AFTER_MAX)
}

/// A lifetime in seconds as a reply states it (`expires_in`), held at [`LIFETIME_MAX`].
pub(crate) fn lifetime_secs(seconds: u64) -> u64 {
    seconds.min(LIFETIME_MAX.as_secs())
}

/// An expiry time as a reply states it: `None` when it is not RFC 3339 (the token then
/// counts as living Quay's longest, as for a reply without one); Quay's own text when it
/// lies between the start of time and ten years after `now`; else that limit, written as
/// status writes times.
pub(crate) fn expiry(text: &str, now: Timestamp) -> Option<String> {
    if text.len() > STAMP_MAX {
        return None;
    }
    let at = parse_stamp(text)?;
    let latest = later(now, LIFETIME_MAX);
    if at > latest {
        return Some(crate::clock::stamp_of(latest));
    }
    if at < Timestamp::UNIX_EPOCH {
        return Some(crate::clock::stamp_of(Timestamp::UNIX_EPOCH));
    }
    Some(text.to_owned())
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_held_to_an_hour() {
        assert_eq!(retry_after(Some("4")), Duration::from_secs(5));
        assert_eq!(retry_after(Some(" 0 ")), Duration::from_secs(1));
        assert_eq!(retry_after(None), Duration::from_secs(1));
        assert_eq!(retry_after(Some("soon")), Duration::from_secs(1));
        assert_eq!(retry_after(Some("-5")), Duration::from_secs(1));
        for huge in [
            "18446744073709551614",
            "18446744073709551615",
            "99999999999999999999999999",
        ] {
            assert_eq!(retry_after(Some(huge)), RETRY_AFTER_MAX, "{huge}");
        }
    }

    #[test]
    fn expiries_are_held_within_ten_years() {
        let now = parse_stamp("2026-01-01T00:00:00Z").expect("RFC 3339");
        let quay = "2026-01-01T00:10:00.553046Z";
        assert_eq!(expiry(quay, now).as_deref(), Some(quay));
        let ten_years = crate::clock::stamp_of(later(now, LIFETIME_MAX));
        assert_eq!(ten_years, "2036-01-01T12:00:00Z");
        assert_eq!(
            expiry("9000-01-01T00:00:00Z", now).as_deref(),
            Some(ten_years.as_str())
        );
        assert_eq!(
            expiry("0001-01-01T00:00:00Z", now).as_deref(),
            Some("1970-01-01T00:00:00Z")
        );
        assert_eq!(expiry("tomorrow", now), None);
        assert_eq!(expiry(&"9".repeat(1000), now), None);
        assert_eq!(lifetime_secs(u64::MAX), LIFETIME_MAX.as_secs());
        assert_eq!(lifetime_secs(600), 600);
    }
}
