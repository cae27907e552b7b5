//! Live tokens of an ApiToken that no status records (its record was lost), found so that the
//! new token replaces them too. Network: Quay.

use super::tracked::tracked_ids;
use crate::context::Context;
use crate::crd::TokenRecord;
use crate::quay::Flavour;
use crate::reconcile::inputs::Inputs;
use crate::reconcile::naming;
use crate::reconcile::subject::Subject;

/// Found by the name prefix every mint of the ApiToken shares, on the token API; the web flow
/// cannot tell them, and says so in an event.
pub async fn unrecorded(
    subject: &Subject<'_>,
    ctx: &Context,
    inputs: &Inputs,
    new: &TokenRecord,
) -> Vec<TokenRecord> {
    let token = subject.token;
    if token.spec.preserve_in_quay_on_deletion {
        return Vec::new();
    }
    let prefix = naming::name_prefix(&subject.namespace, &subject.name, &subject.uid);
    let found = ctx
        .quay
        .token_ids_with_prefix(&inputs.settings, &inputs.client_id, &prefix)
        .await;
    let ids = match found {
        Ok(Some(ids)) => ids,
        Ok(None) => {
            ctx.events.publish(token, true, "UnrecordedToken", format!(
                "the result Secret {} held a token that no status records; this Quay's tokens have no names, so it cannot be found and revoked: revoke it by hand under {}'s authorized applications", inputs.target, inputs.settings.username())).await;
            return Vec::new();
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot look for unrecorded tokens");
            return Vec::new();
        }
    };
    let tracked = tracked_ids(ctx, &inputs.settings).await;
    ids.into_iter()
        .filter(|id| Some(id) != new.id.as_ref() && !tracked.contains(id))
        .map(|id| TokenRecord {
            id: Some(id),
            flavour: Some(Flavour::TokenApi.as_str().to_string()),
            ..new.clone()
        })
        .collect()
}
