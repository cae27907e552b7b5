//! The emulator's clock (the wall clock plus an offset tests move forward) and formatting of
//! Unix seconds as ISO 8601 and HTTP dates, without a date crate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch by the wall clock, with sub-second precision.
fn wall_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// One emulator's notion of now. Every instance has its own, so that tests running many
/// emulators in one process can age one instance's tokens without touching the others.
#[derive(Debug, Default, Clone, Copy)]
pub struct Clock {
    offset: Duration,
}

impl Clock {
    /// Unix seconds, with sub-second precision.
    pub fn now(&self) -> f64 {
        wall_now() + self.offset.as_secs_f64()
    }

    /// Moves the clock forward; it never goes back, as Quay's database clock does not.
    pub fn advance(&mut self, by: Duration) {
        self.offset = self.offset.saturating_add(by);
    }

    /// How far ahead of the wall clock the clock runs.
    pub fn offset(&self) -> Duration {
        self.offset
    }
}

/// Converts days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Formats Unix seconds as Quay does in its token API (`datetime.isoformat() + "Z"`):
/// `2036-11-29T07:11:43.553046Z`, without the fraction when it is zero, as Python does.
pub fn iso8601(ts: f64) -> String {
    let micros_total = (ts * 1_000_000.0).round() as i64;
    let secs = micros_total.div_euclid(1_000_000);
    let micros = micros_total.rem_euclid(1_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let fraction = if micros == 0 {
        String::new()
    } else {
        format!(".{micros:06}")
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{fraction}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

/// Formats Unix seconds as an RFC 7231 date for `Expires`: `Wed, 30 Dec 2026 19:11:37 GMT`.
pub fn http_date(ts: f64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ts.floor() as i64;
    let days = secs.div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let sod = secs.rem_euclid(86_400);
    format!(
        "{}, {d:02} {} {y} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        // 2026-11-29T19:11:37Z, the capture's sign-in time.
        let ts = 1_795_979_497.0;
        assert_eq!(http_date(ts), "Sun, 29 Nov 2026 19:11:37 GMT");
        assert_eq!(iso8601(ts + 0.5), "2026-11-29T19:11:37.500000Z");
        assert_eq!(iso8601(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(ts + 0.000_001), "2026-11-29T19:11:37.000001Z");
        assert_eq!(http_date(951_782_400.0), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn the_clock_runs_ahead_by_what_it_was_advanced() {
        let mut clock = Clock::default();
        clock.advance(Duration::from_secs(10));
        let before = clock.now();
        clock.advance(Duration::from_secs(600));
        assert_eq!(clock.offset(), Duration::from_secs(610));
        let moved = clock.now() - before;
        assert!(moved >= 600.0, "moved {moved}");
        assert!(Clock::default().now() < clock.now() - 600.0);
    }
}
