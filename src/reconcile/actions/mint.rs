//! Minting a token: the intent is recorded before Quay is asked, the token and what it replaces
//! are recorded before the Secret can hold it (a first mint: with the verdict, after it), and
//! only then is the replaced token revoked.
//! Network: Quay, the Kubernetes API.

use super::narrow::narrow;
use super::retire::{Grace, retire_all, to_retire};
use super::unrecorded::unrecorded;
use super::{Outcome, record};
use crate::context::Context;
use crate::crd::{ApiToken, PendingMint, Right, TokenRecord};
use crate::error::ReconcileError;
use crate::fault_points;
use crate::owned::StatusWriter;
use crate::quay::{MintRequest, MintSlot, QuayError};
use crate::reconcile::inputs::Inputs;
use crate::reconcile::lifetime::{self, Lifetime};
use crate::reconcile::plan::MintReason;
use crate::reconcile::subject::Checked;
use crate::reconcile::{apply, grant, naming, report, secret};

/// Mints a token for `inputs`, replacing `old`.
pub async fn mint(
    checked: &Checked<'_>,
    ctx: &Context,
    inputs: &Inputs,
    input_hash: &str,
    old: Option<TokenRecord>,
    reason: MintReason,
    status: &StatusWriter<'_, ApiToken>,
) -> Result<Outcome, ReconcileError> {
    let (subject, lifetime) = (checked.subject, &checked.lifetime);
    let token = subject.token;
    let name = naming::token_name(
        &subject.namespace,
        &subject.name,
        &subject.uid,
        &naming::mint_mark(),
    );
    let grant = grant_for(ctx, inputs, &token.spec.rights).await?; // Quay, once per account
    let scopes: Vec<String> = grant.scopes.iter().map(|s| s.to_string()).collect();
    let slot = ctx
        .quay
        .begin_mint(&inputs.settings, &inputs.client_id)
        .await?; // Quay
    // Record the intent first: a crash between Quay's answer and the record must not leave a
    // token that nothing knows about.
    let pending = intent(ctx, inputs, &slot, &name, &scopes);
    let next = report::intent(status.current(), pending);
    status.write_guarded(next).await?; // Kubernetes API
    fault_points::hit(fault_points::MINT_AFTER_INTENT, token)?;
    let request = MintRequest {
        client_id: inputs.client_id.clone(),
        scopes: scopes.clone(),
        name,
        expiration: lifetime.quay_expiration(),
    };
    let minted = match ctx.quay.mint_in(&inputs.settings, &slot, request).await {
        Err(QuayError::AmbiguousTokenId {
            held: Some(held), ..
        }) => narrow(ctx, inputs, &slot, *held).await?, // Quay, a few times at most
        other => other?, // Quay
    };
    fault_points::hit(fault_points::MINT_AFTER_QUAY, token)?;
    let (settings, client_id) = (&inputs.settings, &inputs.client_id);
    ctx.liveness
        .note(settings, client_id, minted.flavour, &minted.id, true)
        .await;
    let now = ctx.clock.now();
    let record = record::minted(inputs, input_hash, &minted, scopes, now);
    // Tracked in memory before the account's lock goes: the next mint or recovery under it
    // must not take this token for someone else's or for an orphan.
    ctx.in_flight.hold(&subject.uid, record.clone());
    drop(slot);
    let mut replaced: Vec<TokenRecord> = to_retire(token, old)
        .map(|old| with_grace(old, lifetime, reason, now))
        .into_iter()
        .collect();
    if reason == MintReason::Unrecorded {
        replaced.extend(unrecorded(subject, ctx, inputs, &record).await); // Quay
    }
    let recorded = report::minted(token, status.current(), record.clone(), replaced);
    // A mint that replaces a token records both in one write before the Secret can be seen
    // holding the new one: from there a crash leaves both tracked, the next reconcile revokes
    // whatever the Secret does not hold, and Ready never points at a revoked token. A first
    // mint records its token with the verdict, after the Secret: its intent names the token
    // (the token API by name, the web flow by what existed before it), so a crash before the
    // verdict leaves it found and revoked, and no Ready status ever pointed at it.
    let record_first = !recorded.replaced.is_empty();
    if record_first {
        status.write(recorded.clone()).await?; // Kubernetes API
        fault_points::hit(fault_points::MINT_AFTER_RECORD, token)?;
    }
    let desired = secret::desired(token, &inputs.target, &inputs.settings, Some(&minted.token));
    // A failed write leaves the new token recorded: the next reconcile sees the Secret without
    // it, mints again and revokes it, so nothing is left untracked.
    let written = apply::write_secret(ctx, subject, &desired, inputs.existing.as_ref()).await; // Kubernetes API
    if let Err(error) = written {
        if !record_first {
            // Still named by the intent if this write fails too.
            if let Err(e) = status.write(recorded).await {
                tracing::warn!(error = %e, "cannot record the token the Secret did not take");
            }
        }
        return Err(error);
    }
    fault_points::hit(fault_points::MINT_AFTER_SECRET, token)?;
    announce(token, ctx, inputs, &minted.id, reason, &grant.left_out).await;
    let pending_revocation = status.current().replaced;
    let (replaced, _) = retire_all(token, ctx, settings, pending_revocation, Grace::Honour).await; // Quay
    Ok(Outcome {
        record: Some(record),
        message: String::new(),
        replaced,
    })
}

/// What a mint about to start records: enough to find its token if it is interrupted.
fn intent(
    ctx: &Context,
    inputs: &Inputs,
    slot: &MintSlot,
    name: &str,
    scopes: &[String],
) -> PendingMint {
    let mut sorted_scopes = scopes.to_vec();
    sorted_scopes.sort();
    PendingMint {
        name: name.to_owned(),
        host: inputs.settings.host_string(),
        username: inputs.settings.username().to_string(),
        client_id: inputs.client_id.clone(),
        started_at: ctx.clock.stamp(),
        flavour: Some(slot.flavour.as_str().to_string()),
        scopes: sorted_scopes,
        known_ids: slot.known.as_ref().map(|known| {
            let mut ids: Vec<String> = known.keys().cloned().collect();
            ids.sort();
            ids
        }),
    }
}

/// The replaced token with its revoke time: consumers that read the Secret from time to time
/// keep it for the grace period, recorded so that a restart neither forgets to revoke it nor
/// revokes it early.
fn with_grace(
    mut old: TokenRecord,
    lifetime: &Lifetime,
    reason: MintReason,
    now: jiff::Timestamp,
) -> TokenRecord {
    let old_schedule = lifetime::schedule(&old, lifetime);
    old.revoke_at = lifetime::revoke_at(
        now,
        lifetime.grace,
        old_schedule.as_ref(),
        reason.old_is_dead(),
    );
    old
}

/// The scopes to mint for `rights`; asks Quay whether the account is a superuser only when
/// the answer matters.
async fn grant_for(
    ctx: &Context,
    inputs: &Inputs,
    rights: &[Right],
) -> Result<grant::Grant, ReconcileError> {
    let superuser = if grant::needs_superuser_check(rights) {
        ctx.quay.is_superuser(&inputs.settings).await?
    } else {
        false
    };
    grant::decide(rights, superuser).map_err(|refused| {
        ReconcileError::Quay(QuayError::RightNotHeld {
            rights: refused.join(" "),
            username: inputs.settings.username().to_owned(),
            why: "it is not a Quay superuser".to_owned(),
        })
    })
}

/// Tells what was minted and why, counts it, and says which scopes `all` left out.
async fn announce(
    token: &ApiToken,
    ctx: &Context,
    inputs: &Inputs,
    id: &str,
    reason: MintReason,
    left_out: &[&str],
) {
    ctx.metrics.token_minted();
    if reason != MintReason::First {
        ctx.metrics.token_rotated();
    }
    match reason {
        MintReason::First => {
            let note = format!(
                "minted Quay token {id} for {} into Secret {}",
                inputs.settings.username(),
                inputs.target
            );
            ctx.events.publish(token, false, "Minted", note).await;
        }
        MintReason::Renewal => {
            let note =
                format!("minted Quay token {id} because the renewal time of its predecessor came");
            ctx.events.publish(token, false, "Renewed", note).await;
        }
        other => {
            let note = format!("minted Quay token {id} because {}", other.describe());
            ctx.events.publish(token, false, "Rotated", note).await;
        }
    }
    if !left_out.is_empty() {
        ctx.events.publish(
            token,
            false,
            "ScopesLeftOut",
            format!(
                "minted without {}: `all` means every scope the account can hold, and Quay user {} is not a Quay superuser",
                left_out.join(", "),
                inputs.settings.username()
            ),
        )
        .await;
    }
}
