//! One reconcile of one ApiToken: read inputs → decide → act → write status.

mod apply;
mod cleanup;
mod inputs;
pub mod plan;
pub mod secret;
pub mod status;

use crate::context::Context;
use crate::crd::{
    ApiToken, ApiTokenStatus, FINALIZER, PendingMint, ROTATE_ANNOTATION, TokenRecord,
};
use crate::error::ReconcileError;
use crate::events;
use crate::quay::{Flavour, MintRequest};
use crate::redacted::Redacted;
use inputs::Inputs;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{self, Event};
use kube::{Api, ResourceExt};
use plan::{Facts, MintReason, Plan};
use std::sync::Arc;
use std::time::Instant;

/// What a successful apply leaves behind, for status and events.
struct Outcome {
    record: Option<TokenRecord>,
    message: String,
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

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Apply: make the result Secret hold a live token for the current spec, then report it.
async fn apply(token: &ApiToken, ctx: &Context) -> Result<Action, ReconcileError> {
    let uid = token.uid().ok_or(ReconcileError::Malformed("uid"))?;
    let mut shown = ctx.written.current(&uid, token.status.as_ref());
    let result = converge(token, ctx, &mut shown).await;
    let base = shown.clone().unwrap_or_default();
    let generation = token.metadata.generation;
    match result {
        Ok(outcome) => {
            ctx.backoff.reset(&uid);
            let mut next = base;
            next.token = outcome.record;
            next.exist_in_quay = next.token.as_ref().is_some_and(|r| r.assigned_to.is_none());
            next.pending_mint = None;
            next.rotation = token.annotations().get(ROTATE_ANNOTATION).cloned();
            next.secret_name = inputs::result_target(token, ctx.settings.cross_namespace)
                .ok()
                .map(|t| t.to_string());
            let verdict = status::Verdict {
                ready: true,
                reason: "TokenReady",
                message: &outcome.message,
            };
            let next = status::with_verdict(next, &verdict, generation, &now());
            apply::status(ctx, token, &mut shown, next).await?;
            Ok(Action::requeue(ctx.settings.verify_interval))
        }
        Err(error) => {
            let message = error.to_string();
            let distinct = base.message != message;
            let mut next = base;
            // Quay said no: nothing was minted, so the intent is void. A timeout may have minted.
            if matches!(&error, ReconcileError::Quay(q) if !q.is_transient()) {
                next.pending_mint = None;
            }
            let verdict = status::Verdict {
                ready: false,
                reason: error.reason(),
                message: &message,
            };
            let next = status::with_verdict(next, &verdict, generation, &now());
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

/// Reads, decides and acts; returns what status should record.
async fn converge(
    token: &ApiToken,
    ctx: &Context,
    shown: &mut Option<ApiTokenStatus>,
) -> Result<Outcome, ReconcileError> {
    let inputs = inputs::resolve(ctx, token).await?; // Kubernetes API
    let status = shown.clone().unwrap_or_default();
    let record = status.token.clone();
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
        let keep = record.as_ref().and_then(|r| r.id.as_deref());
        recover(token, ctx, &inputs, pending, keep).await?; // Quay
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
                apply::secret(ctx, &desired).await?; // Kubernetes API
            }
            let message = match &record {
                Some(TokenRecord {
                    assigned_to: Some(user),
                    ..
                }) => assigned_message(user),
                _ => String::new(),
            };
            Ok(Outcome { record, message })
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
        Plan::Assign => assign(token, ctx, &inputs, &input_hash).await,
        Plan::Mint(reason) => mint(token, ctx, &inputs, &input_hash, record, reason, shown).await,
    }
}

/// A mint was started and never recorded (a crash, or a timeout while Quay answered): find
/// the token it may have created by its name and revoke it, so no token stays untracked.
async fn recover(
    token: &ApiToken,
    ctx: &Context,
    inputs: &Inputs,
    pending: &PendingMint,
    keep: Option<&str>,
) -> Result<(), ReconcileError> {
    let same_account = pending.host == inputs.settings.host_string()
        && pending.username == inputs.settings.username();
    let found = if same_account {
        ctx.quay
            .token_ids_named(&inputs.settings, &pending.client_id, &pending.name)
            .await?
    } else {
        None
    };
    let Some(ids) = found else {
        events::publish(&ctx.recorder, token, true, "MintInterrupted", format!(
            "a mint started at {} did not complete and its token cannot be identified in Quay; if {} holds an extra token for this application, revoke it there",
            pending.started_at, pending.username)).await;
        return Ok(());
    };
    for id in ids.iter().filter(|id| Some(id.as_str()) != keep) {
        ctx.quay
            .revoke(&inputs.settings, &pending.client_id, id, Flavour::TokenApi)
            .await?;
        ctx.metrics.token_revoked();
        events::publish(
            &ctx.recorder,
            token,
            true,
            "MintInterrupted",
            format!(
                "revoked Quay token {id}, left untracked by a mint interrupted at {}",
                pending.started_at
            ),
        )
        .await;
    }
    Ok(())
}

fn assigned_message(user: &str) -> String {
    format!(
        "token assigned to Quay user {user}, who retrieves it in the Quay web interface; the result Secret holds no token (forUser)"
    )
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

/// Takes over a token written by the earlier operator (or by us with a lost status): no mint.
async fn adopt(
    token: &ApiToken,
    ctx: &Context,
    inputs: &Inputs,
    input_hash: &str,
    value: Redacted,
) -> Result<Outcome, ReconcileError> {
    let desired = secret::desired(token, &inputs.target, &inputs.settings, Some(&value));
    apply::secret(ctx, &desired).await?;
    events::publish(&ctx.recorder, token, true, "Adopted", format!(
        "took over the token in Secret {} without minting; its Quay id is unknown, so it cannot be verified or revoked: set the annotation {ROTATE_ANNOTATION} to replace it with a tracked token",
        inputs.target)).await;
    let record = TokenRecord {
        host: inputs.settings.host_string(),
        username: inputs.settings.username().to_string(),
        client_id: inputs.client_id.clone(),
        input_hash: input_hash.to_string(),
        token_hash: Some(secret::token_hash(&value)),
        ..Default::default()
    };
    Ok(Outcome {
        record: Some(record),
        message: String::new(),
    })
}

async fn assign(
    token: &ApiToken,
    ctx: &Context,
    inputs: &Inputs,
    input_hash: &str,
) -> Result<Outcome, ReconcileError> {
    let user = token.spec.for_user.clone().unwrap_or_default();
    let scopes: Vec<String> = inputs.scopes.iter().map(|s| s.to_string()).collect();
    ctx.quay
        .assign(&inputs.settings, &inputs.client_id, &scopes, &user)
        .await?; // Quay
    apply::secret(
        ctx,
        &secret::desired(token, &inputs.target, &inputs.settings, None),
    )
    .await?;
    events::publish(
        &ctx.recorder,
        token,
        false,
        "Assigned",
        format!(
            "assigned a token of client ID {} to Quay user {user}",
            inputs.client_id
        ),
    )
    .await;
    let record = TokenRecord {
        host: inputs.settings.host_string(),
        username: inputs.settings.username().to_string(),
        client_id: inputs.client_id.clone(),
        input_hash: input_hash.to_string(),
        minted_at: Some(now()),
        assigned_to: Some(user.clone()),
        ..Default::default()
    };
    Ok(Outcome {
        record: Some(record),
        message: assigned_message(&user),
    })
}

/// Mints a token, writes it, records it, and only then revokes the one it replaces.
async fn mint(
    token: &ApiToken,
    ctx: &Context,
    inputs: &Inputs,
    input_hash: &str,
    old: Option<TokenRecord>,
    reason: MintReason,
    shown: &mut Option<ApiTokenStatus>,
) -> Result<Outcome, ReconcileError> {
    let uid = token.uid().unwrap_or_default();
    let name = format!(
        "k8s:{}/{}:{}",
        token.namespace().unwrap_or_default(),
        token.name_any(),
        &uid[..uid.len().min(8)]
    );
    // Record the intent first: a crash between Quay's answer and the status write must not
    // leave a token that nothing knows about.
    let mut intent = shown.clone().unwrap_or_default();
    intent.pending_mint = Some(PendingMint {
        name: name.clone(),
        host: inputs.settings.host_string(),
        username: inputs.settings.username().to_string(),
        client_id: inputs.client_id.clone(),
        started_at: now(),
    });
    apply::status(ctx, token, shown, intent).await?;
    let scopes: Vec<String> = inputs.scopes.iter().map(|s| s.to_string()).collect();
    let minted = ctx
        .quay
        .mint(
            &inputs.settings,
            MintRequest {
                client_id: inputs.client_id.clone(),
                scopes,
                name,
            },
        )
        .await?; // Quay
    ctx.liveness
        .note(
            &inputs.settings,
            &inputs.client_id,
            minted.flavour,
            &minted.id,
            true,
        )
        .await;
    let record = TokenRecord {
        id: Some(minted.id.clone()),
        flavour: Some(minted.flavour.as_str().to_string()),
        host: inputs.settings.host_string(),
        username: inputs.settings.username().to_string(),
        client_id: inputs.client_id.clone(),
        organization: None,
        input_hash: input_hash.to_string(),
        token_hash: Some(secret::token_hash(&minted.token)),
        minted_at: Some(now()),
        expires_at: minted.expires_at.clone(),
        assigned_to: None,
    };
    let desired = secret::desired(token, &inputs.target, &inputs.settings, Some(&minted.token));
    if let Err(e) = apply::secret(ctx, &desired).await {
        // The Secret could not take the new token: revoke it rather than leave it untracked.
        let _ = ctx
            .quay
            .revoke(
                &inputs.settings,
                &inputs.client_id,
                &minted.id,
                minted.flavour,
            )
            .await;
        return Err(e);
    }
    // Record the new token before touching the old one.
    let mut recorded = shown.clone().unwrap_or_default();
    recorded.token = Some(record.clone());
    recorded.pending_mint = None;
    recorded.exist_in_quay = true;
    recorded.rotation = token.annotations().get(ROTATE_ANNOTATION).cloned();
    apply::status(ctx, token, shown, recorded).await?;
    ctx.metrics.token_minted();
    if reason == MintReason::First {
        events::publish(
            &ctx.recorder,
            token,
            false,
            "Minted",
            format!(
                "minted Quay token {} for {} into Secret {}",
                minted.id,
                inputs.settings.username(),
                inputs.target
            ),
        )
        .await;
    } else {
        ctx.metrics.token_rotated();
        events::publish(
            &ctx.recorder,
            token,
            false,
            "Rotated",
            format!(
                "minted Quay token {} because {}",
                minted.id,
                reason.describe()
            ),
        )
        .await;
    }
    if let Some(old) = old.filter(|o| o.assigned_to.is_none()) {
        retire(token, ctx, inputs, &old).await;
    }
    Ok(Outcome {
        record: Some(record),
        message: String::new(),
    })
}

/// Revokes a replaced token (unless preserved); failures become events, not errors, since the
/// new token is already in place.
async fn retire(token: &ApiToken, ctx: &Context, inputs: &Inputs, old: &TokenRecord) {
    let Some(id) = old.id.as_deref() else { return };
    if token.spec.preserve_in_quay_on_deletion {
        return;
    }
    let flavour: Option<Flavour> = old.flavour.as_deref().and_then(|f| f.parse().ok());
    let same_account =
        old.host == inputs.settings.host_string() && old.username == inputs.settings.username();
    let outcome = match flavour {
        Some(flavour) if same_account => ctx
            .quay
            .revoke(&inputs.settings, &old.client_id, id, flavour)
            .await
            .map(|_| flavour),
        _ => {
            events::publish(&ctx.recorder, token, true, "RevokeSkipped", format!(
                "the replaced token {id} belongs to {} on {}, not the current connection; revoke it there by hand", old.username, old.host)).await;
            return;
        }
    };
    match outcome {
        Ok(flavour) => {
            ctx.liveness
                .note(&inputs.settings, &old.client_id, flavour, id, false)
                .await;
            ctx.metrics.token_revoked();
            events::publish(
                &ctx.recorder,
                token,
                false,
                "Revoked",
                format!("revoked the replaced Quay token {id}"),
            )
            .await;
        }
        Err(e) => {
            events::publish(
                &ctx.recorder,
                token,
                true,
                "RevokeFailed",
                format!("the replaced Quay token {id} could not be revoked and stays in Quay: {e}"),
            )
            .await;
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
