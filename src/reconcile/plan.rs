//! The decision: keep, adopt, mint or assign. Pure: every fact comes in as a plain value.

use super::lifetime::Due;
use super::secret::Ownership;
use crate::crd::TokenRecord;
use sha2::{Digest, Sha256};

/// Why a new token is minted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MintReason {
    /// This ApiToken has no token yet.
    First,
    /// Host, username, client ID, rights or forUser changed.
    InputsChanged,
    /// The result Secret was deleted.
    SecretMissing,
    /// The result Secret's token no longer matches what was minted.
    SecretEdited,
    /// Quay no longer holds the token (revoked or expired).
    Revoked,
    /// The rotate annotation has a new value.
    Rotation,
    /// Our result Secret holds a token that no status records (the record was lost).
    Unrecorded,
    /// The renewal time of the token's lifetime has come.
    Renewal,
    /// The token's lifetime is over (Quay's expiry, or spec.expiration on older Quay).
    Expired,
}

impl MintReason {
    /// Words for events and logs.
    pub fn describe(self) -> &'static str {
        match self {
            MintReason::First => "first token",
            MintReason::InputsChanged => "the inputs changed",
            MintReason::SecretMissing => "the result Secret was deleted",
            MintReason::SecretEdited => "the result Secret's token was edited",
            MintReason::Revoked => "the token is no longer live in Quay",
            MintReason::Rotation => "the rotate annotation changed",
            MintReason::Unrecorded => "the result Secret holds a token that no status records",
            MintReason::Renewal => "its renewal time came",
            MintReason::Expired => "its lifetime is over",
        }
    }

    /// Whether the token being replaced is dead already (no grace period for it).
    pub fn old_is_dead(self) -> bool {
        matches!(self, MintReason::Revoked | MintReason::Expired)
    }
}

/// What to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// The token is fine; only make sure the Secret is complete.
    Keep,
    /// Take over the earlier operator's token without minting.
    Adopt,
    /// Mint a (replacement) token.
    Mint(MintReason),
    /// Assign a token to `forUser`.
    Assign,
    /// Refuse: the result Secret is someone else's.
    Conflict(String),
}

/// Everything the decision depends on.
#[derive(Debug)]
pub struct Facts<'a> {
    /// Hash of the current inputs (see [`input_hash`]).
    pub input_hash: &'a str,
    /// Whether spec.forUser is set.
    pub for_user: bool,
    /// The token recorded in status.
    pub record: Option<&'a TokenRecord>,
    /// Whose the result Secret is.
    pub ownership: &'a Ownership,
    /// Hash of the token the result Secret holds, if any.
    pub secret_token_hash: Option<&'a str>,
    /// The rotate annotation's value, and the value the current token answers.
    pub rotate_wanted: Option<&'a str>,
    pub rotate_done: Option<&'a str>,
    /// Whether Quay still holds the token; None when unknown or not checked.
    pub live: Option<bool>,
    /// Where the token's lifetime stands.
    pub due: Due,
}

/// Decides what should happen.
pub fn decide(f: &Facts) -> Plan {
    if let Ownership::Foreign(why) = f.ownership {
        return Plan::Conflict(why.clone());
    }
    let rotation_pending = f.rotate_wanted.is_some() && f.rotate_wanted != f.rotate_done;
    if f.for_user {
        return match f.record {
            Some(r)
                if r.assigned_to.is_some() && r.input_hash == f.input_hash && !rotation_pending =>
            {
                Plan::Keep
            }
            _ => Plan::Assign,
        };
    }
    let Some(record) = f.record.filter(|r| r.assigned_to.is_none()) else {
        // No token recorded: the earlier operator's Secret is taken over rather than replaced,
        // so that nothing mounted breaks. One of ours never is: we record a token before the
        // Secret holds it, so an unrecorded token in our Secret is one we failed to record and
        // must not vouch for; a fresh one replaces it.
        return match (f.ownership, f.secret_token_hash) {
            (Ownership::Legacy, Some(_)) => Plan::Adopt,
            (Ownership::Ours, Some(_)) => Plan::Mint(MintReason::Unrecorded),
            _ => Plan::Mint(MintReason::First),
        };
    };
    if record.input_hash != f.input_hash {
        Plan::Mint(MintReason::InputsChanged)
    } else if rotation_pending {
        Plan::Mint(MintReason::Rotation)
    } else if f.live == Some(false) {
        Plan::Mint(MintReason::Revoked)
    } else if f.due == Due::Expired {
        Plan::Mint(MintReason::Expired)
    } else if matches!(f.ownership, Ownership::Absent) || f.secret_token_hash.is_none() {
        Plan::Mint(MintReason::SecretMissing)
    } else if f.secret_token_hash != record.token_hash.as_deref() {
        Plan::Mint(MintReason::SecretEdited)
    } else if f.due == Due::Renew {
        Plan::Mint(MintReason::Renewal)
    } else {
        Plan::Keep
    }
}

/// Hash of what a token depends on: host, username, client ID, scopes and forUser.
pub fn input_hash(
    host: &str,
    username: &str,
    client_id: &str,
    scopes: &[&str],
    for_user: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    for part in [
        host,
        username,
        client_id,
        &scopes.join(" "),
        for_user.unwrap_or(""),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(hash: &str, token_hash: &str) -> TokenRecord {
        TokenRecord {
            id: Some("id".into()),
            input_hash: hash.into(),
            token_hash: Some(token_hash.into()),
            ..Default::default()
        }
    }

    fn facts<'a>(
        record: Option<&'a TokenRecord>,
        ownership: &'a Ownership,
        secret: Option<&'a str>,
    ) -> Facts<'a> {
        Facts {
            input_hash: "h1",
            for_user: false,
            record,
            ownership,
            secret_token_hash: secret,
            rotate_wanted: None,
            rotate_done: None,
            live: Some(true),
            due: Due::No,
        }
    }

    #[test]
    fn a_recorded_live_token_in_its_secret_is_kept() {
        let r = record("h1", "t1");
        assert_eq!(
            decide(&facts(Some(&r), &Ownership::Ours, Some("t1"))),
            Plan::Keep
        );
    }

    #[test]
    fn the_first_reconcile_mints() {
        assert_eq!(
            decide(&facts(None, &Ownership::Absent, None)),
            Plan::Mint(MintReason::First)
        );
    }

    #[test]
    fn each_reason_to_mint_is_detected() {
        let r = record("h1", "t1");
        let changed = record("h0", "t1");
        assert_eq!(
            decide(&facts(Some(&changed), &Ownership::Ours, Some("t1"))),
            Plan::Mint(MintReason::InputsChanged)
        );
        assert_eq!(
            decide(&facts(Some(&r), &Ownership::Absent, None)),
            Plan::Mint(MintReason::SecretMissing)
        );
        assert_eq!(
            decide(&facts(Some(&r), &Ownership::Ours, Some("t2"))),
            Plan::Mint(MintReason::SecretEdited)
        );
        assert_eq!(
            decide(&facts(Some(&r), &Ownership::Ours, None)),
            Plan::Mint(MintReason::SecretMissing)
        );
        let mut dead = facts(Some(&r), &Ownership::Ours, Some("t1"));
        dead.live = Some(false);
        assert_eq!(decide(&dead), Plan::Mint(MintReason::Revoked));
        let mut unknown = facts(Some(&r), &Ownership::Ours, Some("t1"));
        unknown.live = None;
        assert_eq!(
            decide(&unknown),
            Plan::Keep,
            "an unknown liveness never mints"
        );
    }

    #[test]
    fn the_lifetime_renews_and_replaces_an_expired_token() {
        let r = record("h1", "t1");
        let mut f = facts(Some(&r), &Ownership::Ours, Some("t1"));
        f.due = Due::Renew;
        assert_eq!(decide(&f), Plan::Mint(MintReason::Renewal));
        assert!(
            !MintReason::Renewal.old_is_dead(),
            "a renewed token keeps its grace"
        );
        f.due = Due::Expired;
        assert_eq!(decide(&f), Plan::Mint(MintReason::Expired));
        assert!(MintReason::Expired.old_is_dead());
        // Quay's word comes first: a revoked token is replaced as revoked.
        f.live = Some(false);
        assert_eq!(decide(&f), Plan::Mint(MintReason::Revoked));
    }

    #[test]
    fn rotation_mints_once_per_value() {
        let r = record("h1", "t1");
        let mut f = facts(Some(&r), &Ownership::Ours, Some("t1"));
        f.rotate_wanted = Some("1");
        assert_eq!(decide(&f), Plan::Mint(MintReason::Rotation));
        f.rotate_done = Some("1");
        assert_eq!(decide(&f), Plan::Keep);
    }

    #[test]
    fn someone_elses_secret_is_a_conflict() {
        let foreign = Ownership::Foreign("not ours".into());
        assert_eq!(
            decide(&facts(None, &foreign, Some("x"))),
            Plan::Conflict("not ours".into())
        );
    }

    #[test]
    fn a_token_without_record_is_adopted_not_replaced() {
        assert_eq!(
            decide(&facts(None, &Ownership::Legacy, Some("t"))),
            Plan::Adopt
        );
        assert_eq!(
            decide(&facts(None, &Ownership::Ours, Some("t"))),
            Plan::Mint(MintReason::Unrecorded),
            "a Secret of ours is never adopted"
        );
        assert_eq!(
            decide(&facts(None, &Ownership::Legacy, None)),
            Plan::Mint(MintReason::First)
        );
    }

    #[test]
    fn for_user_assigns_once_per_input() {
        let mut r = record("h1", "t1");
        r.assigned_to = Some("dwilde".into());
        let mut f = facts(Some(&r), &Ownership::Ours, None);
        f.for_user = true;
        assert_eq!(decide(&f), Plan::Keep);
        f.input_hash = "h2";
        assert_eq!(decide(&f), Plan::Assign);
    }

    #[test]
    fn input_hash_separates_fields_and_notices_each_change() {
        let base = input_hash("h", "u", "c", &["repo:read"], None);
        assert_ne!(
            base,
            input_hash("h", "u", "c", &["repo:read", "org:admin"], None)
        );
        assert_ne!(base, input_hash("h", "u2", "c", &["repo:read"], None));
        assert_ne!(base, input_hash("h", "u", "c", &["repo:read"], Some("x")));
        assert_ne!(
            input_hash("ab", "c", "", &[], None),
            input_hash("a", "bc", "", &[], None)
        );
        assert_eq!(base, input_hash("h", "u", "c", &["repo:read"], None));
    }
}
