//! Kubernetes Events about an Application: what was created, taken over, updated, deleted or
//! left in Quay, and each distinct failure. The publishing itself is the ApiToken's.

use super::crd::Application;
use crate::events::EventRecorder;
use kube::runtime::events::Reporter;

/// Publishes events about Applications (see [`crate::events`]).
pub struct AppEvents {
    recorder: EventRecorder,
}

impl AppEvents {
    /// A publisher reporting as `reporter`.
    pub fn new(client: kube::Client, reporter: Reporter) -> Self {
        Self {
            recorder: EventRecorder::new(client, reporter),
        }
    }

    /// Publishes one event; a failure to publish is logged, never fatal to the reconcile.
    pub async fn publish(&self, app: &Application, warning: bool, reason: &str, note: String) {
        crate::events::publish(&self.recorder, app, warning, reason, note).await;
    }
}

impl crate::per_uid::PerUid for AppEvents {
    fn forget(&self, uid: &str) {
        self.recorder.forget(uid);
    }

    fn retain_live(&self, live: &dyn Fn(&str) -> bool) {
        self.recorder.prune(live);
    }
}
