//! Deletion: revoke the token (unless preserved), delete the result Secret, release the finalizer.
//! Never blocks on what can never succeed, so a namespace deletion cannot hang on us.

use super::inputs;
use super::subject::Subject;
use crate::context::Context;
use crate::crd::ApiToken;
use crate::error::ReconcileError;
use crate::fault_points;
use crate::quay::{ConnectionSettings, Flavour};
use crate::release;
use crate::result_secret;
use kube::runtime::controller::Action;

/// Cleans up after a deleted ApiToken; `Err` keeps the finalizer (only for transient failures).
pub async fn cleanup(subject: &Subject<'_>, ctx: &Context) -> Result<Action, ReconcileError> {
    let token = subject.token;
    if release::requested(token) {
        release(subject, ctx).await;
    } else {
        settle(subject, ctx).await?;
        revoke(subject, ctx).await?;
    }
    delete_result_secret(token, ctx).await?;
    ctx.written.cleaned(&subject.uid);
    // An ApiToken that shared our result Secret can have it now.
    ctx.peers
        .sharing_result_secret(token, |_| true)
        .iter()
        .for_each(|o| ctx.peers.nudge(o));
    Ok(Action::await_change())
}

/// A person let go of the ApiToken without Quay: nothing is asked of Quay, and a Warning
/// event names every token left there (by id; names for a mint that never answered).
async fn release(subject: &Subject<'_>, ctx: &Context) {
    let token = subject.token;
    let status = ctx
        .written
        .current(&subject.uid, token.status.as_ref())
        .unwrap_or_default();
    let mut left: Vec<String> = status
        .token
        .iter()
        .chain(&status.replaced)
        .filter(|r| r.assigned_to.is_none())
        .map(|r| {
            let id = r.id.as_deref().unwrap_or("of unknown id");
            format!("Quay token {id} of {} on {}", r.username, r.host)
        })
        .collect();
    if let Some(pending) = &status.pending_mint {
        left.push(format!(
            "any token named `{}` that an unfinished mint made for {} on {}",
            pending.name, pending.username, pending.host
        ));
    }
    let left = if left.is_empty() {
        "no token this ApiToken recorded".to_owned()
    } else {
        left.join(" and ")
    };
    release::announce(&ctx.events, token, &left).await;
}

/// What a deletion must not leave behind besides the recorded token: the token of a mint
/// still pending, and replaced tokens not yet revoked. Neither was ever the user's to keep.
async fn settle(subject: &Subject<'_>, ctx: &Context) -> Result<(), ReconcileError> {
    let token = subject.token;
    let Some(status) = ctx.written.current(&subject.uid, token.status.as_ref()) else {
        return Ok(());
    };
    if status.pending_mint.is_none() && status.replaced.is_empty() {
        return Ok(());
    }
    let Some(settings) = connection_or_left(token, ctx, || {
        "a pending mint or replaced tokens could not be revoked and may stay in Quay".to_owned()
    })
    .await?
    else {
        return Ok(());
    };
    if let Some(pending) = &status.pending_mint {
        super::actions::recover::recover(token, ctx, &settings, pending).await?;
    }
    // The same revocation as after a replacement; a passing failure keeps the finalizer.
    // The ApiToken goes: grace periods end with it, as its current token does.
    let (_, failure) = super::actions::retire::retire_all(
        token,
        ctx,
        &settings,
        status.replaced,
        super::actions::retire::Grace::Ignore,
    )
    .await;
    if let Some(e) = failure {
        return Err(e.into());
    }
    Ok(())
}

/// The connection settings to revoke with; `None` (after a Warning event saying `what` stays
/// in Quay, and why) when they can never be had, so that deletion goes on. Transient
/// failures keep the finalizer.
async fn connection_or_left(
    token: &ApiToken,
    ctx: &Context,
    what: impl FnOnce() -> String,
) -> Result<Option<ConnectionSettings>, ReconcileError> {
    match inputs::connection(ctx, token).await {
        Ok((_, settings)) => Ok(Some(settings)),
        Err(e) if e.is_transient() => Err(e),
        Err(e) => {
            let note = format!("{} ({e})", what());
            ctx.events.publish(token, true, "LeftInQuay", note).await;
            Ok(None)
        }
    }
}

async fn revoke(subject: &Subject<'_>, ctx: &Context) -> Result<(), ReconcileError> {
    let token = subject.token;
    let Some(record) = ctx
        .written
        .current(&subject.uid, token.status.as_ref())
        .and_then(|s| s.token)
    else {
        return Ok(());
    };
    if let Some(user) = &record.assigned_to {
        ctx.events.publish(token, false, "NothingToRevoke", format!(
            "the token assigned to Quay user {user} belongs to that user; the operator cannot revoke it")).await;
        return Ok(());
    }
    if token.spec.preserve_in_quay_on_deletion {
        release::preserved(&ctx.events, token, "the token").await;
        return Ok(());
    }
    let (Some(id), Some(flavour)) = (
        record.id.as_deref(),
        record
            .flavour
            .as_deref()
            .and_then(|f| f.parse::<Flavour>().ok()),
    ) else {
        ctx.events.publish(token, true, "LeftInQuay", format!(
            "the token adopted from the earlier operator has no known Quay id and stays in Quay; revoke it by hand under {}'s authorized applications", record.username)).await;
        return Ok(());
    };
    let Some(settings) = connection_or_left(token, ctx, || {
        format!(
            "Quay token {id} of {} on {} could not be revoked and stays in Quay",
            record.username, record.host
        )
    })
    .await?
    else {
        return Ok(());
    };
    if !super::actions::same_account(&record.host, &record.username, &settings) {
        ctx.events.publish(token, true, "LeftInQuay", format!(
            "Quay token {id} belongs to {} on {}, which the connection Secret no longer names; it stays in Quay", record.username, record.host)).await;
        return Ok(());
    }
    match ctx
        .quay
        .revoke(&settings, &record.client_id, id, flavour)
        .await
    {
        Ok(()) => {
            ctx.metrics.token_revoked();
            ctx.events
                .publish(token, false, "Revoked", format!("revoked Quay token {id}"))
                .await;
            // Nothing records the revocation: after a crash here the next attempt revokes
            // again, and Quay's 404 counts as done.
            fault_points::hit(fault_points::CLEANUP_AFTER_REVOKE, token)?;
            Ok(())
        }
        Err(e) if e.is_transient() => Err(e.into()),
        Err(e) => {
            ctx.events
                .publish(
                    token,
                    true,
                    "LeftInQuay",
                    format!("Quay token {id} could not be revoked and stays in Quay ({e})"),
                )
                .await;
            Ok(())
        }
    }
}

/// Deletes the result Secret if it is ours; one the operator may not read or delete is named
/// in a Warning event instead.
async fn delete_result_secret(token: &ApiToken, ctx: &Context) -> Result<(), ReconcileError> {
    if let Some(note) = result_secret::delete(&ctx.client, ctx.consent(), token).await? {
        let note = format!("{note} if it holds this ApiToken's token");
        ctx.events
            .publish(token, true, "ResultSecretLeft", note)
            .await;
    }
    Ok(())
}
