//! Kubernetes Events about an ApiToken: what was minted, rotated, revoked, and each failure.

use crate::crd::ApiToken;
use kube::Resource;
use kube::runtime::events::{Event, EventType, Recorder};

/// Longest note Kubernetes keeps (1 kB); longer ones are cut.
const MAX_NOTE: usize = 1000;

/// Publishes one event; a failure to publish is logged, never fatal to the reconcile.
pub async fn publish(
    recorder: &Recorder,
    token: &ApiToken,
    warning: bool,
    reason: &str,
    note: String,
) {
    let mut note = note;
    if note.len() > MAX_NOTE {
        let mut cut = MAX_NOTE;
        while !note.is_char_boundary(cut) {
            cut -= 1;
        }
        note.truncate(cut);
    }
    let event = Event {
        type_: if warning {
            EventType::Warning
        } else {
            EventType::Normal
        },
        reason: reason.to_string(),
        note: Some(note),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(e) = recorder.publish(&event, &token.object_ref(&())).await {
        tracing::warn!(error = %e, reason, "cannot publish event");
    }
}
