//! Durations as Kubernetes writes them (`720h`, `90m`, `1h30m`, `45s`): Go's
//! `time.ParseDuration` for the units a token lifetime needs. Pure.

use std::time::Duration;

/// A duration string that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a duration: write a number and a unit (h, m, s), e.g. 720h, 90m or 1h30m")]
pub struct InvalidDuration {
    text: String,
}

/// Parses `text`: one or more `<digits><unit>` parts, units `h`, `m`, `s` (and `ms`, which a
/// lifetime never needs but Go accepts). `0` alone is zero, as in Go.
pub fn parse(text: &str) -> Result<Duration, InvalidDuration> {
    let invalid = || InvalidDuration {
        text: text.chars().take(40).collect(),
    };
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = text;
    let mut total = Duration::ZERO;
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let value: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (Duration::from_millis(1), 2)
        } else if rest.starts_with('h') {
            (Duration::from_secs(3600), 1)
        } else if rest.starts_with('m') {
            (Duration::from_secs(60), 1)
        } else if rest.starts_with('s') {
            (Duration::from_secs(1), 1)
        } else {
            return Err(invalid());
        };
        rest = &rest[len..];
        let part = unit
            .checked_mul(u32::try_from(value).map_err(|_| invalid())?)
            .ok_or_else(invalid)?;
        total = total.checked_add(part).ok_or_else(invalid)?;
    }
    Ok(total)
}

/// The same duration, written the way `kubectl` users read it (`2h30m`, `10m`, `45s`).
pub fn format(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return "0s".to_owned();
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// The regular expression the CRD checks duration fields against, so that the API server
/// refuses a bad one with the field's name; it accepts what [`parse`] accepts.
pub const PATTERN: &str = r"^(0|([0-9]+(ms|h|m|s))+)$";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_style_durations_parse() {
        assert_eq!(parse("720h"), Ok(Duration::from_secs(720 * 3600)));
        assert_eq!(parse("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
        assert_eq!(parse("1500ms"), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn anything_else_is_refused_with_its_text() {
        for bad in ["", "10", "h", "10d", "1.5h", "-5m", "5 m", "10mm"] {
            let err = parse(bad).expect_err(bad);
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for text in ["2h30m", "10m", "45s", "1h0m5s"] {
            let d = parse(text).unwrap();
            assert_eq!(parse(&format(d)), Ok(d));
        }
        assert_eq!(format(Duration::from_secs(9000)), "2h30m");
    }
}
