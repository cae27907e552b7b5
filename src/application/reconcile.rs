//! One reconcile of one Application: read inputs → find or create → update → write the
//! Secret → write status.

use super::actions::{self, Located};
use super::cleanup;
use super::context::AppContext;
use super::crd::Application;
use super::error::ApplicationError;
use super::status::{self, READY_REASON, Verdict};
use super::{inputs, secret};
use crate::crd::FINALIZER;
use crate::owned::{StatusWriter, secret_writes};
use crate::quay::{AppApiError, AppConnection, QuayError};
use crate::references::result_target;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{self, Event};
use kube::{Api, ResourceExt};
use std::sync::Arc;
use std::time::Instant;

/// Entry point for the controller: the Application goes through the finalizer (apply or
/// cleanup).
#[tracing::instrument(skip_all, fields(
    namespace = %app.metadata.namespace.as_deref().unwrap_or_default(),
    application = %app.metadata.name.as_deref().unwrap_or_default(),
))]
pub async fn reconcile(
    app: Arc<Application>,
    ctx: Arc<AppContext>,
) -> Result<Action, ApplicationError> {
    let started = Instant::now();
    let _at_work = ctx.base.metrics.reconcile_started();
    let result = through_finalizer(app, &ctx).await;
    let label = match &result {
        Ok(_) => "ok",
        Err(e) => e.reason(),
    };
    ctx.base
        .metrics
        .application_reconcile_finished(label, started.elapsed());
    result
}

async fn through_finalizer(
    app: Arc<Application>,
    ctx: &AppContext,
) -> Result<Action, ApplicationError> {
    let ns = app
        .namespace()
        .ok_or(ApplicationError::Malformed("namespace"))?;
    if app.metadata.deletion_timestamp.is_some()
        && ctx.written.is_cleaned(&app.uid().unwrap_or_default())
    {
        // A stale cached copy of an Application already cleaned up and released.
        return Ok(Action::await_change());
    }
    let api: Api<Application> = Api::namespaced(ctx.base.client.clone(), &ns);
    finalizer::finalizer(&api, FINALIZER, app, |event| async {
        match event {
            Event::Apply(app) => apply(&app, ctx).await,
            Event::Cleanup(app) => {
                let work = cleanup::cleanup(&app, ctx);
                crate::controller::slots::bounded(ctx.base.reconcile_deadline, work)
                    .await
                    .unwrap_or_else(|overran| Err(overran.into()))
            }
        }
    })
    .await
    .map_err(ApplicationError::from)
}

/// Apply: make Quay hold the application the spec describes and the Secret hold its client ID
/// and secret, then report it.
async fn apply(app: &Application, ctx: &AppContext) -> Result<Action, ApplicationError> {
    let uid = app.uid().ok_or(ApplicationError::Malformed("uid"))?;
    let status = StatusWriter::new(&ctx.base.client, &ctx.written, app);
    let mut credentials = None;
    // Stopped at its deadline, the work is dropped where a crash could stop it (a create
    // records its intent first).
    let work = async {
        let inputs = inputs::resolve(&ctx.base, app).await?; // Kubernetes API
        let mark = credentials.insert(rejection_mark(app, &inputs.conn));
        if status.current().rejected_credentials.as_ref() == Some(mark) {
            // Quay rejected exactly these settings before (perhaps before a restart): asking
            // again would only lengthen its login back-off for the account.
            return Err(rejection(&inputs.conn).into());
        }
        converge(app, ctx, &inputs, &status).await
    };
    let result = crate::controller::slots::bounded(ctx.base.reconcile_deadline, work)
        .await
        .unwrap_or_else(|overran| Err(overran.into()));
    let mut next = status.current();
    let generation = app.metadata.generation;
    match result {
        Ok(located) => {
            ctx.backoff.reset(&uid);
            next.application = Some(located.record);
            next.exist_in_quay = true;
            next.pending_create = None;
            next.rejected_credentials = None;
            next.secret_name = result_target(app, ctx.base.settings.cross_namespace)
                .ok()
                .map(|t| t.to_string());
            let verdict = Verdict {
                ready: true,
                reason: READY_REASON,
                message: "",
            };
            let next = status::with_verdict(next, &verdict, generation, &super::now());
            status.write(next).await?;
            Ok(Action::requeue(ctx.base.settings.verify_interval))
        }
        // A stale read writes nothing: the fresh copy is on its way.
        Err(error @ ApplicationError::StaleRead) => Err(error),
        Err(error) => {
            let message = error.to_string();
            let distinct = next.message != message;
            if rejected_credentials(&error) {
                next.rejected_credentials = credentials;
            }
            let verdict = Verdict {
                ready: false,
                reason: error.reason(),
                message: &message,
            };
            let next = status::with_verdict(next, &verdict, generation, &super::now());
            if let Err(write_error) = status.write(next).await {
                tracing::warn!(error = %write_error, "cannot record the failure in status");
            }
            if distinct {
                ctx.events.publish(app, true, error.reason(), message).await;
            }
            Err(error)
        }
    }
}

/// Decides and acts on the resolved inputs; returns the application to record.
async fn converge(
    app: &Application,
    ctx: &AppContext,
    inputs: &inputs::Inputs,
    status: &StatusWriter<'_, Application>,
) -> Result<Located, ApplicationError> {
    // Before Quay is asked anything: a Secret we may not write means nothing is created.
    let ownership = secret::ownership(
        inputs.existing.as_ref(),
        app,
        &inputs.target,
        &inputs.conn_target,
    );
    if let secret::Ownership::Foreign(detail) = ownership {
        return Err(ApplicationError::SecretConflict {
            secret: inputs.target.to_string(),
            detail,
        });
    }
    let located = actions::locate(app, ctx, inputs, status).await?; // Quay, status
    let view = actions::update(app, ctx, inputs, located.view).await?; // Quay, when it differs
    let desired = secret::desired(app, &inputs.target, &view);
    if secret::needs_write(inputs.existing.as_ref(), &desired) {
        secret_writes::write(&ctx.base.client, &desired, inputs.existing.as_ref()).await?; // Kubernetes API
    }
    Ok(Located {
        record: located.record,
        view,
    })
}

/// The error Quay gave for these credentials last time, without asking again.
fn rejection(conn: &AppConnection) -> AppApiError {
    match conn.username() {
        Some(username) => AppApiError::Quay(QuayError::InvalidCredentials {
            username: username.to_owned(),
        }),
        None => AppApiError::TokenRejected,
    }
}

fn rejected_credentials(error: &ApplicationError) -> bool {
    matches!(error, ApplicationError::Quay(e) if e.is_rejected_credential())
}

/// A salted, shortened hash of the connection settings, safe to show in status: the
/// Application's UID salts it, so equal passwords of two resources do not look alike.
fn rejection_mark(app: &Application, conn: &AppConnection) -> String {
    use sha2::{Digest, Sha256};
    let salted = format!("{}:{}", app.uid().unwrap_or_default(), conn.fingerprint());
    hex::encode(&Sha256::digest(salted.as_bytes())[..12])
}

/// After a failed reconcile: transient errors back off (or wait what Quay asked), permanent
/// ones wait for a watched change, with the verify interval as a safety net (some fixes, such
/// as an admin right granted, happen inside Quay).
pub fn error_policy(
    app: Arc<Application>,
    error: &ApplicationError,
    ctx: Arc<AppContext>,
) -> Action {
    let uid = app.uid().unwrap_or_default();
    let retry_after = match error {
        ApplicationError::Quay(AppApiError::Quay(q)) => q.retry_after(),
        _ => None,
    };
    ctx.backoff.requeue_after(
        &uid,
        error,
        error.is_transient(),
        retry_after,
        ctx.base.settings.verify_interval,
    )
}
