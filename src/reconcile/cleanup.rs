//! Deletion: revoke the token (unless preserved), delete the result Secret, release the finalizer.
//! Never blocks on what can never succeed, so a namespace deletion cannot hang on us.

use super::{apply, inputs, secret};
use crate::context::Context;
use crate::crd::ApiToken;
use crate::error::ReconcileError;
use crate::events;
use crate::quay::Flavour;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

/// Cleans up after a deleted ApiToken; `Err` keeps the finalizer (only for transient failures).
pub async fn cleanup(token: &ApiToken, ctx: &Context) -> Result<Action, ReconcileError> {
    revoke(token, ctx).await?;
    delete_result_secret(token, ctx).await?;
    ctx.written.cleaned(&token.uid().unwrap_or_default());
    // An ApiToken that shared our result Secret can have it now.
    ctx.peers
        .sharing_result_secret(token)
        .iter()
        .for_each(|o| ctx.peers.nudge(o));
    Ok(Action::await_change())
}

async fn revoke(token: &ApiToken, ctx: &Context) -> Result<(), ReconcileError> {
    let uid = token.uid().unwrap_or_default();
    let Some(record) = ctx
        .written
        .current(&uid, token.status.as_ref())
        .and_then(|s| s.token)
    else {
        return Ok(());
    };
    if let Some(user) = &record.assigned_to {
        events::publish(&ctx.recorder, token, false, "NothingToRevoke", format!(
            "the token assigned to Quay user {user} belongs to that user; the operator cannot revoke it")).await;
        return Ok(());
    }
    if token.spec.preserve_in_quay_on_deletion {
        events::publish(
            &ctx.recorder,
            token,
            false,
            "Preserved",
            "preserveInQuayOnDeletion is true: the token stays in Quay".into(),
        )
        .await;
        return Ok(());
    }
    let (Some(id), Some(flavour)) = (
        record.id.as_deref(),
        record
            .flavour
            .as_deref()
            .and_then(|f| f.parse::<Flavour>().ok()),
    ) else {
        events::publish(&ctx.recorder, token, true, "LeftInQuay", format!(
            "the token adopted from the earlier operator has no known Quay id and stays in Quay; revoke it by hand under {}'s authorized applications", record.username)).await;
        return Ok(());
    };
    let settings = match inputs::connection(ctx, token).await {
        Ok((_, settings)) => settings,
        Err(e) if e.is_transient() => return Err(e),
        Err(e) => {
            events::publish(
                &ctx.recorder,
                token,
                true,
                "LeftInQuay",
                format!(
                    "Quay token {id} of {} on {} could not be revoked and stays in Quay ({e})",
                    record.username, record.host
                ),
            )
            .await;
            return Ok(());
        }
    };
    if settings.host_string() != record.host || settings.username() != record.username {
        events::publish(&ctx.recorder, token, true, "LeftInQuay", format!(
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
            events::publish(
                &ctx.recorder,
                token,
                false,
                "Revoked",
                format!("revoked Quay token {id}"),
            )
            .await;
            Ok(())
        }
        Err(e) if e.is_transient() => Err(e.into()),
        Err(e) => {
            events::publish(
                &ctx.recorder,
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

/// Deletes the result Secret if it is ours; a broken spec or policy never blocks deletion.
async fn delete_result_secret(token: &ApiToken, ctx: &Context) -> Result<(), ReconcileError> {
    let Ok(target) = inputs::result_target(token, ctx.settings.cross_namespace) else {
        return Ok(());
    };
    let conn = inputs::conn_target(token, ctx.settings.cross_namespace).ok();
    let existing = Api::<Secret>::namespaced(ctx.client.clone(), &target.namespace)
        .get_opt(&target.name)
        .await
        .map_err(ReconcileError::kube("read the result Secret"))?;
    let never = secret::Target {
        namespace: String::new(),
        name: String::new(),
    };
    match secret::ownership(
        existing.as_ref(),
        token,
        &target,
        conn.as_ref().unwrap_or(&never),
    ) {
        secret::Ownership::Ours | secret::Ownership::Legacy => {
            apply::delete_secret(ctx, &target.namespace, &target.name).await
        }
        _ => Ok(()),
    }
}
