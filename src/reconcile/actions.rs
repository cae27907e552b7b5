//! The actions that change what Quay holds: mint (and retire the replaced token), assign,
//! adopt, and recover an interrupted mint. Network: Quay and the Kubernetes API.

use super::inputs::Inputs;
use super::plan::MintReason;
use super::{Outcome, apply, grant, naming, now, secret};
use crate::context::Context;
use crate::crd::{ApiToken, ApiTokenStatus, PendingMint, ROTATE_ANNOTATION, Right, TokenRecord};
use crate::error::ReconcileError;
use crate::events;
use crate::quay::{Flavour, MintRequest, QuayError};
use crate::redacted::Redacted;
use kube::ResourceExt;

/// A mint was started and never recorded (a crash, or a timeout while Quay answered): find
/// the token it may have created by its name and revoke it, so no token stays untracked.
pub(super) async fn recover(
    token: &ApiToken,
    ctx: &Context,
    inputs: &Inputs,
    pending: &PendingMint,
    keep: Option<&str>,
) -> Result<(), ReconcileError> {
    let same_account = pending.host == inputs.settings.host_string()
        && pending.username == inputs.settings.username();
    let found = if same_account {
        ctx.quay
            .token_ids_named(&inputs.settings, &pending.client_id, &pending.name)
            .await?
    } else {
        None
    };
    let Some(ids) = found else {
        events::publish(&ctx.recorder, token, true, "MintInterrupted", format!(
            "a mint started at {} did not complete and its token cannot be identified in Quay; if {} holds an extra token for this application, revoke it there",
            pending.started_at, pending.username)).await;
        return Ok(());
    };
    for id in ids.iter().filter(|id| Some(id.as_str()) != keep) {
        ctx.quay
            .revoke(&inputs.settings, &pending.client_id, id, Flavour::TokenApi)
            .await?;
        ctx.metrics.token_revoked();
        events::publish(
            &ctx.recorder,
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

pub(super) fn assigned_message(user: &str) -> String {
    format!(
        "token assigned to Quay user {user}, who retrieves it in the Quay web interface; the result Secret holds no token (forUser)"
    )
}

/// Takes over a token written by the earlier operator (or by us with a lost status): no mint.
pub(super) async fn adopt(
    token: &ApiToken,
    ctx: &Context,
    inputs: &Inputs,
    input_hash: &str,
    value: Redacted,
) -> Result<Outcome, ReconcileError> {
    let desired = secret::desired(token, &inputs.target, &inputs.settings, Some(&value));
    apply::secret(ctx, &desired).await?;
    events::publish(&ctx.recorder, token, true, "Adopted", format!(
        "took over the token in Secret {} without minting; its Quay id is unknown, so it cannot be verified or revoked: set the annotation {ROTATE_ANNOTATION} to replace it with a tracked token",
        inputs.target)).await;
    let record = TokenRecord {
        host: inputs.settings.host_string(),
        username: inputs.settings.username().to_string(),
        client_id: inputs.client_id.clone(),
        input_hash: input_hash.to_string(),
        token_hash: Some(secret::token_hash(&value)),
        ..Default::default()
    };
    Ok(Outcome {
        record: Some(record),
        message: String::new(),
    })
}

pub(super) async fn assign(
    token: &ApiToken,
    ctx: &Context,
    inputs: &Inputs,
    input_hash: &str,
) -> Result<Outcome, ReconcileError> {
    let user = token.spec.for_user.clone().unwrap_or_default();
    let scopes: Vec<String> = inputs.scopes.iter().map(|s| s.to_string()).collect();
    ctx.quay
        .assign(&inputs.settings, &inputs.client_id, &scopes, &user)
        .await?; // Quay
    apply::secret(
        ctx,
        &secret::desired(token, &inputs.target, &inputs.settings, None),
    )
    .await?;
    events::publish(
        &ctx.recorder,
        token,
        false,
        "Assigned",
        format!(
            "assigned a token of client ID {} to Quay user {user}",
            inputs.client_id
        ),
    )
    .await;
    let record = TokenRecord {
        host: inputs.settings.host_string(),
        username: inputs.settings.username().to_string(),
        client_id: inputs.client_id.clone(),
        input_hash: input_hash.to_string(),
        minted_at: Some(now()),
        assigned_to: Some(user.clone()),
        ..Default::default()
    };
    Ok(Outcome {
        record: Some(record),
        message: assigned_message(&user),
    })
}

/// Mints a token, writes it, records it, and only then revokes the one it replaces.
pub(super) async fn mint(
    token: &ApiToken,
    ctx: &Context,
    inputs: &Inputs,
    input_hash: &str,
    old: Option<TokenRecord>,
    reason: MintReason,
    shown: &mut Option<ApiTokenStatus>,
) -> Result<Outcome, ReconcileError> {
    let uid = token.uid().unwrap_or_default();
    let name = naming::token_name(
        &token.namespace().unwrap_or_default(),
        &token.name_any(),
        &uid,
    );
    let grant = grant_for(ctx, inputs, &token.spec.rights).await?; // Quay, once per account
    // Record the intent first: a crash between Quay's answer and the status write must not
    // leave a token that nothing knows about.
    let mut intent = shown.clone().unwrap_or_default();
    intent.pending_mint = Some(PendingMint {
        name: name.clone(),
        host: inputs.settings.host_string(),
        username: inputs.settings.username().to_string(),
        client_id: inputs.client_id.clone(),
        started_at: now(),
    });
    apply::status(ctx, token, shown, intent).await?;
    let scopes: Vec<String> = grant.scopes.iter().map(|s| s.to_string()).collect();
    let minted = ctx
        .quay
        .mint(
            &inputs.settings,
            MintRequest {
                client_id: inputs.client_id.clone(),
                scopes: scopes.clone(),
                name,
            },
        )
        .await?; // Quay
    ctx.liveness
        .note(
            &inputs.settings,
            &inputs.client_id,
            minted.flavour,
            &minted.id,
            true,
        )
        .await;
    let record = TokenRecord {
        id: Some(minted.id.clone()),
        flavour: Some(minted.flavour.as_str().to_string()),
        host: inputs.settings.host_string(),
        username: inputs.settings.username().to_string(),
        client_id: inputs.client_id.clone(),
        organization: None,
        input_hash: input_hash.to_string(),
        token_hash: Some(secret::token_hash(&minted.token)),
        minted_at: Some(now()),
        expires_at: minted.expires_at.clone(),
        assigned_to: None,
        scopes,
    };
    let desired = secret::desired(token, &inputs.target, &inputs.settings, Some(&minted.token));
    if let Err(e) = apply::secret(ctx, &desired).await {
        // The Secret could not take the new token: revoke it rather than leave it untracked.
        let _ = ctx
            .quay
            .revoke(
                &inputs.settings,
                &inputs.client_id,
                &minted.id,
                minted.flavour,
            )
            .await;
        return Err(e);
    }
    // Record the new token before touching the old one. A first token has no predecessor:
    // the final status write of this reconcile records it, one write fewer.
    let replaces = old.as_ref().is_some_and(|o| o.assigned_to.is_none());
    if replaces {
        let mut recorded = shown.clone().unwrap_or_default();
        recorded.token = Some(record.clone());
        recorded.pending_mint = None;
        recorded.exist_in_quay = true;
        recorded.rotation = token.annotations().get(ROTATE_ANNOTATION).cloned();
        apply::status(ctx, token, shown, recorded).await?;
    }
    ctx.metrics.token_minted();
    if reason == MintReason::First {
        events::publish(
            &ctx.recorder,
            token,
            false,
            "Minted",
            format!(
                "minted Quay token {} for {} into Secret {}",
                minted.id,
                inputs.settings.username(),
                inputs.target
            ),
        )
        .await;
    } else {
        ctx.metrics.token_rotated();
        events::publish(
            &ctx.recorder,
            token,
            false,
            "Rotated",
            format!(
                "minted Quay token {} because {}",
                minted.id,
                reason.describe()
            ),
        )
        .await;
    }
    if !grant.left_out.is_empty() {
        events::publish(
            &ctx.recorder,
            token,
            false,
            "ScopesLeftOut",
            format!(
                "minted without {}: `all` means every scope the account can hold, and Quay user {} is not a Quay superuser",
                grant.left_out.join(", "),
                inputs.settings.username()
            ),
        )
        .await;
    }
    if let Some(old) = old.filter(|o| o.assigned_to.is_none()) {
        retire(token, ctx, inputs, &old).await;
    }
    Ok(Outcome {
        record: Some(record),
        message: String::new(),
    })
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

/// Revokes a replaced token (unless preserved); failures become events, not errors, since the
/// new token is already in place.
pub(super) async fn retire(token: &ApiToken, ctx: &Context, inputs: &Inputs, old: &TokenRecord) {
    let Some(id) = old.id.as_deref() else { return };
    if token.spec.preserve_in_quay_on_deletion {
        return;
    }
    let flavour: Option<Flavour> = old.flavour.as_deref().and_then(|f| f.parse().ok());
    let same_account =
        old.host == inputs.settings.host_string() && old.username == inputs.settings.username();
    let outcome = match flavour {
        Some(flavour) if same_account => ctx
            .quay
            .revoke(&inputs.settings, &old.client_id, id, flavour)
            .await
            .map(|_| flavour),
        _ => {
            events::publish(&ctx.recorder, token, true, "RevokeSkipped", format!(
                "the replaced token {id} belongs to {} on {}, not the current connection; revoke it there by hand", old.username, old.host)).await;
            return;
        }
    };
    match outcome {
        Ok(flavour) => {
            ctx.liveness
                .note(&inputs.settings, &old.client_id, flavour, id, false)
                .await;
            ctx.metrics.token_revoked();
            events::publish(
                &ctx.recorder,
                token,
                false,
                "Revoked",
                format!("revoked the replaced Quay token {id}"),
            )
            .await;
        }
        Err(e) => {
            events::publish(
                &ctx.recorder,
                token,
                true,
                "RevokeFailed",
                format!("the replaced Quay token {id} could not be revoked and stays in Quay: {e}"),
            )
            .await;
        }
    }
}
