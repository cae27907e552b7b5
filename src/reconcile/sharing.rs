//! Two ApiTokens naming one result Secret: each reports the conflict, and neither writes it.
//! No I/O: the peers come from the controller's caches.

use super::inputs::Inputs;
use crate::context::Context;
use crate::crd::{ApiToken, ApiTokenStatus};
use crate::error::ReconcileError;
use kube::ResourceExt;

/// Refuses when another ApiToken names the same result Secret, telling the others once.
pub fn refuse_shared(
    ctx: &Context,
    token: &ApiToken,
    inputs: &Inputs,
    status: &ApiTokenStatus,
) -> Result<(), ReconcileError> {
    let sharing = ctx.peers.sharing_result_secret(token);
    if sharing.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = sharing
        .iter()
        .map(|o| format!("{}/{}", o.namespace().unwrap_or_default(), o.name_any()))
        .collect();
    // Tell the others once, so that each side reports it; they tell us back only while our
    // status does not say so yet, which ends the exchange.
    if status
        .conditions
        .iter()
        .all(|c| c.reason != "SecretConflict")
    {
        sharing.iter().for_each(|o| ctx.peers.nudge(o));
    }
    Err(ReconcileError::SecretConflict {
        secret: inputs.target.to_string(),
        detail: format!(
            "ApiToken {} names the same result Secret; give each ApiToken its own",
            names.join(", ")
        ),
    })
}
