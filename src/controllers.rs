//! The controllers of the process: the ApiToken kind's wiring into the generic runner
//! ([`runner`]), and the start of both kinds on the same namespaces, leadership and slots.

pub use crate::stored;

use crate::context::Context;
use crate::controller::slots::Slots;
use crate::crd::{ApiToken, ApiTokenStatus};
use crate::error::ReconcileError;
use crate::reconcile;
use crate::runner::{self, Kind, Parts};
use futures::Future;
use kube::core::ObjectMeta;
use kube::runtime::controller::Action;
use std::sync::Arc;
use std::time::Duration;

/// Runs the controllers over all namespaces (`None`) or the given ones, until `shutdown`.
/// `on_synced` is called once every ApiToken cache has its first full list.
pub async fn run(
    ctx: Arc<Context>,
    namespaces: Option<Vec<String>>,
    concurrency: u16,
    shutdown: impl Future<Output = ()> + Send + Sync + Clone + 'static,
    on_synced: impl FnOnce() + Send + 'static,
) {
    // `--concurrency` bounds the process, however many namespaces it watches, for both kinds.
    let slots = Slots::new(
        concurrency,
        ctx.metrics.waiting_for_mint_lock(),
        ctx.metrics.waiting_for_host_share(),
    );
    let scopes = scopes(namespaces.as_deref());
    let grant_watches = watch_grants(&ctx, &scopes).await;
    let apitokens = runner::run::<ApiToken>(
        ctx.clone(),
        scopes.clone(),
        slots.clone(),
        shutdown.clone(),
        on_synced,
    );
    let applications = crate::application::run(ctx, scopes, slots, shutdown);
    futures::future::join(apitokens, applications).await;
    grant_watches
        .iter()
        .for_each(tokio::task::JoinHandle::abort);
}

/// One scope per watched namespace, or one for all of them: two controllers on one namespace
/// would reconcile each object twice at once.
fn scopes(namespaces: Option<&[String]>) -> Vec<Option<String>> {
    match namespaces {
        Some(list) if !list.is_empty() => {
            let mut list = list.to_vec();
            list.sort();
            list.dedup();
            list.into_iter().map(Some).collect()
        }
        _ => vec![None],
    }
}

/// How long the controllers wait for the first list of ReferenceGrants: a reconcile before it
/// would refuse a granted reference, and flip a Ready ApiToken at every start.
const GRANTS_FIRST_LIST: Duration = Duration::from_secs(30);

/// Under `--cross-namespace-refs=grant`, watches the ReferenceGrants of the watched namespaces
/// and waits for their first list (bounded); nothing under the other policies, which need none.
async fn watch_grants(
    ctx: &Arc<Context>,
    scopes: &[Option<String>],
) -> Vec<tokio::task::JoinHandle<()>> {
    if ctx.settings.cross_namespace != crate::references::CrossNamespacePolicy::Grant {
        return Vec::new();
    }
    let watches = scopes
        .iter()
        .map(|scope| tokio::spawn(ctx.grants.clone().watch(ctx.client.clone(), scope.clone())))
        .collect();
    ctx.grants.wait_loaded(GRANTS_FIRST_LIST).await;
    watches
}

impl Kind for ApiToken {
    type Ctx = Context;
    type Error = ReconcileError;
    const NOTES_ECHOES: bool = true;

    fn parts(ctx: &Context) -> Parts<'_, ApiToken> {
        Parts::new(ctx, &ctx.peers, &ctx.backoff, &ctx.written, &ctx.events)
    }

    fn reconcile(
        token: Arc<ApiToken>,
        ctx: Arc<Context>,
    ) -> impl Future<Output = Result<Action, ReconcileError>> + Send {
        reconcile::reconcile(token, ctx)
    }

    fn error_policy(token: Arc<ApiToken>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
        reconcile::error_policy(token, error, ctx)
    }

    fn set_ready_gauge(ctx: &Context, ready: i64, not_ready: i64) {
        ctx.metrics.set_apitokens_ready(ready, not_ready);
    }

    fn forget(ctx: &Context, meta: &ObjectMeta) {
        ctx.forget(meta.uid.as_deref().unwrap_or_default());
        ctx.metrics.set_schedule(
            meta.namespace.as_deref().unwrap_or_default(),
            meta.name.as_deref().unwrap_or_default(),
            None,
        );
    }

    fn sweep(ctx: &Context) {
        ctx.sweep();
    }

    fn reconcile_finished(ctx: &Context, label: &str, elapsed: Duration) {
        ctx.metrics.reconcile_finished(label, elapsed);
    }

    fn left_in_quay(status: Option<&ApiTokenStatus>) -> String {
        match status.and_then(|s| s.token.as_ref()) {
            Some(record) => format!(
                "Quay token {} of {} on {} stays in Quay; revoke it by hand under that account's authorized applications",
                record.id.as_deref().unwrap_or("(id unknown)"),
                record.username,
                record.host
            ),
            None => "any token it held stays in Quay".to_string(),
        }
    }
}
