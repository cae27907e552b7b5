//! Carrying out the plan: each action changes what Quay holds, then what Kubernetes shows.
//! Network: Quay, then the Kubernetes API.

mod adopt;
mod assign;
mod keep;
mod mint;
mod narrow;
mod orphans;
mod record;
pub mod recover;
pub mod retire;
mod tracked;
mod unrecorded;

pub use record::same_account;

use crate::context::Context;
use crate::crd::ApiToken;
use crate::error::ReconcileError;
use crate::owned::StatusWriter;
use crate::reconcile::inputs::Inputs;
use crate::reconcile::observe::Observed;
use crate::reconcile::plan::Plan;
pub use crate::reconcile::report::Outcome;
use crate::reconcile::subject::Checked;

/// Does what `plan` says, and returns what status should record.
pub async fn act(
    plan: Plan,
    checked: &Checked<'_>,
    ctx: &Context,
    inputs: &Inputs,
    seen: Observed,
    status: &StatusWriter<'_, ApiToken>,
) -> Result<Outcome, ReconcileError> {
    let (subject, current) = (checked.subject, status.current());
    let Observed {
        input_hash,
        record,
        in_secret,
        ..
    } = seen;
    match plan {
        Plan::Conflict(detail) => Err(ReconcileError::SecretConflict {
            secret: inputs.target.to_string(),
            detail,
        }),
        Plan::Keep => keep::keep(subject, ctx, inputs, in_secret.as_ref(), &current).await,
        Plan::Adopt => {
            let value = in_secret.unwrap_or_default();
            adopt::adopt(subject, ctx, inputs, &input_hash, value).await
        }
        Plan::Assign => assign::assign(subject, ctx, inputs, &input_hash, record, &current).await,
        Plan::Mint(reason) => {
            mint::mint(checked, ctx, inputs, &input_hash, record, reason, status).await
        }
    }
}
