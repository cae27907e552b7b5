//! The kube-rs Controller: ApiTokens, plus the Secrets they reference or own (metadata only).

mod malformed;
pub use crate::stored;

use crate::context::Context;
use crate::error::ReconcileError;
use crate::peers::ScopeId;
use crate::reconcile;
use crate::slots::Slots;
use futures::{Future, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use kube::{Resource, ResourceExt};
use std::sync::Arc;
use std::time::Duration;
use stored::StoredToken;
use tokio::sync::Notify;

/// How often the ready gauge is refreshed and memory is checked against the caches.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(10);
/// Least time between two sweeps, however many ApiTokens are deleted meanwhile: each sweep
/// reads every cache once.
const SWEEP_SPACING: Duration = Duration::from_secs(1);

/// Runs the controller over all namespaces (`None`) or the given ones, until `shutdown`.
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
    let grant_watches = watch_grants(&ctx, namespaces.as_deref()).await;
    // The Application controller runs beside, on the same namespaces, leadership and slots.
    let applications = crate::application::run(
        ctx.clone(),
        namespaces.clone(),
        slots.clone(),
        shutdown.clone(),
    );
    let scopes: Vec<Option<String>> = match namespaces {
        Some(mut list) if !list.is_empty() => {
            // Two controllers on one namespace would reconcile each ApiToken twice at once.
            list.sort();
            list.dedup();
            list.into_iter().map(Some).collect()
        }
        _ => vec![None],
    };
    let gone = Arc::new(Notify::new());
    let mut stores = Vec::new();
    let mut listed = Vec::new();
    let mut runs = Vec::new();
    for scope in scopes {
        let (store, first_list, run) = one(
            ctx.clone(),
            scope,
            slots.clone(),
            shutdown.clone(),
            gone.clone(),
        );
        stores.push(store);
        listed.push(first_list);
        runs.push(run);
    }
    // Not Store::wait_until_ready: kube's store wakes only the last of concurrent waiters, and
    // the Controller waits on it too, so a second waiter never hears of the first list.
    let mut synced = listed.clone();
    let peers_ctx = ctx.clone();
    let synced = tokio::spawn(async move {
        for first_list in &mut synced {
            if first_list.wait_for(|done| *done).await.is_err() {
                return;
            }
        }
        peers_ctx.peers.set_synced();
        on_synced();
    });
    let housekeeping = tokio::spawn(housekeeping(ctx.clone(), stores, listed, gone));
    let regrant = tokio::spawn(apitokens_on_grant_changes(ctx.clone()));
    futures::future::join(futures::future::join_all(runs), applications).await;
    // They hold the caches and the context: they must not outlive the controllers.
    housekeeping.abort();
    synced.abort();
    regrant.abort();
    grant_watches
        .iter()
        .for_each(tokio::task::JoinHandle::abort);
}

/// How long the controllers wait for the first list of ReferenceGrants: a reconcile before it
/// would refuse a granted reference, and flip a Ready ApiToken at every start.
const GRANTS_FIRST_LIST: Duration = Duration::from_secs(30);

/// Under `--cross-namespace-refs=grant`, watches the ReferenceGrants of the watched namespaces
/// and waits for their first list (bounded); nothing under the other policies, which need none.
async fn watch_grants(
    ctx: &Arc<Context>,
    namespaces: Option<&[String]>,
) -> Vec<tokio::task::JoinHandle<()>> {
    if ctx.settings.cross_namespace != crate::references::CrossNamespacePolicy::Grant {
        return Vec::new();
    }
    let scopes: Vec<Option<String>> = match namespaces {
        Some(list) if !list.is_empty() => {
            let mut list = list.to_vec();
            list.sort();
            list.dedup();
            list.into_iter().map(Some).collect()
        }
        _ => vec![None],
    };
    let watches = scopes
        .into_iter()
        .map(|scope| tokio::spawn(ctx.grants.clone().watch(ctx.client.clone(), scope)))
        .collect();
    ctx.grants.wait_loaded(GRANTS_FIRST_LIST).await;
    watches
}

/// Reconciles the ApiTokens whose references a change of ReferenceGrants may allow or refuse:
/// those naming a Secret of that namespace (all cross-namespace ones when the API itself came
/// or went).
async fn apitokens_on_grant_changes(ctx: Arc<Context>) {
    use tokio::sync::broadcast::error::RecvError;
    let mut changes = ctx.grants.subscribe();
    loop {
        let change = match changes.recv().await {
            Ok(change) => change,
            Err(RecvError::Lagged(_)) => crate::reference_grants::Change::All,
            Err(RecvError::Closed) => return,
        };
        ctx.peers.nudge_referring(&change);
    }
}

/// Refreshes the ready gauge, and drops memory about ApiTokens that have gone: soon after a
/// deletion or a relist, and at every interval.
async fn housekeeping(
    ctx: Arc<Context>,
    stores: Vec<Store<StoredToken>>,
    listed: Vec<tokio::sync::watch::Receiver<bool>>,
    gone: Arc<Notify>,
) {
    let mut tick = tokio::time::interval(HOUSEKEEPING_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => update_ready_gauge(&ctx, &stores),
            () = gone.notified() => {}
        }
        // Before its first list a cache is empty, which would look like every ApiToken gone.
        if listed.iter().all(|first_list| *first_list.borrow()) {
            ctx.sweep();
        }
        tokio::time::sleep(SWEEP_SPACING).await;
    }
}

/// Reconciles a controller starts per slot: the rest wait in its queue, where they cost nothing.
pub(crate) const QUEUED_PER_SLOT: u16 = 2;

/// One Controller for one scope (a namespace, or all of them).
fn one(
    ctx: Arc<Context>,
    scope: Option<String>,
    slots: Slots,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
    gone: Arc<Notify>,
) -> (
    Store<StoredToken>,
    tokio::sync::watch::Receiver<bool>,
    impl Future<Output = ()>,
) {
    // Not Api<ApiToken>: kube fails a whole list or watch on one object that does not
    // deserialize, and every ApiToken would stall behind it. StoredToken never fails.
    let (tokens, secrets): (Api<StoredToken>, Api<PartialObjectMeta<Secret>>) = match &scope {
        Some(ns) => (
            Api::namespaced(ctx.client.clone(), ns),
            Api::namespaced(ctx.client.clone(), ns),
        ),
        None => (Api::all(ctx.client.clone()), Api::all(ctx.client.clone())),
    };
    // Our own status writes must not wake the controller again (that is a hot loop on every
    // failure): only spec, annotations (rotate), finalizers and deletion count as changes.
    let (store, writer) = reflector::store::<StoredToken>();
    let (first_list_done, first_list) = tokio::sync::watch::channel(false);
    let (nudge, nudged) = futures::channel::mpsc::unbounded();
    let scope_id = ctx.peers.register(store.clone(), nudge);
    let forget_ctx = ctx.clone();
    let changes = watcher(tokens, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(writer)
        .inspect(move |event| match event {
            Ok(watcher::Event::Apply(token) | watcher::Event::InitApply(token)) => {
                forget_ctx.peers.index_put(scope_id, token);
            }
            Ok(watcher::Event::InitDone) => {
                first_list_done.send_replace(true);
                // A relist drops objects deleted meanwhile without a Delete event.
                forget_ctx.peers.index_rebuild(scope_id);
                gone.notify_one();
            }
            Ok(watcher::Event::Delete(token)) => {
                forget_ctx
                    .peers
                    .index_remove(&token.uid().unwrap_or_default());
                forget_ctx.forget(&token.uid().unwrap_or_default());
                forget_ctx.metrics.set_schedule(
                    &token.namespace().unwrap_or_default(),
                    &token.name_any(),
                    None,
                );
                gone.notify_one();
            }
            _ => {}
        })
        .applied_objects()
        .predicate_filter(
            predicates::generation
                .combine(predicates::annotations)
                .combine(predicates::finalizers)
                .combine(deletion),
            Default::default(),
        );
    // Timers were set on the old time when a test moves the clock: look at everything again.
    let jumps = futures::stream::unfold(ctx.clock.jumps(), |mut jumps| async move {
        jumps.changed().await.ok()?;
        Some(((), jumps))
    });
    let controller = Controller::for_stream(changes, store.clone())
        .reconcile_on(nudged)
        .reconcile_all_on(jumps);
    let mapper_ctx = ctx.clone();
    // Secret bodies are never cached: only metadata is watched, and data is read on demand.
    let secret_changes =
        watcher(secrets, watcher::Config::default().any_semantic()).touched_objects();
    let peers_ctx = ctx.clone();
    let run = controller
        .watches_stream(secret_changes, move |meta: PartialObjectMeta<Secret>| {
            apitokens_using(&mapper_ctx, scope_id, &meta)
        })
        // The slots bound the reconciles at work. More may be started, so that those waiting
        // for an account's mint lock leave their slots to other accounts' mints; twice the
        // slots is enough for that without a future held for every queued ApiToken (memory:
        // four times cost 1 MiB more at 1 000 queued, for no measurable gain).
        .with_config(
            kube::runtime::controller::Config::default()
                .concurrency(slots.limit().saturating_mul(QUEUED_PER_SLOT)),
        )
        .graceful_shutdown_on(shutdown)
        .run(
            move |token, ctx| {
                let slots = slots.clone();
                async move { slots.run(|| reconcile_stored(token, ctx)).await }
            },
            error_policy,
            ctx,
        )
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(error = %e, "reconcile failed");
            }
        });
    let run = async move {
        run.await;
        peers_ctx.peers.unregister(scope_id);
    };
    (store, first_list, run)
}

/// Reconciles a valid ApiToken, or reports one that does not deserialize.
async fn reconcile_stored(
    token: Arc<StoredToken>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    match token.as_ref() {
        StoredToken::Valid(token) => reconcile::reconcile(token.clone(), ctx).await,
        StoredToken::Malformed(token) => malformed::reconcile(token, &ctx).await,
    }
}

fn error_policy(token: Arc<StoredToken>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    match token.as_ref() {
        StoredToken::Valid(token) => reconcile::error_policy(token.clone(), error, ctx),
        StoredToken::Malformed(token) => malformed::error_policy(token, error, &ctx),
    }
}

/// Changes when deletion starts (a generation bump may not be guaranteed for every kind).
fn deletion(token: &StoredToken) -> Option<u64> {
    Some(u64::from(token.meta().deletion_timestamp.is_some()))
}

/// The ApiTokens of this scope that reference (connection, client ID) or own (result) this
/// Secret, from the index: work in proportion to them, not to every ApiToken. Those of other
/// watched namespaces are woken through their own controllers: each scope watches only its
/// namespace's Secrets, so no other scope sees this change.
fn apitokens_using(
    ctx: &Context,
    scope: ScopeId,
    meta: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<StoredToken>> {
    let target = crate::reconcile::secret::Target {
        namespace: meta.namespace().unwrap_or_default(),
        name: meta.name_any(),
    };
    let owner = meta.labels().get(reconcile::secret::OWNER_UID_LABEL);
    // The version our own write left: the ApiToken that wrote it saw it already.
    let version = meta.resource_version().unwrap_or_default();
    let writer = ctx
        .own_writes
        .echo_of((&target.namespace, &target.name), &version);
    let mut mine = Vec::new();
    for (found_in, reference) in ctx.peers.users_of(&target, owner.map(String::as_str)) {
        if writer.as_ref().is_some_and(|w| {
            reference.namespace.as_deref() == Some(w.namespace.as_str()) && reference.name == w.name
        }) {
            continue;
        }
        if found_in == scope {
            mine.push(reference);
        } else {
            ctx.peers.nudge_in(found_in, reference);
        }
    }
    mine
}

fn update_ready_gauge(ctx: &Context, stores: &[Store<StoredToken>]) {
    let (mut ready, mut not_ready) = (0i64, 0i64);
    for store in stores {
        for stored in store.state() {
            if stored
                .valid()
                .is_some_and(|token| reconcile::is_ready(token))
            {
                ready += 1;
            } else {
                not_ready += 1;
            }
        }
    }
    ctx.metrics.set_apitokens_ready(ready, not_ready);
}
