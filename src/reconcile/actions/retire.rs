//! Revoking the tokens a new one replaced, once the Secret holds their successor and their
//! grace period is over. Network: Quay.

use super::record::same_account;
use crate::context::Context;
use crate::crd::{ApiToken, TokenRecord};
use crate::quay::{ConnectionSettings, Flavour, QuayError};
use crate::reconcile::lifetime;

/// Whether replaced tokens wait for the end of their grace period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grace {
    /// Revoke only those whose grace period is over (the ApiToken stays).
    Honour,
    /// Revoke them all now (the ApiToken goes, or its token goes to a user).
    Ignore,
}

/// The replaced token, when it is one to revoke: minted by us (an id), not assigned, and not
/// kept by `preserveInQuayOnDeletion`.
pub fn to_retire(token: &ApiToken, old: Option<TokenRecord>) -> Option<TokenRecord> {
    old.filter(|o| {
        o.assigned_to.is_none() && o.id.is_some() && !token.spec.preserve_in_quay_on_deletion
    })
}

/// Revokes every replaced token once the Secret holds their successor; returns those that
/// are still to revoke (a passing failure is retried on the next reconcile), and the last
/// such failure.
pub async fn retire_all(
    token: &ApiToken,
    ctx: &Context,
    settings: &ConnectionSettings,
    replaced: Vec<TokenRecord>,
    grace: Grace,
) -> (Vec<TokenRecord>, Option<QuayError>) {
    let now = ctx.clock.now();
    let mut left = Vec::new();
    let mut failure = None;
    for old in replaced {
        if grace == Grace::Honour && !lifetime::grace_over(&old, now) {
            left.push(old);
            continue;
        }
        if let Err(e) = retire(token, ctx, settings, &old).await {
            left.push(old);
            failure = Some(e);
        }
    }
    (left, failure)
}

/// Revokes a replaced token; failures become events, not errors, since the new token is
/// already in place. `Err` when revoking should be tried again later.
async fn retire(
    token: &ApiToken,
    ctx: &Context,
    settings: &ConnectionSettings,
    old: &TokenRecord,
) -> Result<(), QuayError> {
    let Some(id) = old.id.as_deref() else {
        return Ok(());
    };
    let flavour: Option<Flavour> = old.flavour.as_deref().and_then(|f| f.parse().ok());
    let flavour = match flavour {
        Some(flavour) if same_account(&old.host, &old.username, settings) => flavour,
        _ => {
            ctx.events.publish(token, true, "RevokeSkipped", format!(
                "the replaced token {id} belongs to {} on {}, not the current connection; revoke it there by hand", old.username, old.host)).await;
            return Ok(());
        }
    };
    match ctx.quay.revoke(settings, &old.client_id, id, flavour).await {
        Ok(()) => {
            ctx.liveness
                .note(settings, &old.client_id, flavour, id, false)
                .await;
            ctx.metrics.token_revoked();
            ctx.events
                .publish(
                    token,
                    false,
                    "Revoked",
                    format!("revoked the replaced Quay token {id}"),
                )
                .await;
            Ok(())
        }
        Err(e) => {
            let again = e.is_transient();
            let fate = if again {
                "revoking it is retried"
            } else {
                "it stays in Quay"
            };
            ctx.events
                .publish(
                    token,
                    true,
                    "RevokeFailed",
                    format!("the replaced Quay token {id} could not be revoked ({e}); {fate}"),
                )
                .await;
            if again { Err(e) } else { Ok(()) }
        }
    }
}
