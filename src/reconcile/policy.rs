//! What the controller does after a failed reconcile of an ApiToken.

use super::subject::Subject;
use crate::context::Context;
use crate::crd::ApiToken;
use crate::error::ReconcileError;
use kube::runtime::controller::Action;
use std::sync::Arc;

/// The requeue after `error`, by its class: see [`crate::controller::backoff::Backoff::requeue_after`].
pub fn error_policy(token: Arc<ApiToken>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    let retry_after = match error {
        ReconcileError::Quay(q) => q.retry_after(),
        _ => None,
    };
    ctx.backoff.requeue_after(
        Subject::backoff_key(&token),
        error,
        error.is_transient(),
        retry_after,
        ctx.settings.verify_interval,
    )
}
