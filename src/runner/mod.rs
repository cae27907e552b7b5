//! One controller for any [`Kind`]: per watched scope, the watch of the kind (reflected into a
//! cache, indexed by the Secrets each object names, filtered to the changes that matter), the
//! metadata watch of Secrets mapped through that index, nudges, the first-list signal, the
//! housekeeping of memory and the ready gauge, and every reconcile in the process's slots.
//! Each kind wires itself in (`crate::controller` for ApiTokens, `crate::application` for
//! Applications); this module knows neither.

pub mod kind;
mod malformed;

pub use kind::{Kind, Parts};

use crate::controller::peers::ScopeId;
use crate::controller::slots::Slots;
use crate::object_error::KindError;
use crate::reference_grants::Change;
use crate::stored::Stored;
use futures::{Future, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Action, Config, Controller};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use kube::{Resource, ResourceExt};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How often the ready gauge is refreshed and memory is checked against the caches.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(10);
/// Least time between two sweeps, however many objects are deleted meanwhile: each sweep
/// reads every cache once.
const SWEEP_SPACING: Duration = Duration::from_secs(1);
/// Reconciles a controller starts per slot: the rest wait in its queue, where they cost nothing.
pub(crate) const QUEUED_PER_SLOT: u16 = 2;

/// Runs the controllers of kind `K` over `scopes` (namespaces, or `None` for all) in `slots`,
/// until `shutdown`. `on_synced` is called once every cache has its first full list.
pub async fn run<K: Kind>(
    ctx: Arc<K::Ctx>,
    scopes: Vec<Option<String>>,
    slots: Slots,
    shutdown: impl Future<Output = ()> + Send + Sync + Clone + 'static,
    on_synced: impl FnOnce() + Send + 'static,
) {
    let gone = Arc::new(Notify::new());
    let mut listed = Vec::new();
    let mut runs = Vec::new();
    for scope in scopes {
        let (first_list, run) = one::<K>(
            ctx.clone(),
            scope,
            slots.clone(),
            shutdown.clone(),
            gone.clone(),
        );
        listed.push(first_list);
        runs.push(run);
    }
    // Not Store::wait_until_ready: kube's store wakes only the last of concurrent waiters, and
    // the Controller waits on it too, so a second waiter never hears of the first list.
    let mut synced = listed.clone();
    let synced_ctx = ctx.clone();
    let synced = tokio::spawn(async move {
        for first_list in &mut synced {
            if first_list.wait_for(|done| *done).await.is_err() {
                return;
            }
        }
        K::peers(&synced_ctx).set_synced();
        on_synced();
    });
    let housekeeping = tokio::spawn(housekeeping::<K>(ctx.clone(), listed, gone));
    let regrant = tokio::spawn(on_grant_changes::<K>(ctx.clone()));
    futures::future::join_all(runs).await;
    // They hold the caches and the context: they must not outlive the controllers.
    housekeeping.abort();
    synced.abort();
    regrant.abort();
}

/// Reconciles the objects whose references a change of ReferenceGrants may allow or refuse:
/// those naming a Secret of that namespace (all cross-namespace ones when the API itself came
/// or went).
async fn on_grant_changes<K: Kind>(ctx: Arc<K::Ctx>) {
    use tokio::sync::broadcast::error::RecvError;
    let mut changes = K::base(&ctx).grants.subscribe();
    loop {
        let change = match changes.recv().await {
            Ok(change) => change,
            Err(RecvError::Lagged(_)) => Change::All,
            Err(RecvError::Closed) => return,
        };
        K::peers(&ctx).nudge_referring(&change);
    }
}

/// Refreshes the ready gauge, and drops memory about objects that have gone: soon after a
/// deletion or a relist, and at every interval.
async fn housekeeping<K: Kind>(
    ctx: Arc<K::Ctx>,
    listed: Vec<tokio::sync::watch::Receiver<bool>>,
    gone: Arc<Notify>,
) {
    let mut tick = tokio::time::interval(HOUSEKEEPING_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => update_ready_gauge::<K>(&ctx),
            () = gone.notified() => {}
        }
        // Before its first list a cache is empty, which would look like every object gone.
        if listed.iter().all(|first_list| *first_list.borrow()) {
            K::sweep(&ctx);
        }
        tokio::time::sleep(SWEEP_SPACING).await;
    }
}

fn update_ready_gauge<K: Kind>(ctx: &K::Ctx) {
    let (mut ready, mut not_ready) = (0i64, 0i64);
    for stored in K::peers(ctx).stored() {
        if stored.valid().is_some_and(|object| object.is_ready()) {
            ready += 1;
        } else {
            not_ready += 1;
        }
    }
    K::set_ready_gauge(ctx, ready, not_ready);
}

/// One Controller for one scope (a namespace, or all of them).
fn one<K: Kind>(
    ctx: Arc<K::Ctx>,
    scope: Option<String>,
    slots: Slots,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
    gone: Arc<Notify>,
) -> (tokio::sync::watch::Receiver<bool>, impl Future<Output = ()>) {
    let client = K::base(&ctx).client.clone();
    // Not Api<K>: kube fails a whole list or watch on one object that does not deserialize,
    // and every object would stall behind it. Stored never fails.
    let (objects, secrets): (Api<Stored<K>>, Api<PartialObjectMeta<Secret>>) = match &scope {
        Some(ns) => (
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client, ns),
        ),
        None => (Api::all(client.clone()), Api::all(client)),
    };
    let (store, writer) = reflector::store::<Stored<K>>();
    let (first_list_done, first_list) = tokio::sync::watch::channel(false);
    let (nudge, nudged) = futures::channel::mpsc::unbounded();
    let scope_id = K::peers(&ctx).register(store.clone(), nudge);
    let watch_ctx = ctx.clone();
    // Our own status writes must not wake the controller again (that is a hot loop on every
    // failure): only spec, annotations (rotate), finalizers and deletion count as changes.
    let changes = watcher(objects, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(writer)
        .inspect(move |event| {
            let peers = K::peers(&watch_ctx);
            match event {
                Ok(watcher::Event::Apply(object) | watcher::Event::InitApply(object)) => {
                    peers.index_put(scope_id, object);
                }
                Ok(watcher::Event::InitDone) => {
                    first_list_done.send_replace(true);
                    // A relist drops objects deleted meanwhile without a Delete event.
                    peers.index_rebuild(scope_id);
                    gone.notify_one();
                }
                Ok(watcher::Event::Delete(object)) => {
                    peers.index_remove(&object.uid().unwrap_or_default());
                    K::forget(&watch_ctx, object.meta());
                    gone.notify_one();
                }
                _ => {}
            }
        })
        .applied_objects()
        .predicate_filter(
            predicates::generation
                .combine(predicates::annotations)
                .combine(predicates::finalizers)
                .combine(deletion::<K>),
            Default::default(),
        );
    // Timers were set on the old time when a test moves the clock: look at everything again.
    let jumps = futures::stream::unfold(K::base(&ctx).clock.jumps(), |mut jumps| async move {
        jumps.changed().await.ok()?;
        Some(((), jumps))
    });
    let mapper_ctx = ctx.clone();
    // Secret bodies are never cached: only metadata is watched, and data is read on demand.
    let secret_changes =
        watcher(secrets, watcher::Config::default().any_semantic()).touched_objects();
    let peers_ctx = ctx.clone();
    let run = Controller::for_stream(changes, store)
        .reconcile_on(nudged)
        .reconcile_all_on(jumps)
        .watches_stream(secret_changes, move |meta: PartialObjectMeta<Secret>| {
            users::<K>(&mapper_ctx, scope_id, &meta)
        })
        // The slots bound the reconciles at work. More may be started, so that those waiting
        // for an account's mint lock leave their slots to other accounts' mints; twice the
        // slots is enough for that without a future held for every queued object (memory:
        // four times cost 1 MiB more at 1 000 queued, for no measurable gain).
        .with_config(Config::default().concurrency(slots.limit().saturating_mul(QUEUED_PER_SLOT)))
        .graceful_shutdown_on(shutdown)
        .run(
            move |object, ctx| {
                let slots = slots.clone();
                async move { slots.run(|| reconcile_stored::<K>(object, ctx)).await }
            },
            error_policy::<K>,
            ctx,
        )
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(kind = %K::kind(&()), error = %e, "reconcile failed");
            }
        });
    let run = async move {
        run.await;
        K::peers(&peers_ctx).unregister(scope_id);
    };
    (first_list, run)
}

/// Reconciles a valid object, or reports one that does not deserialize.
async fn reconcile_stored<K: Kind>(
    object: Arc<Stored<K>>,
    ctx: Arc<K::Ctx>,
) -> Result<Action, K::Error> {
    match object.as_ref() {
        Stored::Valid(object) => K::reconcile(object.clone(), ctx).await,
        Stored::Malformed(object) => {
            let started = Instant::now();
            let _at_work = K::base(&ctx).metrics.reconcile_started();
            let result = malformed::reconcile(object, &ctx).await;
            let label = match &result {
                Ok(_) => malformed::REASON,
                Err(e) => e.reason(),
            };
            K::reconcile_finished(&ctx, label, started.elapsed());
            result
        }
    }
}

fn error_policy<K: Kind>(object: Arc<Stored<K>>, error: &K::Error, ctx: Arc<K::Ctx>) -> Action {
    match object.as_ref() {
        Stored::Valid(object) => K::error_policy(object.clone(), error, ctx),
        Stored::Malformed(object) => malformed::error_policy(object, error, &ctx),
    }
}

/// Changes when deletion starts (a generation bump may not be guaranteed for every kind).
fn deletion<K: Kind>(object: &Stored<K>) -> Option<u64> {
    Some(u64::from(object.meta().deletion_timestamp.is_some()))
}

/// The objects of this scope that reference or own (by the owner label) this Secret, from the
/// index: work in proportion to them, not to every object. Those of other watched namespaces
/// are woken through their own controllers: each scope watches only its namespace's Secrets,
/// so no other scope sees this change.
fn users<K: Kind>(
    ctx: &K::Ctx,
    scope: ScopeId,
    meta: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<Stored<K>>> {
    let target = crate::target::Target {
        namespace: meta.namespace().unwrap_or_default(),
        name: meta.name_any(),
    };
    let owner = meta.labels().get(crate::reconcile::secret::OWNER_UID_LABEL);
    // The version our own write left: the object that wrote it saw it already.
    let writer = if K::NOTES_ECHOES {
        let version = meta.resource_version().unwrap_or_default();
        K::base(ctx)
            .own_writes
            .echo_of((&target.namespace, &target.name), &version)
    } else {
        None
    };
    let peers = K::peers(ctx);
    let mut mine = Vec::new();
    for (found_in, reference) in peers.users_of(&target, owner.map(String::as_str)) {
        if writer.as_ref().is_some_and(|w| {
            reference.namespace.as_deref() == Some(w.namespace.as_str()) && reference.name == w.name
        }) {
            continue;
        }
        if found_in == scope {
            mine.push(reference);
        } else {
            peers.nudge_in(found_in, reference);
        }
    }
    mine
}
