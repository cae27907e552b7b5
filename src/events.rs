//! Kubernetes Events about the operator's objects (ApiTokens, Applications): what was minted,
//! created, revoked or left in Quay, and each failure.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use k8s_openapi::api::events::v1::Event as K8sEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::api::{ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::events::{Event, EventType, Reporter};
use kube::{Api, Resource};

/// Longest note Kubernetes keeps (1 kB); longer ones are cut.
const MAX_NOTE: usize = 1000;
/// An event is named `<object name>.<hex nanoseconds>`; names are cut to this much so the
/// whole stays within the 253 characters of a name.
const NAME_PREFIX_MAX: usize = 200;

/// How long a repeat of an event is folded into the first one's series (as kube's recorder
/// and client-go do); after that it is a new Event.
const SERIES_WINDOW: Duration = Duration::from_secs(6 * 60);

/// What is remembered of one published event, to fold its repeats into a series: small, and
/// dropped when its object goes, so memory does not grow with churn.
#[derive(Debug, Clone)]
struct Seen {
    name: String,
    count: i32,
    last: Timestamp,
}

/// The repeat key: the object (by uid) and what the event says.
type SeenKey = (String, &'static str, String, String);

/// Publishes events, folding repeats of the same event about the same object into a series.
pub struct EventRecorder {
    client: kube::Client,
    reporter: Reporter,
    seen: Mutex<HashMap<SeenKey, Seen>>,
}

impl EventRecorder {
    /// A recorder reporting as `reporter`.
    pub fn new(client: kube::Client, reporter: Reporter) -> Self {
        Self {
            client,
            reporter,
            seen: Mutex::new(HashMap::new()),
        }
    }

    fn lock_seen(&self) -> std::sync::MutexGuard<'_, HashMap<SeenKey, Seen>> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many events are remembered for folding.
    pub fn remembered(&self) -> usize {
        self.lock_seen().len()
    }

    async fn record<K: Resource<DynamicType = ()>>(
        &self,
        event: &Event,
        object: &K,
    ) -> Result<(), kube::Error> {
        let reference = object.object_ref(&());
        let namespace = reference.namespace.clone().unwrap_or_default();
        let type_ = match event.type_ {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        };
        let key: SeenKey = (
            reference.uid.clone().unwrap_or_default(),
            type_,
            event.reason.clone(),
            event.note.clone().unwrap_or_default(),
        );
        let now = Timestamp::now();
        let repeat = self
            .lock_seen()
            .get(&key)
            .filter(|seen| within_window(seen, now))
            .cloned();
        let api = Api::<K8sEvent>::namespaced(self.client.clone(), &namespace);
        if let Some(seen) = repeat {
            let count = seen.count + 1;
            let patch = serde_json::json!({"series": {
                "count": count,
                "lastObservedTime": MicroTime(now),
            }});
            match api
                .patch(&seen.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    self.lock_seen().insert(
                        key,
                        Seen {
                            count,
                            last: now,
                            ..seen
                        },
                    );
                    return Ok(());
                }
                // Gone (expired, deleted): start a new one.
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        // `<name>.<nanos>`, the name cut short when needed: unique per instant, and the
        // event's `regarding` names the object in full.
        let prefix: String = reference
            .name
            .as_deref()
            .unwrap_or_default()
            .chars()
            .take(NAME_PREFIX_MAX)
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
            type_: Some(type_.to_owned()),
            metadata: ObjectMeta {
                namespace: Some(namespace.clone()),
                name: Some(name.clone()),
                ..Default::default()
            },
            ..Default::default()
        };
        api.create(&PostParams::default(), &k8s_event).await?;
        self.lock_seen().insert(
            key,
            Seen {
                name,
                count: 1,
                last: now,
            },
        );
        Ok(())
    }

    /// Publishes one event about `object`; a failure to publish is logged, never fatal to the
    /// reconcile.
    pub async fn publish<K: Resource<DynamicType = ()>>(
        &self,
        object: &K,
        warning: bool,
        reason: &str,
        note: String,
    ) {
        let event = Event {
            type_: if warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: reason.to_string(),
            note: Some(capped(note)),
            action: "Reconcile".into(),
            secondary: None,
        };
        if let Err(e) = self.record(&event, object).await {
            tracing::warn!(error = %e, reason, "cannot publish event");
        }
    }
}

fn within_window(seen: &Seen, now: Timestamp) -> bool {
    now.duration_since(seen.last)
        .unsigned_abs()
        .lt(&SERIES_WINDOW)
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

/// A sweep also forgets the events whose series window is over.
impl crate::per_uid::PerUid for EventRecorder {
    fn forget(&self, uid: &str) {
        self.lock_seen().retain(|(of, ..), _| of != uid);
    }

    fn retain_live(&self, live: &dyn Fn(&str) -> bool) {
        let now = Timestamp::now();
        self.lock_seen()
            .retain(|(uid, ..), seen| live(uid) && within_window(seen, now));
    }
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
