//! Handing a token to a Quay user (`forUser`): Quay keeps it for them, the result Secret holds
//! none, and the operator's own earlier token is revoked. Network: Quay, the Kubernetes API.

use super::retire::{Grace, retire_all, to_retire};
use super::{Outcome, record};
use crate::context::Context;
use crate::crd::{ApiTokenStatus, TokenRecord};
use crate::error::ReconcileError;
use crate::reconcile::inputs::Inputs;
use crate::reconcile::subject::Subject;
use crate::reconcile::{apply, secret};

/// What status says of a token assigned to `user`.
pub fn assigned_message(user: &str) -> String {
    format!(
        "token assigned to Quay user {user}, who retrieves it in the Quay web interface; the result Secret holds no token (forUser)"
    )
}

/// Asks Quay to assign a token to the user and records the assignment.
pub async fn assign(
    subject: &Subject<'_>,
    ctx: &Context,
    inputs: &Inputs,
    input_hash: &str,
    old: Option<TokenRecord>,
    status: &ApiTokenStatus,
) -> Result<Outcome, ReconcileError> {
    let token = subject.token;
    let user = token.spec.for_user.clone().unwrap_or_default();
    let scopes: Vec<String> = inputs.scopes.iter().map(|s| s.to_string()).collect();
    ctx.quay
        .assign(&inputs.settings, &inputs.client_id, &scopes, &user)
        .await?; // Quay
    apply::write_secret(
        ctx,
        subject,
        &secret::desired(token, &inputs.target, &inputs.settings, None),
        inputs.existing.as_ref(),
    )
    .await?; // Kubernetes API
    ctx.events
        .publish(
            token,
            false,
            "Assigned",
            format!(
                "assigned a token of {} to Quay user {user}",
                inputs.client_id_shown()
            ),
        )
        .await;
    let record = TokenRecord {
        minted_at: Some(ctx.clock.stamp()),
        assigned_to: Some(user.clone()),
        ..record::for_inputs(inputs, input_hash)
    };
    // The token minted before forUser was set is no longer in any Secret: revoke it.
    let mut replaced = status.replaced.clone();
    replaced.extend(to_retire(token, old));
    // forUser hands the token to a person: the operator's old one goes at once.
    let (replaced, _) = retire_all(token, ctx, &inputs.settings, replaced, Grace::Ignore).await;
    Ok(Outcome {
        record: Some(record),
        message: assigned_message(&user),
        replaced,
    })
}
