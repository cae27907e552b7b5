//! Reporting an ApiToken that does not deserialize: its own error status and one Warning event,
//! and a deletion that never hangs on it.

use super::stored::{Malformed, Shown, StoredToken};
use crate::context::Context;
use crate::crd::{ApiTokenStatus, FINALIZER};
use crate::error::ReconcileError;
use crate::events;
use crate::reconcile::status;
use kube::Api;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use serde_json::json;
use std::time::Instant;

/// Condition reason, event reason and metrics label of a malformed ApiToken.
pub const REASON: &str = "MalformedObject";

/// Reports `token` in its status (and once in an event); on deletion, releases our finalizer.
#[tracing::instrument(skip_all, fields(
    namespace = %token.metadata.namespace.as_deref().unwrap_or_default(),
    apitoken = %token.metadata.name.as_deref().unwrap_or_default(),
))]
pub async fn reconcile(token: &Malformed, ctx: &Context) -> Result<Action, ReconcileError> {
    let started = Instant::now();
    let _at_work = ctx.metrics.reconcile_started();
    let result = if token.metadata.deletion_timestamp.is_some() {
        release(token, ctx).await
    } else {
        report(token, ctx).await
    };
    let label = match &result {
        Ok(_) => REASON,
        Err(e) => e.reason(),
    };
    ctx.metrics.reconcile_finished(label, started.elapsed());
    result
}

/// After a failed report or release: transient failures back off, the rest wait for a change.
pub fn error_policy(token: &Malformed, error: &ReconcileError, ctx: &Context) -> Action {
    if error.is_transient() {
        let uid = token.metadata.uid.clone().unwrap_or_default();
        Action::requeue(ctx.backoff.next_delay(&uid))
    } else {
        Action::requeue(ctx.settings.verify_interval)
    }
}

async fn report(token: &Malformed, ctx: &Context) -> Result<Action, ReconcileError> {
    let uid = token.metadata.uid.clone().unwrap_or_default();
    let message = token.problem.to_string();
    tracing::info!(problem = %message, "the stored ApiToken cannot be read");
    // Our last write wins over the cache, as for any ApiToken. When the stored status cannot
    // be read either, only the fields written below are replaced on the server.
    let shown = ctx.written.current(&uid, token.status.as_ref());
    let previous = match &shown {
        Some(status) => Shown {
            message: status.message.clone(),
            observed_generation: status.observed_generation,
        },
        None => token.shown.clone(),
    };
    let verdict = status::Verdict {
        ready: false,
        reason: REASON,
        message: &message,
    };
    let next = status::with_verdict(
        shown.clone().unwrap_or_default(),
        &verdict,
        token.metadata.generation,
        &now(),
    );
    let changed = match &shown {
        Some(status) => *status != next,
        None => {
            previous.message != next.message
                || previous.observed_generation != next.observed_generation
        }
    };
    if changed {
        write_verdict(token, ctx, &next).await?;
        // Remember only a whole status: a partial one would hide the token record later.
        if shown.is_some() {
            ctx.written.remember(&uid, &next);
        }
    }
    ctx.backoff.reset(&uid);
    if previous.message != message {
        publish(ctx, token, REASON, message).await;
    }
    // A fix of the spec is a new generation, which wakes the controller; a hand fix of the
    // status is not, hence the slow safety net.
    Ok(Action::requeue(ctx.settings.verify_interval))
}

/// Writes only what the verdict sets, so that a status we cannot read keeps its other fields
/// (the token record above all: without it the token could never be revoked).
async fn write_verdict(
    token: &Malformed,
    ctx: &Context,
    next: &ApiTokenStatus,
) -> Result<(), ReconcileError> {
    let patch = json!({"status": {
        "conditions": next.conditions,
        "message": next.message,
        "observedGeneration": next.observed_generation,
    }});
    api(token, ctx)
        .patch_status(
            token.metadata.name.as_deref().unwrap_or_default(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
        .map_err(ReconcileError::kube("write the ApiToken status"))?;
    Ok(())
}

/// A deleted malformed ApiToken names no connection Secret we can trust, so its token cannot
/// be revoked: say so and drop the finalizer, so that a namespace deletion never hangs on it.
async fn release(token: &Malformed, ctx: &Context) -> Result<Action, ReconcileError> {
    let uid = token.metadata.uid.clone().unwrap_or_default();
    let finalizers = token.metadata.finalizers.clone().unwrap_or_default();
    if !finalizers.iter().any(|f| f == FINALIZER) || ctx.written.is_cleaned(&uid) {
        return Ok(Action::await_change());
    }
    let status = ctx.written.current(&uid, token.status.as_ref());
    let left = match status.as_ref().and_then(|s| s.token.as_ref()) {
        Some(record) => format!(
            "Quay token {} of {} on {} stays in Quay; revoke it by hand under that account's authorized applications",
            record.id.as_deref().unwrap_or("(id unknown)"),
            record.username,
            record.host
        ),
        None => "any token it held stays in Quay".to_string(),
    };
    let note = format!(
        "{}; deleted while unreadable, so {left}, and a result Secret in another namespace is not deleted",
        token.problem
    );
    publish(ctx, token, "LeftInQuay", note).await;
    let remaining: Vec<&String> = finalizers.iter().filter(|f| *f != FINALIZER).collect();
    // The resourceVersion makes this a compare-and-swap: another finalizer added meanwhile
    // is a conflict (retried), never silently dropped.
    let patch = json!({"metadata": {
        "finalizers": remaining,
        "resourceVersion": token.metadata.resource_version,
    }});
    match api(token, ctx)
        .patch(
            token.metadata.name.as_deref().unwrap_or_default(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Err(source) => {
            return Err(ReconcileError::Kube {
                action: "remove the finalizer",
                source,
            });
        }
    }
    ctx.written.cleaned(&uid);
    Ok(Action::await_change())
}

fn api(token: &Malformed, ctx: &Context) -> Api<StoredToken> {
    Api::namespaced(
        ctx.client.clone(),
        token.metadata.namespace.as_deref().unwrap_or_default(),
    )
}

/// Publishes a Warning event about the object, through a stand-in: the recorder reads only
/// its kind and metadata.
async fn publish(ctx: &Context, token: &Malformed, reason: &str, note: String) {
    match token.stand_in() {
        Some(stand_in) => events::publish(&ctx.recorder, &stand_in, true, reason, note).await,
        None => tracing::warn!(reason, "cannot publish event: no stand-in for the object"),
    }
}

fn now() -> String {
    crate::clock::stamp_of(jiff::Timestamp::now())
}
