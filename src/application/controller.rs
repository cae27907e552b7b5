//! The kube-rs Controller for Applications, plus the Secrets they reference or own (metadata
//! only), on the same namespaces as the ApiToken controller.

use super::context::{AppContext, Stored};
use super::crd::Application;
use super::reconcile::{error_policy, reconcile};
use super::{inputs, status};
use crate::context::Context;
use crate::reconcile::secret::OWNER_UID_LABEL;
use crate::slots::Slots;
use futures::{Future, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Config, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use kube::{Resource, ResourceExt};
use std::sync::Arc;
use std::time::Duration;

/// How often the ready gauge is refreshed and memory is checked against the caches.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(10);

/// Runs the Application controller over all namespaces (`None`) or the given ones, until
/// `shutdown`, in the process's `slots` (shared with the ApiToken controller).
pub async fn run(
    ctx: Arc<Context>,
    namespaces: Option<Vec<String>>,
    slots: Slots,
    shutdown: impl Future<Output = ()> + Send + Sync + Clone + 'static,
) {
    let ctx = Arc::new(AppContext::new(ctx));
    let scopes: Vec<Option<String>> = match namespaces {
        Some(mut list) if !list.is_empty() => {
            list.sort();
            list.dedup();
            list.into_iter().map(Some).collect()
        }
        _ => vec![None],
    };
    let mut listed = Vec::new();
    let mut runs = Vec::new();
    for scope in scopes {
        let (first_list, run) = one(ctx.clone(), scope, slots.clone(), shutdown.clone());
        listed.push(first_list);
        runs.push(run);
    }
    let housekeeping = tokio::spawn(housekeeping(ctx.clone(), listed));
    let regrant = tokio::spawn(on_grant_changes(ctx.clone()));
    futures::future::join_all(runs).await;
    housekeeping.abort();
    regrant.abort();
}

/// Reconciles the Applications that name a Secret of a namespace whose ReferenceGrants
/// changed (every cross-namespace one when the API itself came or went).
async fn on_grant_changes(ctx: Arc<AppContext>) {
    use crate::reference_grants::Change;
    use tokio::sync::broadcast::error::RecvError;
    let mut changes = ctx.base.grants.subscribe();
    loop {
        let change = match changes.recv().await {
            Ok(change) => change,
            Err(RecvError::Lagged(_)) => Change::All,
            Err(RecvError::Closed) => return,
        };
        ctx.nudge(|app| {
            let own = app.namespace().unwrap_or_default();
            inputs::targets(app).iter().any(|t| {
                t.namespace != own
                    && match &change {
                        Change::Namespace(ns) => t.namespace == *ns,
                        Change::All => true,
                    }
            })
        });
    }
}

/// Refreshes the ready gauge and drops memory about Applications that have gone.
async fn housekeeping(ctx: Arc<AppContext>, listed: Vec<tokio::sync::watch::Receiver<bool>>) {
    let mut tick = tokio::time::interval(HOUSEKEEPING_INTERVAL);
    loop {
        tick.tick().await;
        let all = ctx.all();
        let ready = all
            .iter()
            .filter(|s| {
                s.0.as_ref()
                    .is_ok_and(|a| status::is_ready(a.status.as_ref()))
            })
            .count();
        let ready = i64::try_from(ready).unwrap_or(i64::MAX);
        let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
        ctx.base
            .metrics
            .set_applications_ready(ready, total.saturating_sub(ready));
        // Before its first list a cache is empty, which would look like every one gone.
        if listed.iter().all(|first| *first.borrow()) {
            let live = ctx.live_uids();
            ctx.backoff.retain(|uid| live.contains(uid));
            ctx.written.retain(|uid| live.contains(uid));
            ctx.events.prune(|uid| live.contains(uid));
        }
    }
}

/// One Controller for one scope (a namespace, or all of them).
fn one(
    ctx: Arc<AppContext>,
    scope: Option<String>,
    slots: Slots,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> (tokio::sync::watch::Receiver<bool>, impl Future<Output = ()>) {
    let client = ctx.base.client.clone();
    // DeserializeGuard: one Application that does not deserialize must not fail the whole
    // list or watch, and with it every other Application.
    let (apps, secrets): (Api<Stored>, Api<PartialObjectMeta<Secret>>) = match &scope {
        Some(ns) => (
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client, ns),
        ),
        None => (Api::all(client.clone()), Api::all(client)),
    };
    let (store, writer) = reflector::store::<Stored>();
    let (first_list_done, first_list) = tokio::sync::watch::channel(false);
    let forget = ctx.clone();
    // Our own status writes must not wake the controller (a hot loop on every failure): only
    // spec, annotations, finalizers and deletion count as changes.
    let changes = watcher(apps, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(writer)
        .inspect(move |event| match event {
            Ok(watcher::Event::InitDone) => {
                first_list_done.send_replace(true);
            }
            Ok(watcher::Event::Delete(app)) => {
                forget.backoff.reset(&app.uid().unwrap_or_default());
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
    let (nudge, nudged) = futures::channel::mpsc::unbounded();
    ctx.register(store.clone(), nudge);
    let mapper_ctx = ctx.clone();
    let mapper_store = store.clone();
    // Secret bodies are never cached: only metadata is watched, data is read on demand.
    let secret_changes =
        watcher(secrets, watcher::Config::default().any_semantic()).touched_objects();
    let run = Controller::for_stream(changes, store)
        .reconcile_on(nudged)
        .watches_stream(secret_changes, move |meta: PartialObjectMeta<Secret>| {
            applications_using(&mapper_ctx, &mapper_store, &meta)
        })
        // The slots bound the reconciles at work, as for ApiTokens (see `crate::controller`).
        .with_config(
            Config::default().concurrency(
                slots
                    .limit()
                    .saturating_mul(crate::controller::QUEUED_PER_SLOT),
            ),
        )
        .graceful_shutdown_on(shutdown)
        .run(
            move |app, ctx| {
                let slots = slots.clone();
                async move { slots.run(|| reconcile(app, ctx)).await }
            },
            error_policy,
            ctx,
        )
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(error = %e, "application reconcile failed");
            }
        });
    (first_list, run)
}

/// Changes when deletion starts.
fn deletion(app: &Stored) -> Option<u64> {
    Some(u64::from(app.meta().deletion_timestamp.is_some()))
}

/// The Applications of this scope that reference or own the Secret `meta`; those of other
/// watched namespaces are woken through their own controllers.
fn applications_using(
    ctx: &AppContext,
    store: &Store<Stored>,
    meta: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<Stored>> {
    let ns = meta.namespace().unwrap_or_default();
    let name = meta.name_any();
    let owner = meta.labels().get(OWNER_UID_LABEL).cloned();
    let uses = |app: &Application| {
        owner
            .as_deref()
            .is_some_and(|uid| app.uid().as_deref() == Some(uid))
            || inputs::targets(app)
                .iter()
                .any(|t| t.namespace == ns && t.name == name)
    };
    let mine: Vec<ObjectRef<Stored>> = store
        .state()
        .iter()
        .filter(|stored| stored.0.as_ref().is_ok_and(uses))
        .map(|stored| ObjectRef::from_obj(stored.as_ref()))
        .collect();
    // A scope watches only its namespace's Secrets: the Applications of other namespaces
    // that use this one are woken through their own scopes.
    ctx.nudge(|app| app.namespace().as_deref() != Some(ns.as_str()) && uses(app));
    mine
}
