//! Waits on Kubernetes objects that, when they time out, say what the object looked like and
//! what its namespace's events said: a bare "timed out" leaves a failing CI run unexplained.
//!
//! Statuses and events never hold a secret value (the operator's own rule), so both may go
//! into a panic message whole.

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::events::v1::Event;
use kube::api::Api;
use kube::{Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::{Debug, Write};
use std::time::{Duration, Instant};

/// How many of the newest events a dump lists; a namespace of 30 failing ApiTokens has more.
const EVENTS_SHOWN: usize = 60;

/// Polls `check` until it returns Some; after `limit`, panics naming `what` and adding the
/// text `dump` makes at that moment.
pub async fn wait_or_dump<T, F, Fut, D, DFut>(
    limit: Duration,
    what: &str,
    mut check: F,
    dump: D,
) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
    D: FnOnce() -> DFut,
    DFut: Future<Output = String>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if started.elapsed() > limit {
            let report = dump().await;
            panic!("timed out after {limit:?} waiting for {what}\n{report}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A namespaced kind that the waits can read and print.
pub trait Namespaced:
    Resource<Scope = NamespaceResourceScope, DynamicType = ()>
    + Clone
    + Debug
    + DeserializeOwned
    + Serialize
{
}

impl<K> Namespaced for K where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + Debug
        + DeserializeOwned
        + Serialize
{
}

/// Polls the object `namespace/name` of kind `K` until `check` accepts what it reads (None:
/// the object does not exist); on timeout the panic shows the object's status and the
/// namespace's events. A failed read counts as "not seen yet".
pub async fn wait_for_object<K, T>(
    client: &Client,
    namespace: &str,
    name: &str,
    limit: Duration,
    what: &str,
    mut check: impl FnMut(Option<K>) -> Option<T>,
) -> T
where
    K: Namespaced,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let started = Instant::now();
    loop {
        if let Ok(found) = api.get_opt(name).await
            && let Some(v) = check(found)
        {
            return v;
        }
        if started.elapsed() > limit {
            let kind = K::kind(&());
            let report = describe::<K>(client, namespace, name).await;
            panic!(
                "timed out after {limit:?} waiting for {kind} {namespace}/{name}: {what}\n{report}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The object's metadata that matters to a wait, its status, and the namespace's events.
pub async fn describe<K>(client: &Client, namespace: &str, name: &str) -> String
where
    K: Namespaced,
{
    format!(
        "{}\n{}",
        object_state::<K>(client, namespace, name).await,
        namespace_events(client, namespace).await
    )
}

/// One line of the object's metadata that matters to a wait, then its status.
pub async fn object_state<K>(client: &Client, namespace: &str, name: &str) -> String
where
    K: Namespaced,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let state = match api.get_opt(name).await {
        Ok(Some(object)) => object_text(&object),
        Ok(None) => "not found".to_owned(),
        Err(e) => format!("cannot be read: {e}"),
    };
    format!("{} {namespace}/{name}: {state}", K::kind(&()))
}

fn object_text<K: Resource + Serialize>(object: &K) -> String {
    let meta = object.meta();
    let status = serde_json::to_value(object)
        .ok()
        .and_then(|v| v.get("status").cloned())
        .map(|s| serde_json::to_string_pretty(&s).unwrap_or_default())
        .unwrap_or_else(|| "none".to_owned());
    format!(
        "generation {:?}, resourceVersion {:?}, finalizers {:?}, deleting {}\nstatus: {status}",
        meta.generation,
        meta.resource_version,
        meta.finalizers.as_deref().unwrap_or_default(),
        meta.deletion_timestamp.is_some(),
    )
}

/// The namespace's events, oldest first, one a line: type, reason, object, count, note.
pub async fn namespace_events(client: &Client, namespace: &str) -> String {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    let mut events = match api.list(&Default::default()).await {
        Ok(list) => list.items,
        Err(e) => return format!("events in {namespace} cannot be listed: {e}"),
    };
    events.sort_by_key(last_seen);
    let skipped = events.len().saturating_sub(EVENTS_SHOWN);
    let mut text = format!("events in {namespace} ({}):", events.len());
    if skipped > 0 {
        let _ = write!(text, "\n  ({skipped} older ones left out)");
    }
    for event in &events[skipped..] {
        let _ = write!(text, "\n  {}", event_line(event));
    }
    text
}

/// One event as a line: `Warning UnknownClientId ApiToken/name ×2: note`.
pub fn event_line(event: &Event) -> String {
    let object = event
        .regarding
        .as_ref()
        .map(|r| {
            format!(
                "{}/{}",
                r.kind.as_deref().unwrap_or("?"),
                r.name.as_deref().unwrap_or("?")
            )
        })
        .unwrap_or_else(|| "?".to_owned());
    let count = event
        .series
        .as_ref()
        .map(|s| s.count)
        .or(event.deprecated_count)
        .unwrap_or(1);
    format!(
        "{} {} {object} ×{count}: {}",
        event.type_.as_deref().unwrap_or("?"),
        event.reason.as_deref().unwrap_or("?"),
        event.note.as_deref().unwrap_or(""),
    )
}

/// When the event was last seen, in microseconds (the newest of its series, else its first).
fn last_seen(event: &Event) -> Option<i64> {
    let series = event.series.as_ref().map(|s| s.last_observed_time.0);
    series
        .or(event.event_time.as_ref().map(|t| t.0))
        .or(event.deprecated_last_timestamp.as_ref().map(|t| t.0))
        .map(|t| t.as_microsecond())
}
