//! An Application that does not deserialize: its status says why (and a Warning event), the
//! other Applications go on, and its deletion never hangs.

use super::context::AppContext;
use super::crd::{Application, ApplicationStatus};
use super::error::ApplicationError;
use super::status;
use crate::crd::FINALIZER;
use kube::Api;
use kube::api::{Patch, PatchParams};
use kube::core::ObjectMeta;
use kube::core::error_boundary::InvalidObject;
use kube::runtime::controller::Action;
use serde_json::json;

/// Condition reason, event reason and metrics label of a malformed Application.
pub const REASON: &str = "MalformedObject";

/// Reports `invalid` in its status and an event; on deletion, releases our finalizer.
pub async fn reconcile(
    invalid: &InvalidObject,
    ctx: &AppContext,
) -> Result<Action, ApplicationError> {
    let meta = &invalid.metadata;
    let Some(stand_in) = stand_in(meta) else {
        return Err(ApplicationError::Malformed("name"));
    };
    let message = format!(
        "the stored Application cannot be read ({}); correct it (kubectl edit) to match the Application schema",
        shorten(&invalid.error)
    );
    if meta.deletion_timestamp.is_some() {
        return release(meta, &stand_in, ctx, &message).await;
    }
    let uid = meta.uid.clone().unwrap_or_default();
    let shown = ctx.written.current(&uid, None);
    let verdict = status::Verdict {
        ready: false,
        reason: REASON,
        message: &message,
    };
    let next = status::with_verdict(
        shown.clone().unwrap_or_default(),
        &verdict,
        meta.generation,
        &super::now(),
    );
    // Only what the verdict sets: a status we cannot read keeps its other fields (the record
    // above all, without which the application could never be deleted).
    let patch = json!({"status": {
        "conditions": next.conditions,
        "message": next.message,
        "observedGeneration": next.observed_generation,
    }});
    api(meta, ctx)
        .patch_status(
            meta.name.as_deref().unwrap_or_default(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
        .map_err(ApplicationError::kube("write the Application status"))?;
    // The recorder folds repeats of the same event into one series.
    ctx.events.publish(&stand_in, true, REASON, message).await;
    Ok(Action::requeue(ctx.base.settings.verify_interval))
}

/// A deleted malformed Application names no connection Secret we can trust: say what stays in
/// Quay and drop the finalizer, so that a namespace deletion never hangs on it.
async fn release(
    meta: &ObjectMeta,
    stand_in: &Application,
    ctx: &AppContext,
    problem: &str,
) -> Result<Action, ApplicationError> {
    let finalizers = meta.finalizers.clone().unwrap_or_default();
    let uid = meta.uid.clone().unwrap_or_default();
    if !finalizers.iter().any(|f| f == FINALIZER) || ctx.written.is_cleaned(&uid) {
        return Ok(Action::await_change());
    }
    let left = match ctx
        .written
        .current(&uid, None)
        .and_then(|s: ApplicationStatus| s.application)
    {
        Some(r) => format!(
            "application {} of organization `{}` on {} stays in Quay",
            r.client_id, r.organization, r.host
        ),
        None => "any application it managed stays in Quay".to_owned(),
    };
    let note = format!(
        "{problem}; deleted while unreadable, so {left}, and its result Secret in another namespace is not deleted"
    );
    ctx.events.publish(stand_in, true, "LeftInQuay", note).await;
    let remaining: Vec<&String> = finalizers.iter().filter(|f| *f != FINALIZER).collect();
    // The resourceVersion makes this a compare-and-swap: a finalizer added meanwhile is a
    // conflict (retried), never silently dropped.
    let patch = json!({"metadata": {
        "finalizers": remaining,
        "resourceVersion": meta.resource_version,
    }});
    match api(meta, ctx)
        .patch(
            meta.name.as_deref().unwrap_or_default(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Err(source) => {
            return Err(ApplicationError::Kube {
                action: "remove the finalizer",
                source,
            });
        }
    }
    ctx.written.cleaned(&uid);
    Ok(Action::await_change())
}

fn api(meta: &ObjectMeta, ctx: &AppContext) -> Api<Application> {
    Api::namespaced(
        ctx.base.client.clone(),
        meta.namespace.as_deref().unwrap_or_default(),
    )
}

/// An Application carrying this object's metadata and a placeholder spec, for events.
fn stand_in(meta: &ObjectMeta) -> Option<Application> {
    let placeholder = json!({
        "apiVersion": "quay.herve4m.github.io/v1alpha1",
        "kind": "Application",
        "metadata": meta,
        "spec": {"connSecretRef": {"name": "-"}, "organization": "-", "name": "--"},
    });
    serde_json::from_value(placeholder).ok()
}

/// serde's complaint, cut to a readable length (it may quote the offending value).
fn shorten(text: &str) -> String {
    const MAX: usize = 300;
    if text.chars().count() <= MAX {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stand_in_keeps_the_metadata() {
        let meta = ObjectMeta {
            name: Some("broken".into()),
            namespace: Some("ns".into()),
            uid: Some("u".into()),
            ..Default::default()
        };
        let a = stand_in(&meta).unwrap();
        assert_eq!(a.metadata.uid.as_deref(), Some("u"));
        assert_eq!(shorten(&"x".repeat(400)).chars().count(), 301);
    }
}
