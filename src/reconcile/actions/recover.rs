//! Recovering a mint that was started and never recorded (a crash, or a timeout while Quay
//! answered): the token it may have made is found and revoked, so none stays untracked.
//! Network: Quay.

use super::orphans;
use super::record::same_account;
use super::tracked::tracked_ids;
use crate::context::Context;
use crate::crd::{ApiToken, PendingMint};
use crate::error::ReconcileError;
use crate::fault_points;
use crate::quay::{ConnectionSettings, Flavour, QuayError};

/// Revokes only that mint's token: by its own name on the token API; on the web flow, a token
/// of the application with the same scopes that existed neither before the mint nor in any
/// ApiToken's status.
pub async fn recover(
    token: &ApiToken,
    ctx: &Context,
    settings: &ConnectionSettings,
    pending: &PendingMint,
) -> Result<(), ReconcileError> {
    let found = if same_account(&pending.host, &pending.username, settings) {
        orphans_of(ctx, settings, pending).await?
    } else {
        None
    };
    let Some((flavour, ids)) = found else {
        ctx.events.publish(token, true, "MintInterrupted", format!(
            "a mint started at {} did not complete and its token cannot be identified in Quay; if {} holds an extra token for this application, revoke it there",
            pending.started_at, pending.username)).await;
        return Ok(());
    };
    for id in &ids {
        fault_points::hit(fault_points::RECOVER_BEFORE_REVOKE, token)?;
        ctx.quay
            .revoke(settings, &pending.client_id, id, flavour)
            .await?;
        ctx.liveness
            .note(settings, &pending.client_id, flavour, id, false)
            .await;
        ctx.metrics.token_revoked();
        ctx.events
            .publish(
                token,
                true,
                "MintInterrupted",
                format!(
                    "revoked Quay token {id}, left untracked by a mint interrupted at {}",
                    pending.started_at
                ),
            )
            .await;
    }
    Ok(())
}

/// The tokens an interrupted mint left, and how to revoke them; `None` when they cannot be
/// told apart from others (an intent from before intents recorded enough).
async fn orphans_of(
    ctx: &Context,
    settings: &ConnectionSettings,
    pending: &PendingMint,
) -> Result<Option<(Flavour, Vec<String>)>, ReconcileError> {
    match pending.flavour.as_deref() {
        Some("webFlow") => {
            let Some(known) = &pending.known_ids else {
                return Ok(None);
            };
            // The slot holds the account's mint lock: every mint of ours that Quay answered is
            // tracked (in status, or in memory while its reconcile runs) while we look. Its
            // list is fresh, not remembered.
            ctx.quay.forget_listing(settings, &pending.client_id);
            let slot = match ctx.quay.begin_mint(settings, &pending.client_id).await {
                Ok(slot) => slot,
                // A deleted application took every token of it along (protocol §14).
                Err(QuayError::UnknownClientId { .. }) => {
                    return Ok(Some((Flavour::WebFlow, Vec::new())));
                }
                Err(e) => return Err(e.into()),
            };
            // Asked under the lock: a mint answered just before we took it is in `tracked`.
            let tracked = tracked_ids(ctx, settings).await;
            let now = slot.known.clone().unwrap_or_default();
            Ok(Some((
                Flavour::WebFlow,
                orphans::web_flow_orphans(&now, known, &pending.scopes, &tracked),
            )))
        }
        _ => {
            let named = ctx
                .quay
                .token_ids_named(settings, &pending.client_id, &pending.name)
                .await?;
            let tracked = tracked_ids(ctx, settings).await;
            Ok(named.map(|ids| {
                let ids = ids.into_iter().filter(|id| !tracked.contains(id)).collect();
                (Flavour::TokenApi, ids)
            }))
        }
    }
}
