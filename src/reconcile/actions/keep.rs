//! Keeping the recorded token: the Secret is made complete and what the token replaced is
//! revoked. Network: the Kubernetes API (only when the Secret lacks something), Quay.

use super::retire::{Grace, retire_all};
use super::{Outcome, assign};
use crate::context::Context;
use crate::crd::{ApiTokenStatus, TokenRecord};
use crate::error::ReconcileError;
use crate::reconcile::inputs::Inputs;
use crate::reconcile::subject::Subject;
use crate::reconcile::{apply, secret};
use crate::redacted::Redacted;

/// Writes the Secret again only if it differs from what it should hold.
pub async fn keep(
    subject: &Subject<'_>,
    ctx: &Context,
    inputs: &Inputs,
    in_secret: Option<&Redacted>,
    status: &ApiTokenStatus,
) -> Result<Outcome, ReconcileError> {
    let token = subject.token;
    let desired = secret::desired(token, &inputs.target, &inputs.settings, in_secret);
    if secret::needs_write(inputs.existing.as_ref(), &desired) {
        apply::write_secret(ctx, subject, &desired, inputs.existing.as_ref()).await?; // Kubernetes API
    }
    let record = status.token.clone();
    let message = match &record {
        Some(TokenRecord {
            assigned_to: Some(user),
            ..
        }) => assign::assigned_message(user),
        _ => String::new(),
    };
    // The Secret holds the recorded token: what it replaced can go now.
    let (replaced, _) = retire_all(
        token,
        ctx,
        &inputs.settings,
        status.replaced.clone(),
        Grace::Honour,
    )
    .await; // Quay
    Ok(Outcome {
        record,
        message,
        replaced,
    })
}
