//! What is true now, as the decision needs it: the recorded token, what the result Secret holds,
//! where the lifetime stands and whether Quay still holds the token. Network: Quay (the liveness
//! check, one list per account and interval at most).

use super::inputs::Inputs;
use super::lifetime::{self, Due, Lifetime};
use super::plan::{self, Facts};
use super::secret::{self, Ownership};
use crate::context::Context;
use crate::crd::{ApiToken, ApiTokenStatus, ROTATE_ANNOTATION, TokenRecord};
use crate::quay::Flavour;
use crate::redacted::Redacted;
use kube::ResourceExt;

/// Everything observed for one decision, owned so the facts can borrow it.
pub struct Observed {
    /// The hash of the inputs a token is minted for.
    pub input_hash: String,
    /// The token status records.
    pub record: Option<TokenRecord>,
    /// Whose the Secret at the target is.
    pub ownership: Ownership,
    /// The token the result Secret holds.
    pub in_secret: Option<Redacted>,
    in_secret_hash: Option<String>,
    for_user: bool,
    rotate_wanted: Option<String>,
    rotate_done: Option<String>,
    live: Option<bool>,
    due: Due,
}

impl Observed {
    /// The plain values [`plan::decide`] takes.
    pub fn facts(&self) -> Facts<'_> {
        Facts {
            input_hash: &self.input_hash,
            for_user: self.for_user,
            record: self.record.as_ref(),
            ownership: &self.ownership,
            secret_token_hash: self.in_secret_hash.as_deref(),
            rotate_wanted: self.rotate_wanted.as_deref(),
            rotate_done: self.rotate_done.as_deref(),
            live: self.live,
            due: self.due,
        }
    }
}

/// Looks at the Secret, the status and the clock, and asks Quay whether the recorded token is
/// live when that can change the decision.
pub async fn observe(
    token: &ApiToken,
    ctx: &Context,
    inputs: &Inputs,
    status: &ApiTokenStatus,
    lifetime: &Lifetime,
) -> Observed {
    let record = status.token.clone();
    let schedule = record
        .as_ref()
        .and_then(|r| lifetime::schedule(r, lifetime));
    let for_user = token.spec.for_user.as_deref();
    let input_hash = plan::input_hash(
        &inputs.settings.host_string(),
        inputs.settings.username(),
        &inputs.client_id,
        &inputs.scopes,
        for_user,
    );
    let in_secret = secret::token_in(inputs.existing.as_ref());
    let live = match &record {
        Some(r) if r.input_hash == input_hash && for_user.is_none() => {
            is_live(ctx, inputs, r).await // Quay, cached per account
        }
        _ => None,
    };
    Observed {
        ownership: secret::ownership(
            inputs.existing.as_ref(),
            token,
            &inputs.target,
            &inputs.conn,
        ),
        in_secret_hash: in_secret.as_ref().map(secret::token_hash),
        in_secret,
        for_user: for_user.is_some(),
        rotate_wanted: token.annotations().get(ROTATE_ANNOTATION).cloned(),
        rotate_done: status.rotation.clone(),
        live,
        due: lifetime::due(schedule.as_ref(), ctx.clock.now()),
        input_hash,
        record,
    }
}

/// Whether Quay still holds the recorded token; `None` when that cannot be known.
async fn is_live(ctx: &Context, inputs: &Inputs, record: &TokenRecord) -> Option<bool> {
    let id = record.id.as_deref()?;
    let flavour: Flavour = record.flavour.as_deref()?.parse().ok()?;
    match ctx
        .liveness
        .is_live(&ctx.quay, &inputs.settings, &record.client_id, flavour, id)
        .await
    {
        Ok(live) => Some(live),
        Err(e) => {
            // The Secret still holds a token that was live at the last check; do not flip Ready
            // because the check itself failed.
            tracing::warn!(error = %e, "cannot verify the token in Quay");
            None
        }
    }
}
