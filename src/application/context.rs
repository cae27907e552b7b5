//! What every Application reconcile shares: the operator's context (Kubernetes client, Quay
//! sessions, metrics, settings) and the Application controller's own state.

use super::crd::Application;
use super::crd::ApplicationStatus;
use super::org_locks::OrgLocks;
use super::plan::Claims;
use crate::context::{Context, MANAGER};
use crate::controller::backoff::Backoff;
use crate::controller::peers::Peers;
use crate::events::EventRecorder;
use crate::quay::{Applications, RequestObserver};
use kube::runtime::events::Reporter;
use std::sync::Arc;
use std::time::Duration;

/// Shared state of the Application controller.
pub struct AppContext {
    /// The operator's context, shared with the ApiToken controller.
    pub base: Arc<Context>,
    /// Quay's applications API, on the same sessions as the ApiTokens.
    pub apps: Applications,
    /// Event publisher.
    pub events: EventRecorder,
    /// Per-object backoff for transient errors.
    pub backoff: Backoff,
    /// The status this process last wrote, per Application UID.
    pub written: crate::owned::Written<ApplicationStatus>,
    /// One finder-or-creator per organization at a time.
    pub org_locks: OrgLocks,
    /// The Applications in the controllers' caches, the Secrets they name, their nudges.
    pub peers: Peers<Application>,
}

impl AppContext {
    /// Every per-Application memory of the process, so that forgetting and sweeping reach each.
    pub fn per_uid(&self) -> [&dyn crate::per_uid::PerUid; 3] {
        [&self.backoff, &self.written, &self.events]
    }

    /// Builds the Application controller's state on top of the operator's context.
    pub fn new(base: Arc<Context>) -> Self {
        let observer: Arc<dyn RequestObserver> = Arc::new(Observer(base.metrics.clone()));
        let reporter = Reporter {
            controller: MANAGER.into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        AppContext {
            apps: Applications::new(base.quay.clone(), Some(observer)),
            events: EventRecorder::new(base.client.clone(), reporter),
            backoff: Backoff::new(Duration::from_secs(2), Duration::from_secs(300)),
            written: Default::default(),
            org_locks: OrgLocks::default(),
            peers: Peers::default(),
            base,
        }
    }

    /// Waits for the organization's lock without the reconcile's slot, as an ApiToken waits for
    /// its account's mint lock: Applications queued behind one organization leave the slots to
    /// every other reconcile meanwhile.
    pub async fn org_lock(&self, host: &str, org: &str) -> tokio::sync::OwnedMutexGuard<()> {
        crate::controller::slots::while_waiting(self.org_locks.lock(host, org)).await
    }

    /// What the Applications other than `me` record or are creating on `host`/`org`.
    pub fn claims(&self, me: &str, host: &str, org: &str) -> Claims {
        let mut claims = Claims::default();
        for stored in self.peers.stored() {
            let meta = kube::Resource::meta(stored.as_ref());
            let uid = meta.uid.clone().unwrap_or_default();
            if uid == me {
                continue;
            }
            let cached = stored.status();
            let Some(status) = self.written.current(&uid, cached) else {
                continue;
            };
            let who = format!(
                "{}/{}",
                meta.namespace.as_deref().unwrap_or_default(),
                meta.name.as_deref().unwrap_or_default()
            );
            if let Some(r) = status.application.as_ref()
                && r.host == host
                && r.organization == org
            {
                claims.recorded.insert(r.client_id.clone(), who.clone());
            }
            if let Some(p) = status.pending_create.as_ref()
                && p.host == host
                && p.organization == org
            {
                claims.creating.insert(p.name.clone(), who);
            }
        }
        claims
    }
}

/// Counts the applications API's requests in the operator's Quay request metrics.
struct Observer(Arc<crate::metrics::Metrics>);

impl RequestObserver for Observer {
    fn observe(&self, endpoint: &'static str, status: Option<u16>, elapsed: Duration) {
        self.0.quay_request(endpoint, status, elapsed);
    }
}
