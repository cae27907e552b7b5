//! One reconcile of one ApiToken, as the contract reads: resolve the inputs (Kubernetes reads)
//! → observe → decide (pure) → act (Quay, then Kubernetes writes) → report (pure status, written).

mod actions;
mod apply;
mod cleanup;
mod credentials;
pub mod grant;
mod inputs;
pub mod lifetime;
pub mod naming;
mod observe;
pub mod plan;
mod policy;
mod report;
pub mod secret;
mod sharing;
pub mod status;
mod subject;

pub use inputs::looks_like_client_id;
pub use policy::error_policy;
pub use status::is_ready;

use crate::context::Context;
use crate::crd::{ApiToken, FINALIZER};
use crate::error::ReconcileError;
use crate::owned::StatusWriter;
use kube::Api;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event, finalizer};
use report::Outcome;
use std::sync::Arc;
use std::time::Instant;
use subject::{Checked, Subject};

/// Entry point for the controller: the finalizer decides between apply and cleanup.
pub async fn reconcile(token: Arc<ApiToken>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    let started = Instant::now();
    let _at_work = ctx.metrics.reconcile_started();
    let subject = Subject::of(&token)?;
    if token.metadata.deletion_timestamp.is_some() && ctx.written.is_cleaned(&subject.uid) {
        return Ok(Action::await_change()); // A stale cached copy of one already released.
    }
    let result = finalize(&subject, Arc::clone(&token), &ctx).await;
    let label = result.as_ref().map_or_else(|e| e.reason(), |_| "ok");
    ctx.metrics.reconcile_finished(label, started.elapsed());
    result
}

/// Apply or cleanup of `subject` (whose object `token` is) under the finalizer helper.
#[tracing::instrument(name = "reconcile", skip_all, fields(namespace = %subject.namespace, apitoken = %subject.name))]
async fn finalize(
    subject: &Subject<'_>,
    token: Arc<ApiToken>,
    ctx: &Context,
) -> Result<Action, ReconcileError> {
    let api: Api<ApiToken> = Api::namespaced(ctx.client.clone(), &subject.namespace);
    // The helper hands back the object it was given: the subject is already its identity.
    finalizer(&api, FINALIZER, token, |event| async move {
        match event {
            Event::Apply(_) => apply(subject, ctx).await,
            Event::Cleanup(_) => {
                let work = cleanup::cleanup(subject, ctx);
                crate::controller::slots::bounded(ctx.reconcile_deadline, work)
                    .await
                    .unwrap_or_else(|overran| Err(overran.into()))
            }
        }
    })
    .await
    .map_err(ReconcileError::from)
}

/// Apply: make the result Secret hold a live token for the current spec, then report it.
async fn apply(subject: &Subject<'_>, ctx: &Context) -> Result<Action, ReconcileError> {
    // A token this reconcile mints counts as tracked until its status is written.
    let _in_flight = ctx.in_flight.reconcile(&subject.uid);
    let status = StatusWriter::new(&ctx.client, &ctx.written, subject.token);
    let mut mark = None;
    // Stopped at its deadline, the work is dropped where a crash could stop it: the intent in
    // status names any mint Quay may have made, and the next reconcile recovers it.
    let work = converge(subject, ctx, &status, &mut mark);
    let converged = crate::controller::slots::bounded(ctx.reconcile_deadline, work)
        .await
        .unwrap_or_else(|overran| Err(overran.into()));
    match converged {
        // A crash writes nothing more: neither does a reconcile stopped at a fault point.
        // A stale read writes nothing either: the fresh copy is on its way.
        Err(e @ (ReconcileError::FaultInjected(_) | ReconcileError::StaleRead)) => Err(e),
        result => report::publish(subject, ctx, &status, result, mark).await, // Kubernetes API
    }
}

/// Reads, observes, decides and acts; returns what status should record.
async fn converge(
    subject: &Subject<'_>,
    ctx: &Context,
    status: &StatusWriter<'_, ApiToken>,
    mark: &mut Option<String>,
) -> Result<Outcome, ReconcileError> {
    let token = subject.token;
    let shown = status.current();
    let inputs = inputs::resolve(ctx, token, &shown).await?; // Kubernetes API
    let acted = async {
        // Rejected credentials, then the lifetime: both before any Quay request.
        let checked = Checked::of(subject, &inputs.settings, &shown, mark)?; // pure
        if let Some(pending) = &shown.pending_mint {
            actions::recover::recover(token, ctx, &inputs.settings, pending).await?; // Quay
        }
        let seen = observe::observe(token, ctx, &inputs, &shown, &checked.lifetime).await; // Quay, cached
        if let Err(conflict) = sharing::refuse_shared(ctx, subject, &inputs) {
            sharing::tell_keeper(ctx, subject, &inputs, &conflict, &shown).await; // Kubernetes API
            return Err(conflict.error);
        }
        let plan = plan::decide(&seen.facts()); // pure
        tracing::debug!(?plan, "decided");
        actions::act(plan, &checked, ctx, &inputs, seen, status).await // Quay, then Kubernetes API
    };
    // Before status, events and logs see it: a client ID from a Secret is named, not quoted.
    acted
        .await
        .map_err(|e| inputs::conceal_client_id(&inputs, e))
}
