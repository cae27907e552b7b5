//! What the controller does after a failed reconcile: transient errors back off, permanent ones
//! wait for a watched change (with a slow safety net, since some fixes happen inside Quay).

use crate::context::Context;
use crate::crd::ApiToken;
use crate::error::ReconcileError;
use kube::ResourceExt;
use kube::runtime::controller::Action;
use std::sync::Arc;
use std::time::Duration;

/// The requeue after `error`: Quay's Retry-After when it gave one, else the object's backoff.
pub fn error_policy(token: Arc<ApiToken>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    let uid = token.uid().unwrap_or_default();
    if error.is_transient() {
        let delay = match error {
            ReconcileError::Quay(q) => q.retry_after().map(|d| d + Duration::from_secs(1)),
            _ => None,
        }
        .unwrap_or_else(|| ctx.backoff.next_delay(&uid));
        tracing::info!(error = %error, retry_in = ?delay, "transient failure");
        Action::requeue(delay)
    } else {
        tracing::info!(error = %error, "permanent failure; waiting for a change");
        Action::requeue(ctx.settings.verify_interval)
    }
}
