//! Kubernetes Events about the operator's objects (ApiTokens, Applications): what was minted,
//! created, revoked or left in Quay, and each failure.

use k8s_openapi::api::events::v1::Event as K8sEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{ObjectMeta, PostParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Api, Resource};

/// Longest note Kubernetes keeps (1 kB); longer ones are cut.
const MAX_NOTE: usize = 1000;
/// kube's recorder names an event `<object name>.<16 hex digits>`, which passes the 253
/// characters of a name for objects with names longer than this.
const RECORDER_NAME_MAX: usize = 253 - 17;

/// Publishes events: through kube's recorder (which folds repeats into series), or directly
/// for objects whose names are too long for the recorder's event names.
pub struct EventRecorder {
    recorder: Recorder,
    client: kube::Client,
    reporter: Reporter,
}

impl EventRecorder {
    /// A recorder reporting as `reporter`.
    pub fn new(client: kube::Client, reporter: Reporter) -> Self {
        Self {
            recorder: Recorder::new(client.clone(), reporter.clone()),
            client,
            reporter,
        }
    }

    async fn publish<K: Resource<DynamicType = ()>>(
        &self,
        event: &Event,
        object: &K,
    ) -> Result<(), kube::Error> {
        let reference = object.object_ref(&());
        let name_len = reference.name.as_deref().map_or(0, str::len);
        if name_len <= RECORDER_NAME_MAX {
            return self.recorder.publish(event, &reference).await;
        }
        let namespace = reference.namespace.clone().unwrap_or_default();
        let now = k8s_openapi::jiff::Timestamp::now();
        // The recorder's `<name>.<nanos>` with the name cut short: still unique per instant,
        // and the event's `regarding` names the object in full.
        let prefix: String = reference
            .name
            .as_deref()
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect::<String>()
            .trim_end_matches(['-', '.'])
            .to_owned();
        let name = format!("{prefix}.{:x}", now.as_nanosecond());
        let k8s_event = K8sEvent {
            action: Some(event.action.clone()),
            reason: Some(event.reason.clone()),
            note: event.note.clone(),
            event_time: Some(MicroTime(now)),
            regarding: Some(reference),
            reporting_controller: Some(self.reporter.controller.clone()),
            reporting_instance: Some(
                self.reporter
                    .instance
                    .clone()
                    .unwrap_or_else(|| self.reporter.controller.clone()),
            ),
            type_: Some(match event.type_ {
                EventType::Normal => "Normal".into(),
                EventType::Warning => "Warning".into(),
            }),
            metadata: ObjectMeta {
                namespace: Some(namespace.clone()),
                name: Some(name),
                ..Default::default()
            },
            ..Default::default()
        };
        Api::<K8sEvent>::namespaced(self.client.clone(), &namespace)
            .create(&PostParams::default(), &k8s_event)
            .await
            .map(|_| ())
    }
}

/// Publishes one event about `object`; a failure to publish is logged, never fatal to the
/// reconcile.
pub async fn publish<K: Resource<DynamicType = ()>>(
    recorder: &EventRecorder,
    object: &K,
    warning: bool,
    reason: &str,
    note: String,
) {
    let note = capped(note);
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
    if let Err(e) = recorder.publish(&event, object).await {
        tracing::warn!(error = %e, reason, "cannot publish event");
    }
}

/// At most [`MAX_NOTE`] bytes, cut on a character boundary.
fn capped(mut note: String) -> String {
    if note.len() > MAX_NOTE {
        let mut cut = MAX_NOTE;
        while !note.is_char_boundary(cut) {
            cut -= 1;
        }
        note.truncate(cut);
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_notes_are_cut_on_a_character_boundary() {
        let note = "é".repeat(MAX_NOTE);
        let cut = capped(note);
        assert!(cut.len() <= MAX_NOTE);
        assert!(cut.chars().all(|c| c == 'é'));
        assert_eq!(capped("short".into()), "short");
    }
}
