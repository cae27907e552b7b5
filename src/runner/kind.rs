//! What the generic controller needs to know of one kind: how to reconcile it, what to do after a
//! failure, where its caches, memory and events live, and how a malformed one is reported.

use crate::context::Context;
use crate::controller::backoff::Backoff;
use crate::controller::peers::Peers;
use crate::events::EventRecorder;
use crate::object_error::KindError;
use crate::owned::{OwnedStatus, Verdict, Written};
use crate::stored::StoredKind;
use kube::core::object::HasStatus;
use kube::runtime::controller::Action;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// One kind the operator reconciles (ApiToken, Application).
pub trait Kind:
    StoredKind
    + HasStatus<Status: OwnedStatus>
    + kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
{
    /// What its reconciles share.
    type Ctx: Send + Sync + 'static;
    /// Why one of its reconciles failed.
    type Error: KindError;

    /// Where its state is in its context.
    fn parts(ctx: &Self::Ctx) -> Parts<'_, Self>;

    /// The operator's context under the kind's own.
    fn base(ctx: &Self::Ctx) -> &Context {
        Self::parts(ctx).base
    }

    /// The caches, Secret index and wake-up channels of its controller scopes.
    fn peers(ctx: &Self::Ctx) -> &Peers<Self> {
        Self::parts(ctx).peers
    }

    /// Its per-object backoff.
    fn backoff(ctx: &Self::Ctx) -> &Backoff {
        Self::parts(ctx).backoff
    }

    /// Reconciles one valid object.
    fn reconcile(
        object: Arc<Self>,
        ctx: Arc<Self::Ctx>,
    ) -> impl Future<Output = Result<Action, Self::Error>> + Send;

    /// What to do after a failed reconcile of a valid object.
    fn error_policy(object: Arc<Self>, error: &Self::Error, ctx: Arc<Self::Ctx>) -> Action;

    /// Whether the Secret writes of its reconciles are noted as echoes ([`crate::controller::own_writes`]), so
    /// that their watch events wake nobody.
    const NOTES_ECHOES: bool;

    /// Whether a valid object is Ready, for the ready gauge.
    fn is_ready(&self) -> bool {
        crate::owned::status::is_ready(self.status())
    }

    /// Sets the ready gauge.
    fn set_ready_gauge(ctx: &Self::Ctx, ready: i64, not_ready: i64);

    /// Drops what memory holds about an object the watch saw deleted.
    fn forget(ctx: &Self::Ctx, meta: &kube::core::ObjectMeta);

    /// Drops what memory holds about objects no cache holds any more.
    fn sweep(ctx: &Self::Ctx);

    /// Counts one finished reconcile with its result label.
    fn reconcile_finished(ctx: &Self::Ctx, label: &str, elapsed: Duration);

    /// What this process wrote about objects of the kind, and which it cleaned up after.
    fn written(ctx: &Self::Ctx) -> &Written<Self::Status> {
        Self::parts(ctx).written
    }

    /// `status` with a not-Ready verdict of `reason` and `message` for `generation`.
    fn with_failure(
        status: Self::Status,
        reason: &str,
        message: &str,
        generation: Option<i64>,
    ) -> Self::Status {
        let verdict = Verdict {
            ready: false,
            reason,
            message,
        };
        let now = crate::clock::stamp_of(jiff::Timestamp::now());
        crate::owned::status::with_verdict(status, &verdict, generation, &now)
    }

    /// What stays in Quay when an object is released without cleanup, from its status.
    fn left_in_quay(status: Option<&Self::Status>) -> String;

    /// Publishes a Warning event about `object`.
    fn warn(
        ctx: &Self::Ctx,
        object: &Self,
        reason: &str,
        note: String,
    ) -> impl Future<Output = ()> + Send {
        Self::parts(ctx).events.publish(object, true, reason, note)
    }
}

/// Where the controller finds a kind's state in the kind's context.
pub struct Parts<'a, K: Kind> {
    /// The operator's context under the kind's own.
    pub base: &'a Context,
    /// The caches, Secret index and wake-up channels of its controller scopes.
    pub peers: &'a Peers<K>,
    /// Its per-object backoff.
    pub backoff: &'a Backoff,
    /// What this process wrote about objects of the kind, and which it cleaned up after.
    pub written: &'a Written<K::Status>,
    /// Where its events are published and their repeats folded.
    pub events: &'a EventRecorder,
}

impl<'a, K: Kind> Parts<'a, K> {
    /// The kind's state: the operator's context, its caches, backoff, written statuses and events.
    pub fn new(
        base: &'a Context,
        peers: &'a Peers<K>,
        backoff: &'a Backoff,
        written: &'a Written<K::Status>,
        events: &'a EventRecorder,
    ) -> Self {
        Parts {
            base,
            peers,
            backoff,
            written,
            events,
        }
    }
}
