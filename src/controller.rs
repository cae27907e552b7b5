//! The kube-rs Controller: ApiTokens, plus the Secrets they reference or own (metadata only).

use crate::context::{Context, CrossNamespacePolicy};
use crate::crd::ApiToken;
use crate::reconcile::{self, inputs_targets};
use futures::{Future, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::ResourceExt;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use std::sync::Arc;

/// Runs the controller over all namespaces (`None`) or the given ones, until `shutdown`.
/// `on_synced` is called once every ApiToken cache has its first full list.
pub async fn run(
    ctx: Arc<Context>,
    namespaces: Option<Vec<String>>,
    concurrency: u16,
    shutdown: impl Future<Output = ()> + Send + Sync + Clone + 'static,
    on_synced: impl FnOnce() + Send + 'static,
) {
    let scopes: Vec<Option<String>> = match namespaces {
        Some(list) if !list.is_empty() => list.into_iter().map(Some).collect(),
        _ => vec![None],
    };
    let mut stores = Vec::new();
    let mut listed = Vec::new();
    let mut runs = Vec::new();
    for scope in scopes {
        let (store, first_list, run) = one(ctx.clone(), scope, concurrency, shutdown.clone());
        stores.push(store);
        listed.push(first_list);
        runs.push(run);
    }
    // Not Store::wait_until_ready: kube's store wakes only the last of concurrent waiters, and
    // the Controller waits on it too, so a second waiter never hears of the first list.
    tokio::spawn(async move {
        for first_list in &mut listed {
            if first_list.wait_for(|done| *done).await.is_err() {
                return;
            }
        }
        on_synced();
    });
    let gauge_stores = stores;
    let gauge_ctx = ctx.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
            update_ready_gauge(&gauge_ctx, &gauge_stores);
        }
    });
    futures::future::join_all(runs).await;
}

/// One Controller for one scope (a namespace, or all of them).
fn one(
    ctx: Arc<Context>,
    scope: Option<String>,
    concurrency: u16,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> (
    Store<ApiToken>,
    tokio::sync::watch::Receiver<bool>,
    impl Future<Output = ()>,
) {
    let (tokens, secrets): (Api<ApiToken>, Api<PartialObjectMeta<Secret>>) = match &scope {
        Some(ns) => (
            Api::namespaced(ctx.client.clone(), ns),
            Api::namespaced(ctx.client.clone(), ns),
        ),
        None => (Api::all(ctx.client.clone()), Api::all(ctx.client.clone())),
    };
    // Our own status writes must not wake the controller again (that is a hot loop on every
    // failure): only spec, annotations (rotate), finalizers and deletion count as changes.
    let (store, writer) = reflector::store::<ApiToken>();
    let (first_list_done, first_list) = tokio::sync::watch::channel(false);
    let changes = watcher(tokens, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(writer)
        .inspect(move |event| {
            if matches!(event, Ok(watcher::Event::InitDone)) {
                first_list_done.send_replace(true);
            }
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
    ctx.peers.register(store.clone(), nudge);
    let controller = Controller::for_stream(changes, store.clone()).reconcile_on(nudged);
    let mapper_store = store.clone();
    // Secret bodies are never cached: only metadata is watched, and data is read on demand.
    let secret_changes =
        watcher(secrets, watcher::Config::default().any_semantic()).touched_objects();
    let run = controller
        .watches_stream(secret_changes, move |meta: PartialObjectMeta<Secret>| {
            apitokens_using(&mapper_store, &meta)
        })
        .with_config(kube::runtime::controller::Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile::reconcile, reconcile::error_policy, ctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(error = %e, "reconcile failed");
            }
        });
    (store, first_list, run)
}

/// Changes when deletion starts (a generation bump may not be guaranteed for every kind).
fn deletion(token: &ApiToken) -> Option<u64> {
    Some(u64::from(token.metadata.deletion_timestamp.is_some()))
}

/// The ApiTokens that reference (connection, client ID) or own (result) this Secret.
fn apitokens_using(
    store: &Store<ApiToken>,
    meta: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<ApiToken>> {
    let ns = meta.namespace().unwrap_or_default();
    let name = meta.name_any();
    let owner_uid = meta
        .labels()
        .get(reconcile::secret::OWNER_UID_LABEL)
        .cloned();
    store
        .state()
        .iter()
        .filter(|token| {
            owner_uid
                .as_deref()
                .is_some_and(|uid| token.uid().as_deref() == Some(uid))
                || inputs_targets(token, CrossNamespacePolicy::Allow)
                    .iter()
                    .any(|t| t.namespace == ns && t.name == name)
        })
        .map(|token| ObjectRef::from_obj(token.as_ref()))
        .collect()
}

fn update_ready_gauge(ctx: &Context, stores: &[Store<ApiToken>]) {
    let (mut ready, mut not_ready) = (0i64, 0i64);
    for store in stores {
        for token in store.state() {
            if reconcile::is_ready(&token) {
                ready += 1;
            } else {
                not_ready += 1;
            }
        }
    }
    ctx.metrics.set_apitokens_ready(ready, not_ready);
}
