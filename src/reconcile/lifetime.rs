//! Token lifetime: when the current token expires, when it is renewed, when a replaced one is
//! revoked, and when to look again. Pure: derived from the spec and the recorded token each
//! time, so restarts and leader changes pick the schedule up from status alone.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::clock::{earlier, later, parse_stamp, stamp_of};
use crate::crd::{ApiTokenSpec, TokenRecord};
use crate::duration;

/// The longest a Quay token lives, and what Quay clamps `expiration` to (protocol §15).
pub const QUAY_MAX: Duration = Duration::from_secs(315_576_000);

/// The lifetime settings of one ApiToken's spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lifetime {
    /// spec.expiration.
    pub expiration: Option<Duration>,
    /// spec.renewBefore.
    pub renew_before: Option<Duration>,
    /// spec.gracePeriod (zero when not set).
    pub grace: Duration,
}

/// A spec duration field that does not parse (the API server checks the pattern, so this is
/// an object stored before the field had one, or written around validation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadField {
    /// The field's name in the spec.
    pub field: &'static str,
    /// Why, in one sentence.
    pub detail: String,
}

impl From<BadField> for crate::error::ReconcileError {
    fn from(bad: BadField) -> Self {
        crate::error::ReconcileError::InvalidLifetime {
            field: bad.field,
            detail: bad.detail,
        }
    }
}

impl Lifetime {
    /// Reads the spec's lifetime fields.
    pub fn of(spec: &ApiTokenSpec) -> Result<Lifetime, BadField> {
        let read = |field: &'static str, text: &Option<String>| {
            text.as_deref()
                .map(duration::parse)
                .transpose()
                .map_err(|e| BadField {
                    field,
                    detail: e.to_string(),
                })
        };
        let lifetime = Lifetime {
            expiration: read("expiration", &spec.expiration)?.map(|d| d.min(QUAY_MAX)),
            renew_before: read("renewBefore", &spec.renew_before)?,
            grace: read("gracePeriod", &spec.grace_period)?.unwrap_or_default(),
        };
        if let Some(before) = lifetime.renew_before
            && before >= lifetime.expiration.unwrap_or(QUAY_MAX)
        {
            return Err(BadField {
                field: "renewBefore",
                detail: "renewBefore must be shorter than expiration".to_owned(),
            });
        }
        Ok(lifetime)
    }

    /// What to ask Quay for: the lifetime in whole seconds, when one is set.
    pub fn quay_expiration(&self) -> Option<u64> {
        self.expiration.map(|d| d.as_secs().max(1))
    }
}

/// When a token ends and when it is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The earlier of Quay's expiry and the end of spec.expiration.
    pub expires_at: Timestamp,
    /// When its replacement is minted.
    pub renew_at: Timestamp,
}

fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

/// The schedule of a recorded token; `None` for one with no mint time (adopted from the
/// earlier operator) or one assigned to a user (theirs, not ours to renew).
pub fn schedule(record: &TokenRecord, lifetime: &Lifetime) -> Option<Schedule> {
    if record.assigned_to.is_some() {
        return None;
    }
    let minted = parse_stamp(record.minted_at.as_deref()?)?;
    let quay_end = record
        .expires_at
        .as_deref()
        .and_then(parse_stamp)
        .unwrap_or(later(minted, QUAY_MAX));
    let expires_at = match lifetime.expiration {
        Some(expiration) => quay_end.min(later(minted, expiration)),
        None => quay_end,
    };
    let life = expires_at.duration_since(minted).max(SignedDuration::ZERO);
    let before = lifetime.renew_before.map(signed).unwrap_or(life / 3);
    let renew_at = earlier(expires_at, before).max(minted);
    Some(Schedule {
        expires_at,
        renew_at,
    })
}

/// Where a schedule stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Nothing to do before the renewal time.
    No,
    /// The renewal time has come: mint the successor (the old one keeps its grace period).
    Renew,
    /// The token's lifetime is over: it is dead in Quay, or past the operator's own limit.
    Expired,
}

/// Whether the token must be renewed at `now`.
pub fn due(schedule: Option<&Schedule>, now: Timestamp) -> Due {
    match schedule {
        Some(s) if now >= s.expires_at => Due::Expired,
        Some(s) if now >= s.renew_at => Due::Renew,
        _ => Due::No,
    }
}

/// When a token replaced at `now` is revoked: `None` for at once (no grace period, or the
/// token is dead anyway); never after its own expiry.
pub fn revoke_at(
    now: Timestamp,
    grace: Duration,
    old: Option<&Schedule>,
    old_is_dead: bool,
) -> Option<String> {
    if grace.is_zero() || old_is_dead {
        return None;
    }
    let end = later(now, grace);
    let end = old.map_or(end, |s| end.min(s.expires_at));
    (end > now).then(|| stamp_of(end))
}

/// Whether a replaced token's grace period is over at `now` (a record with no revoke time,
/// or one that does not parse, is revoked at once).
pub fn grace_over(record: &TokenRecord, now: Timestamp) -> bool {
    record
        .revoke_at
        .as_deref()
        .and_then(parse_stamp)
        .is_none_or(|at| now >= at)
}

/// How long until the next thing to do: the renewal, the end of a grace period, or the next
/// verification, whichever comes first; at least a second.
pub fn next_wake(
    now: Timestamp,
    schedule: Option<&Schedule>,
    replaced: &[TokenRecord],
    verify: Duration,
) -> Duration {
    let mut at: Vec<Timestamp> = replaced
        .iter()
        .filter_map(|r| r.revoke_at.as_deref().and_then(parse_stamp))
        .collect();
    if let Some(s) = schedule {
        at.push(s.renew_at);
        at.push(s.expires_at);
    }
    let soonest = at
        .into_iter()
        .filter(|t| *t > now)
        .map(|t| Duration::try_from(t.duration_since(now)).unwrap_or(Duration::ZERO))
        .min()
        .unwrap_or(verify);
    soonest.min(verify).max(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_stamp;

    fn at(text: &str) -> Timestamp {
        parse_stamp(text).unwrap()
    }

    fn minted(when: &str, quay_expiry: Option<&str>) -> TokenRecord {
        TokenRecord {
            id: Some("t".into()),
            minted_at: Some(when.into()),
            expires_at: quay_expiry.map(str::to_owned),
            ..Default::default()
        }
    }

    fn life(expiration: Option<u64>, before: Option<u64>, grace: u64) -> Lifetime {
        Lifetime {
            expiration: expiration.map(Duration::from_secs),
            renew_before: before.map(Duration::from_secs),
            grace: Duration::from_secs(grace),
        }
    }

    #[test]
    fn a_ten_minute_token_renewed_five_minutes_before() {
        let r = minted("2026-01-01T00:00:00Z", Some("2026-01-01T00:10:00Z"));
        let s = schedule(&r, &life(Some(600), Some(300), 0)).unwrap();
        assert_eq!(s.expires_at, at("2026-01-01T00:10:00Z"));
        assert_eq!(s.renew_at, at("2026-01-01T00:05:00Z"));
        assert_eq!(due(Some(&s), at("2026-01-01T00:04:59Z")), Due::No);
        assert_eq!(due(Some(&s), at("2026-01-01T00:05:00Z")), Due::Renew);
        assert_eq!(due(Some(&s), at("2026-01-01T00:10:00Z")), Due::Expired);
    }

    #[test]
    fn renewal_defaults_to_a_third_of_the_lifetime_before_expiry() {
        let r = minted("2026-01-01T00:00:00Z", None);
        let s = schedule(&r, &life(Some(900), None, 0)).unwrap();
        assert_eq!(s.expires_at, at("2026-01-01T00:15:00Z"));
        assert_eq!(s.renew_at, at("2026-01-01T00:10:00Z"));
    }

    #[test]
    fn the_operator_enforces_the_lifetime_where_quay_gives_ten_years() {
        // Web flow: Quay's token lives ten years; spec.expiration is shorter and wins.
        let r = minted("2026-01-01T00:00:00Z", Some("2036-01-01T06:00:00Z"));
        let s = schedule(&r, &life(Some(3600), None, 0)).unwrap();
        assert_eq!(s.expires_at, at("2026-01-01T01:00:00Z"));
        // Without expiration, Quay's own expiry is the end, renewed a third before it.
        let s = schedule(&r, &life(None, None, 0)).unwrap();
        assert_eq!(s.expires_at, at("2036-01-01T06:00:00Z"));
        assert!(s.renew_at < at("2033-01-01T00:00:00Z"));
        assert!(s.renew_at > at("2032-01-01T00:00:00Z"));
    }

    #[test]
    fn tokens_without_a_mint_time_or_assigned_have_no_schedule() {
        let adopted = TokenRecord::default();
        assert!(schedule(&adopted, &Lifetime::default()).is_none());
        let mut assigned = minted("2026-01-01T00:00:00Z", None);
        assigned.assigned_to = Some("someone".into());
        assert!(schedule(&assigned, &Lifetime::default()).is_none());
    }

    #[test]
    fn a_grace_period_never_outlives_the_old_token() {
        let now = at("2026-01-01T00:05:00Z");
        let r = minted("2026-01-01T00:00:00Z", Some("2026-01-01T00:06:00Z"));
        let s = schedule(&r, &life(None, None, 0)).unwrap();
        assert_eq!(
            revoke_at(now, Duration::from_secs(120), Some(&s), false).as_deref(),
            Some("2026-01-01T00:06:00Z")
        );
        assert_eq!(
            revoke_at(now, Duration::from_secs(30), Some(&s), false).as_deref(),
            Some("2026-01-01T00:05:30Z")
        );
        assert_eq!(revoke_at(now, Duration::ZERO, Some(&s), false), None);
        assert_eq!(
            revoke_at(now, Duration::from_secs(120), Some(&s), true),
            None,
            "a dead token is revoked (its record dropped) at once"
        );
    }

    #[test]
    fn the_next_wake_is_the_soonest_of_renewal_grace_end_and_verification() {
        let now = at("2026-01-01T00:00:00Z");
        let r = minted("2026-01-01T00:00:00Z", Some("2026-01-01T00:10:00Z"));
        let s = schedule(&r, &life(None, Some(300), 0)).unwrap();
        let verify = Duration::from_secs(3600);
        assert_eq!(
            next_wake(now, Some(&s), &[], verify),
            Duration::from_secs(300)
        );
        let mut old = minted("2025-12-31T00:00:00Z", None);
        old.revoke_at = Some("2026-01-01T00:02:00Z".into());
        assert_eq!(
            next_wake(now, Some(&s), &[old], verify),
            Duration::from_secs(120)
        );
        assert_eq!(
            next_wake(now, None, &[], Duration::from_secs(60)),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn grace_is_over_at_its_time_or_without_one() {
        let mut old = minted("2026-01-01T00:00:00Z", None);
        assert!(grace_over(&old, at("2026-01-01T00:00:00Z")));
        old.revoke_at = Some("2026-01-01T00:02:00Z".into());
        assert!(!grace_over(&old, at("2026-01-01T00:01:59Z")));
        assert!(grace_over(&old, at("2026-01-01T00:02:00Z")));
    }

    #[test]
    fn bad_or_contradictory_durations_name_their_field() {
        let mut spec: ApiTokenSpec = serde_json::from_value(serde_json::json!({
            "connSecretRef": {"name": "c"}, "clientId": "x",
            "expiration": "10m", "renewBefore": "10m"
        }))
        .unwrap();
        assert_eq!(Lifetime::of(&spec).unwrap_err().field, "renewBefore");
        spec.renew_before = None;
        spec.grace_period = Some("2 minutes".into());
        let err = Lifetime::of(&spec).unwrap_err();
        assert_eq!(err.field, "gracePeriod");
        assert!(err.detail.contains("2 minutes"), "{}", err.detail);
        spec.grace_period = Some("2m".into());
        assert_eq!(Lifetime::of(&spec).unwrap(), life(Some(600), None, 120));
    }
}
