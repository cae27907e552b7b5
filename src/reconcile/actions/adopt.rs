//! Taking over a token written by the earlier operator (or by us with a lost status), without
//! minting. Network: the Kubernetes API.

use super::{Outcome, record};
use crate::context::Context;
use crate::crd::ROTATE_ANNOTATION;
use crate::error::ReconcileError;
use crate::reconcile::inputs::Inputs;
use crate::reconcile::subject::Subject;
use crate::reconcile::{apply, secret};
use crate::redacted::Redacted;

/// Claims the Secret for this ApiToken and records its token, whose Quay id is unknown.
pub async fn adopt(
    subject: &Subject<'_>,
    ctx: &Context,
    inputs: &Inputs,
    input_hash: &str,
    value: Redacted,
) -> Result<Outcome, ReconcileError> {
    let token = subject.token;
    let desired = secret::desired(token, &inputs.target, &inputs.settings, Some(&value));
    apply::write_secret(ctx, subject, &desired, inputs.existing.as_ref()).await?; // Kubernetes API
    ctx.events.publish(token, true, "Adopted", format!(
        "took over the token in Secret {} without minting; its Quay id is unknown, so it cannot be verified or revoked: set the annotation {ROTATE_ANNOTATION} to replace it with a tracked token",
        inputs.target)).await;
    Ok(Outcome {
        record: Some(record::adopted(inputs, input_hash, &value)),
        message: String::new(),
        replaced: Vec::new(),
    })
}
