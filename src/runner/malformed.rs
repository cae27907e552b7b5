//! Reporting an object that does not deserialize, for every kind: its own error status, written
//! when it changes, and one Warning event; and a deletion that never hangs on it.

use super::kind::Kind;
use crate::crd::FINALIZER;
use crate::object_error::KindError;
use crate::stored::{Malformed, Shown};
use kube::Api;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use serde_json::json;

/// Condition reason, event reason and metrics label of a malformed object.
pub const REASON: &str = "MalformedObject";

/// Reports `object` in its status (and once in an event); on deletion, releases our finalizer.
#[tracing::instrument(skip_all, fields(
    kind = %K::kind(&()),
    namespace = %object.metadata.namespace.as_deref().unwrap_or_default(),
    name = %object.metadata.name.as_deref().unwrap_or_default(),
))]
pub async fn reconcile<K: Kind>(object: &Malformed<K>, ctx: &K::Ctx) -> Result<Action, K::Error> {
    if object.metadata.deletion_timestamp.is_some() {
        release(object, ctx).await
    } else {
        report(object, ctx).await
    }
}

/// After a failed report or release: transient failures back off, the rest wait for a change.
pub fn error_policy<K: Kind>(object: &Malformed<K>, error: &K::Error, ctx: &K::Ctx) -> Action {
    if error.is_transient() {
        let uid = object.metadata.uid.clone().unwrap_or_default();
        Action::requeue(K::backoff(ctx).next_delay(&uid))
    } else {
        Action::requeue(K::base(ctx).settings.verify_interval)
    }
}

async fn report<K: Kind>(object: &Malformed<K>, ctx: &K::Ctx) -> Result<Action, K::Error> {
    let uid = object.metadata.uid.clone().unwrap_or_default();
    let message = object.problem.to_string();
    tracing::info!(problem = %message, "the stored object cannot be read");
    // Our last write wins over the cache, as for any object. When the stored status cannot be
    // read either, only the fields written below are replaced on the server.
    let shown = K::written(ctx).current(&uid, object.status.as_ref());
    let previous = match &shown {
        Some(status) => shown_of::<K>(status),
        None => object.shown.clone(),
    };
    let next = K::with_failure(
        shown.clone().unwrap_or_default(),
        REASON,
        &message,
        object.metadata.generation,
    );
    let changed = match &shown {
        Some(status) => *status != next,
        None => previous != shown_of::<K>(&next),
    };
    if changed {
        write_verdict(object, ctx, &next).await?;
        // Remember only a whole status: a partial one would hide the record later.
        if shown.is_some() {
            K::written(ctx).remember(&uid, &next);
        }
    }
    K::backoff(ctx).reset(&uid);
    if previous.message != message {
        publish(ctx, object, REASON, message).await;
    }
    // A fix of the spec is a new generation, which wakes the controller; a hand fix of the
    // status is not, hence the slow safety net.
    Ok(Action::requeue(K::base(ctx).settings.verify_interval))
}

/// The message and generation a status shows.
fn shown_of<K: Kind>(status: &K::Status) -> Shown {
    let value = serde_json::to_value(status).unwrap_or_default();
    Shown {
        message: value["message"].as_str().unwrap_or_default().to_owned(),
        observed_generation: value["observedGeneration"].as_i64(),
    }
}

/// Writes only what the verdict sets, so that a status we cannot read keeps its other fields
/// (the record above all: without it what Quay holds could never be cleaned up).
async fn write_verdict<K: Kind>(
    object: &Malformed<K>,
    ctx: &K::Ctx,
    next: &K::Status,
) -> Result<(), K::Error> {
    let next = serde_json::to_value(next).unwrap_or_default();
    let patch = json!({"status": {
        "conditions": next["conditions"],
        "message": next["message"],
        "observedGeneration": next["observedGeneration"],
    }});
    api(object, ctx)
        .patch_status(
            object.metadata.name.as_deref().unwrap_or_default(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
        .map_err(|source| kube_error::<K>("write the status", source))?;
    Ok(())
}

/// A deleted malformed object names no connection Secret we can trust, so what it holds in Quay
/// cannot be cleaned up: say so and drop the finalizer, so that a namespace deletion never
/// hangs on it.
async fn release<K: Kind>(object: &Malformed<K>, ctx: &K::Ctx) -> Result<Action, K::Error> {
    let uid = object.metadata.uid.clone().unwrap_or_default();
    let finalizers = object.metadata.finalizers.clone().unwrap_or_default();
    if !finalizers.iter().any(|f| f == FINALIZER) || K::written(ctx).is_cleaned(&uid) {
        return Ok(Action::await_change());
    }
    let status = K::written(ctx).current(&uid, object.status.as_ref());
    let left = K::left_in_quay(status.as_ref());
    let note = format!(
        "{}; deleted while unreadable, so {left}, and a result Secret in another namespace is not deleted",
        object.problem
    );
    publish(ctx, object, "LeftInQuay", note).await;
    let remaining: Vec<&String> = finalizers.iter().filter(|f| *f != FINALIZER).collect();
    // The resourceVersion makes this a compare-and-swap: another finalizer added meanwhile
    // is a conflict (retried), never silently dropped.
    let patch = json!({"metadata": {
        "finalizers": remaining,
        "resourceVersion": object.metadata.resource_version,
    }});
    match api(object, ctx)
        .patch(
            object.metadata.name.as_deref().unwrap_or_default(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Err(source) => return Err(kube_error::<K>("remove the finalizer", source)),
    }
    K::written(ctx).cleaned(&uid);
    Ok(Action::await_change())
}

fn kube_error<K: Kind>(action: &'static str, source: kube::Error) -> K::Error {
    crate::object_error::ObjectError::Kube { action, source }.into()
}

fn api<K: Kind>(object: &Malformed<K>, ctx: &K::Ctx) -> Api<crate::stored::Stored<K>> {
    Api::namespaced(
        K::base(ctx).client.clone(),
        object.metadata.namespace.as_deref().unwrap_or_default(),
    )
}

/// Publishes a Warning event about the object, through a stand-in: the recorder reads only
/// its kind and metadata.
async fn publish<K: Kind>(ctx: &K::Ctx, object: &Malformed<K>, reason: &str, note: String) {
    match object.stand_in() {
        Some(stand_in) => K::warn(ctx, &stand_in, reason, note).await,
        None => tracing::warn!(reason, "cannot publish event: no stand-in for the object"),
    }
}
