//! One reconcile of one ApiToken: read inputs → decide → act → write status.

mod actions;
use actions::{Grace, adopt, assign, assigned_message, mint, recover, retire_all};
mod apply;
mod cleanup;
pub mod grant;
mod inputs;
pub mod lifetime;
pub mod naming;
pub mod plan;
mod recovery;
pub mod secret;
pub mod status;

use crate::clock::stamp_of;
use crate::context::Context;
use crate::crd::{ApiToken, ApiTokenStatus, FINALIZER, ROTATE_ANNOTATION, TokenRecord};
use crate::error::ReconcileError;
use crate::events;
use crate::quay::Flavour;
use inputs::Inputs;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{self, Event};
use kube::{Api, ResourceExt};
use plan::{Facts, Plan};
use std::sync::Arc;
use std::time::Instant;

/// What a successful apply leaves behind, for status and events.
pub(super) struct Outcome {
    pub(super) record: Option<TokenRecord>,
    pub(super) message: String,
    /// Replaced tokens still to revoke.
    pub(super) replaced: Vec<TokenRecord>,
}

/// Entry point for the controller: the finalizer decides between apply and cleanup.
#[tracing::instrument(skip_all, fields(namespace = %token.namespace().unwrap_or_default(), apitoken = %token.name_any()))]
pub async fn reconcile(token: Arc<ApiToken>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    let started = Instant::now();
    let ns = token
        .namespace()
        .ok_or(ReconcileError::Malformed("namespace"))?;
    if token.metadata.deletion_timestamp.is_some()
        && ctx.written.is_cleaned(&token.uid().unwrap_or_default())
    {
        // A stale cached copy of an ApiToken already cleaned up and released.
        return Ok(Action::await_change());
    }
    let api: Api<ApiToken> = Api::namespaced(ctx.client.clone(), &ns);
    let result = finalizer::finalizer(&api, FINALIZER, token, |event| async {
        match event {
            Event::Apply(token) => apply(&token, &ctx).await,
            Event::Cleanup(token) => cleanup::cleanup(&token, &ctx).await,
        }
    })
    .await
    .map_err(flatten);
    let label = match &result {
        Ok(_) => "ok",
        Err(e) => e.reason(),
    };
    ctx.metrics.reconcile_finished(label, started.elapsed());
    result
}

/// The finalizer helper wraps our errors; unwrap them so status, events and metrics see the cause.
fn flatten(e: finalizer::Error<ReconcileError>) -> ReconcileError {
    match e {
        finalizer::Error::ApplyFailed(e) | finalizer::Error::CleanupFailed(e) => e,
        finalizer::Error::AddFinalizer(source) | finalizer::Error::RemoveFinalizer(source) => {
            ReconcileError::Kube {
                action: "update the finalizer",
                source,
            }
        }
        finalizer::Error::UnnamedObject => ReconcileError::Malformed("name"),
        finalizer::Error::InvalidFinalizer => ReconcileError::Malformed("valid finalizer name"),
    }
}

/// Apply: make the result Secret hold a live token for the current spec, then report it.
async fn apply(token: &ApiToken, ctx: &Context) -> Result<Action, ReconcileError> {
    let uid = token.uid().ok_or(ReconcileError::Malformed("uid"))?;
    let mut shown = ctx.written.current(&uid, token.status.as_ref());
    let mut credentials = None;
    let result = converge(token, ctx, &mut shown, &mut credentials).await;
    let base = shown.clone().unwrap_or_default();
    let generation = token.metadata.generation;
    match result {
        Ok(outcome) => {
            ctx.backoff.reset(&uid);
            let mut next = base;
            next.token = outcome.record;
            next.replaced = outcome.replaced;
            next.exist_in_quay = next.token.as_ref().is_some_and(|r| r.assigned_to.is_none());
            next.pending_mint = None;
            next.rejected_credentials = None;
            next.rotation = token.annotations().get(ROTATE_ANNOTATION).cloned();
            next.secret_name = inputs::result_target(token, ctx.settings.cross_namespace)
                .ok()
                .map(|t| t.to_string());
            // Converge read the lifetime already: a bad one never gets here.
            let lifetime = lifetime::Lifetime::of(&token.spec).unwrap_or_default();
            let schedule = next
                .token
                .as_ref()
                .and_then(|r| lifetime::schedule(r, &lifetime));
            next.expires_at = schedule.map(|s| stamp_of(s.expires_at));
            next.renew_at = schedule.map(|s| stamp_of(s.renew_at));
            ctx.metrics.set_schedule(
                &ns_of(token),
                &token.name_any(),
                schedule.map(|s| (unix(s.expires_at), unix(s.renew_at))),
            );
            let wake = lifetime::next_wake(
                ctx.clock.now(),
                schedule.as_ref(),
                &next.replaced,
                ctx.settings.verify_interval,
            );
            let verdict = status::Verdict {
                ready: true,
                reason: "TokenReady",
                message: &outcome.message,
            };
            let next = status::with_verdict(next, &verdict, generation, &ctx.clock.stamp());
            apply::status(ctx, token, &mut shown, next).await?;
            Ok(Action::requeue(wake))
        }
        // A crash writes nothing more: neither does a reconcile stopped at a fault point.
        // A stale read writes nothing either: the fresh copy is on its way.
        Err(error @ (ReconcileError::FaultInjected(_) | ReconcileError::StaleRead)) => Err(error),
        Err(error) => {
            let message = error.to_string();
            let distinct = base.message != message;
            let mut next = base;
            // Quay said no: nothing was minted, so the intent is void. A timeout may have minted.
            if matches!(&error, ReconcileError::Quay(q) if !q.is_transient()) {
                next.pending_mint = None;
            }
            if error.is_rejected_sign_in() {
                next.rejected_credentials = credentials;
            }
            let verdict = status::Verdict {
                ready: false,
                reason: error.reason(),
                message: &message,
            };
            let next = status::with_verdict(next, &verdict, generation, &ctx.clock.stamp());
            if let Err(write_error) = apply::status(ctx, token, &mut shown, next).await {
                tracing::warn!(error = %write_error, "cannot record the failure in status");
            }
            if distinct {
                events::publish(&ctx.recorder, token, true, error.reason(), message).await;
            }
            Err(error)
        }
    }
}

fn ns_of(token: &ApiToken) -> String {
    token.namespace().unwrap_or_default()
}

fn unix(t: chrono::DateTime<chrono::Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

/// Reads, decides and acts; returns what status should record.
async fn converge(
    token: &ApiToken,
    ctx: &Context,
    shown: &mut Option<ApiTokenStatus>,
    credentials: &mut Option<String>,
) -> Result<Outcome, ReconcileError> {
    let inputs = inputs::resolve(ctx, token).await?; // Kubernetes API
    let status = shown.clone().unwrap_or_default();
    let fingerprint = rejection_mark(token, &inputs.settings);
    let rejected_before = status.rejected_credentials.as_deref() == Some(fingerprint.as_str());
    *credentials = Some(fingerprint);
    if rejected_before {
        // Quay rejected exactly these settings before (perhaps before a restart): asking
        // again would only lengthen its login back-off for the account.
        return Err(ReconcileError::Quay(
            crate::quay::QuayError::InvalidCredentials {
                username: inputs.settings.username().to_owned(),
            },
        ));
    }
    let lifetime =
        lifetime::Lifetime::of(&token.spec).map_err(|bad| ReconcileError::InvalidLifetime {
            field: bad.field,
            detail: bad.detail,
        })?;
    let record = status.token.clone();
    let schedule = record
        .as_ref()
        .and_then(|r| lifetime::schedule(r, &lifetime));
    let due = lifetime::due(schedule.as_ref(), ctx.clock.now());
    let ownership = secret::ownership(
        inputs.existing.as_ref(),
        token,
        &inputs.target,
        &inputs.conn,
    );
    let in_secret = secret::token_in(inputs.existing.as_ref());
    let in_secret_hash = in_secret.as_ref().map(secret::token_hash);
    let for_user = token.spec.for_user.as_deref();
    let input_hash = plan::input_hash(
        &inputs.settings.host_string(),
        inputs.settings.username(),
        &inputs.client_id,
        &inputs.scopes,
        for_user,
    );
    if let Some(pending) = &status.pending_mint {
        recover(token, ctx, &inputs.settings, pending).await?; // Quay
    }
    let live = match &record {
        Some(r) if r.input_hash == input_hash && for_user.is_none() => {
            is_live(ctx, &inputs, r).await
        } // Quay, cached per account
        _ => None,
    };
    let rotate_wanted = token
        .annotations()
        .get(ROTATE_ANNOTATION)
        .map(String::as_str);
    let facts = Facts {
        input_hash: &input_hash,
        for_user: for_user.is_some(),
        record: record.as_ref(),
        ownership: &ownership,
        secret_token_hash: in_secret_hash.as_deref(),
        rotate_wanted,
        rotate_done: status.rotation.as_deref(),
        live,
        due,
    };
    let sharing = ctx.peers.sharing_result_secret(token);
    if !sharing.is_empty() {
        let names: Vec<String> = sharing
            .iter()
            .map(|o| format!("{}/{}", o.namespace().unwrap_or_default(), o.name_any()))
            .collect();
        // Tell the others once, so that each side reports it; they tell us back only while
        // our status does not say so yet, which ends the exchange.
        if status
            .conditions
            .iter()
            .all(|c| c.reason != "SecretConflict")
        {
            sharing.iter().for_each(|o| ctx.peers.nudge(o));
        }
        return Err(ReconcileError::SecretConflict {
            secret: inputs.target.to_string(),
            detail: format!(
                "ApiToken {} names the same result Secret; give each ApiToken its own",
                names.join(", ")
            ),
        });
    }
    let plan = plan::decide(&facts);
    tracing::debug!(?plan, "decided");
    match plan {
        Plan::Conflict(detail) => Err(ReconcileError::SecretConflict {
            secret: inputs.target.to_string(),
            detail,
        }),
        Plan::Keep => {
            let desired =
                secret::desired(token, &inputs.target, &inputs.settings, in_secret.as_ref());
            if secret::needs_write(inputs.existing.as_ref(), &desired) {
                apply::write_secret(ctx, &desired, inputs.existing.is_some()).await?; // Kubernetes API
            }
            let message = match &record {
                Some(TokenRecord {
                    assigned_to: Some(user),
                    ..
                }) => assigned_message(user),
                _ => String::new(),
            };
            // The Secret holds the recorded token: what it replaced can go now.
            let (replaced, _) = retire_all(
                token,
                ctx,
                &inputs.settings,
                status.replaced.clone(),
                Grace::Honour,
            )
            .await;
            Ok(Outcome {
                record,
                message,
                replaced,
            })
        }
        Plan::Adopt => {
            adopt(
                token,
                ctx,
                &inputs,
                &input_hash,
                in_secret.unwrap_or_default(),
            )
            .await
        }
        Plan::Assign => assign(token, ctx, &inputs, &input_hash, record, shown).await,
        Plan::Mint(reason) => mint(token, ctx, &inputs, &input_hash, record, reason, shown).await,
    }
}

/// A salted, shortened hash of the connection settings, safe to show in status: the
/// ApiToken's uid salts it, so equal passwords of two ApiTokens do not look alike.
fn rejection_mark(token: &ApiToken, settings: &crate::quay::ConnectionSettings) -> String {
    use sha2::{Digest, Sha256};
    let salted = format!(
        "{}:{}",
        token.uid().unwrap_or_default(),
        settings.fingerprint()
    );
    hex::encode(&Sha256::digest(salted.as_bytes())[..12])
}

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

/// What the controller does after a failed reconcile: transient errors back off, permanent ones
/// wait for a watched change (with a slow safety net, since some fixes happen inside Quay).
pub fn error_policy(token: Arc<ApiToken>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    let uid = token.uid().unwrap_or_default();
    if error.is_transient() {
        let delay = match error {
            ReconcileError::Quay(q) => q
                .retry_after()
                .map(|d| d + std::time::Duration::from_secs(1)),
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

/// Whether the ApiToken's Ready condition is True.
pub fn is_ready(token: &ApiToken) -> bool {
    token.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    })
}

/// Where the result Secret of `token` goes.
pub fn inputs_result_target(
    token: &ApiToken,
    policy: crate::context::CrossNamespacePolicy,
) -> Result<secret::Target, ReconcileError> {
    inputs::result_target(token, policy)
}

/// Every Secret this ApiToken reads or writes, with how: connection and client ID are read,
/// the result written.
pub fn secret_uses(token: &ApiToken) -> Vec<(secret::Target, crate::secret_index::Role)> {
    use crate::secret_index::Role;
    let policy = crate::context::CrossNamespacePolicy::Allow;
    let result = inputs::result_target(token, policy).ok();
    inputs_targets(token, policy)
        .into_iter()
        .map(|t| {
            let role = if result.as_ref() == Some(&t) {
                Role::Result
            } else {
                Role::Input
            };
            (t, role)
        })
        .collect()
}

/// Every Secret this ApiToken reads or writes: connection, client ID and result.
pub fn inputs_targets(
    token: &ApiToken,
    policy: crate::context::CrossNamespacePolicy,
) -> Vec<secret::Target> {
    let mut targets = Vec::new();
    if let Ok(t) = inputs::conn_target(token, policy) {
        targets.push(t);
    }
    if let Ok(t) = inputs::result_target(token, policy) {
        targets.push(t);
    }
    if let Some(from) = &token.spec.client_id_from {
        let ns = from
            .namespace
            .clone()
            .or_else(|| token.namespace())
            .unwrap_or_default();
        targets.push(secret::Target {
            namespace: ns,
            name: from.name.clone(),
        });
    }
    targets
}
