//! The status a reconcile reports, built from what it did or why it failed. Every status the
//! reconcile writes (the intent, the record, the verdict) is built here by pure functions;
//! [`publish`] alone writes (one status write, an event on a new failure).

use super::lifetime::{self, Schedule};
use super::status::{self, Verdict};
use super::subject::Subject;
use crate::clock::stamp_of;
use crate::context::Context;
use crate::crd::{ApiToken, ApiTokenStatus, PendingMint, ROTATE_ANNOTATION, TokenRecord};
use crate::error::ReconcileError;
use crate::owned::StatusWriter;
use crate::references::{CrossNamespacePolicy, result_target};
use kube::ResourceExt;
use kube::runtime::controller::Action;

/// What an action leaves behind, for status and events.
pub struct Outcome {
    /// The token status records now.
    pub record: Option<TokenRecord>,
    /// What Ready's message says (empty when all is well).
    pub message: String,
    /// Replaced tokens still to revoke.
    pub replaced: Vec<TokenRecord>,
}

/// Reports a reconcile: its status (one write when it changed), the schedule's metrics, an
/// event for a failure not reported yet, and when to look again. Network: the Kubernetes API.
pub async fn publish(
    subject: &Subject<'_>,
    ctx: &Context,
    status: &StatusWriter<'_, ApiToken>,
    result: Result<Outcome, ReconcileError>,
    mark: Option<String>,
) -> Result<Action, ReconcileError> {
    let (token, ns, name) = (subject.token, &subject.namespace, &subject.name);
    let base = status.current();
    let lifetime = subject.lifetime_or_default();
    let record = result.as_ref().ok().and_then(|o| o.record.as_ref());
    let schedule = record.and_then(|r| lifetime::schedule(r, &lifetime));
    let at = Moment {
        generation: subject.generation,
        stamp: &ctx.clock.stamp(),
        policy: ctx.settings.cross_namespace,
    };
    let next = verdict(token, base.clone(), &result, schedule.as_ref(), mark, &at);
    match result {
        Ok(outcome) => {
            ctx.backoff.reset(&subject.uid);
            let times = schedule.as_ref().map(unix_times);
            ctx.metrics.set_schedule(ns, name, times);
            status.write(next).await?;
            let now = ctx.clock.now();
            let verify = ctx.settings.verify_interval;
            let wake = lifetime::next_wake(now, schedule.as_ref(), &outcome.replaced, verify);
            Ok(Action::requeue(wake))
        }
        Err(error) => {
            // The recorded token is still the one in the Secret: its times stay exported, so
            // a replica that has failed ever since it started still shows an overdue renewal.
            let recorded = base.token.as_ref();
            let times = recorded.and_then(|r| lifetime::schedule(r, &lifetime));
            ctx.metrics
                .set_schedule(ns, name, times.as_ref().map(unix_times));
            if let Err(write_error) = status.write(next).await {
                tracing::warn!(error = %write_error, "cannot record the failure in status");
            }
            let note = error.to_string();
            if base.message != note {
                ctx.events.publish(token, true, error.reason(), note).await;
            }
            Err(error)
        }
    }
}

/// When the report is made and what it reports on.
pub struct Moment<'a> {
    /// The ApiToken's generation the reconcile saw.
    pub generation: Option<i64>,
    /// The time, as status writes it.
    pub stamp: &'a str,
    /// Where result Secrets may go.
    pub policy: CrossNamespacePolicy,
}

/// The status after one reconcile: Ready with what the Secret holds, or not Ready with the
/// error's reason. `mark` is the rejected-credentials mark of the settings that were tried.
pub fn verdict(
    token: &ApiToken,
    base: ApiTokenStatus,
    result: &Result<Outcome, ReconcileError>,
    schedule: Option<&Schedule>,
    mark: Option<String>,
    at: &Moment,
) -> ApiTokenStatus {
    let mut next = base;
    let message = match result {
        Ok(outcome) => outcome.message.clone(),
        Err(error) => error.to_string(),
    };
    let verdict = match result {
        Ok(outcome) => {
            next.token = outcome.record.clone();
            next.replaced = outcome.replaced.clone();
            next.exist_in_quay = next.token.as_ref().is_some_and(|r| r.assigned_to.is_none());
            next.pending_mint = None;
            next.rejected_credentials = None;
            next.rotation = rotation_of(token);
            next.secret_name = result_target(token, at.policy).ok().map(|t| t.to_string());
            next.expires_at = schedule.map(|s| stamp_of(s.expires_at));
            next.renew_at = schedule.map(|s| stamp_of(s.renew_at));
            Verdict {
                ready: true,
                reason: "TokenReady",
                message: &message,
            }
        }
        Err(error) => {
            // Quay said no: nothing was minted, so the intent is void. A timeout may have minted.
            if matches!(error, ReconcileError::Quay(q) if !q.is_transient()) {
                next.pending_mint = None;
            }
            if error.is_rejected_sign_in() {
                next.rejected_credentials = mark;
            }
            Verdict {
                ready: false,
                reason: error.reason(),
                message: &message,
            }
        }
    };
    status::with_verdict(next, &verdict, at.generation, at.stamp)
}

/// The status that records a mint about to start, before Quay is asked.
pub fn intent(base: ApiTokenStatus, pending: PendingMint) -> ApiTokenStatus {
    ApiTokenStatus {
        pending_mint: Some(pending),
        ..base
    }
}

/// The status that records a minted token and the tokens it replaces, before the Secret holds it.
pub fn minted(
    token: &ApiToken,
    base: ApiTokenStatus,
    record: TokenRecord,
    replaced: impl IntoIterator<Item = TokenRecord>,
) -> ApiTokenStatus {
    let mut next = base;
    next.replaced.extend(replaced);
    next.token = Some(record);
    next.pending_mint = None;
    next.exist_in_quay = true;
    next.rotation = rotation_of(token);
    next
}

fn rotation_of(token: &ApiToken) -> Option<String> {
    token.annotations().get(ROTATE_ANNOTATION).cloned()
}

/// A schedule's times as the metrics show them: seconds since the epoch.
fn unix_times(schedule: &Schedule) -> (f64, f64) {
    let unix = |t: jiff::Timestamp| t.as_millisecond() as f64 / 1000.0;
    (unix(schedule.expires_at), unix(schedule.renew_at))
}
