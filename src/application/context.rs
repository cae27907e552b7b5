//! What every Application reconcile shares: the operator's context (Kubernetes client, Quay
//! sessions, metrics, settings) and the Application controller's own state.

use super::crd::Application;
use super::crd::ApplicationStatus;
use super::events::AppEvents;
use super::org_locks::OrgLocks;
use super::plan::Claims;
use crate::backoff::Backoff;
use crate::context::{Context, MANAGER};
use crate::quay::{Applications, RequestObserver};
use futures::channel::mpsc::UnboundedSender;
use kube::ResourceExt;
use kube::core::DeserializeGuard;
use kube::runtime::events::Reporter;
use kube::runtime::reflector::{ObjectRef, Store};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How Applications are watched: each one as parsed, or as the reason it cannot be.
pub type Stored = DeserializeGuard<Application>;

/// Shared state of the Application controller.
pub struct AppContext {
    /// The operator's context, shared with the ApiToken controller.
    pub base: Arc<Context>,
    /// Quay's applications API, on the same sessions as the ApiTokens.
    pub apps: Applications,
    /// Event publisher.
    pub events: AppEvents,
    /// Per-object backoff for transient errors.
    pub backoff: Backoff,
    /// The status this process last wrote, per Application UID.
    pub written: crate::owned::Written<ApplicationStatus>,
    /// One finder-or-creator per organization at a time.
    pub org_locks: OrgLocks,
    scopes: Mutex<Vec<Scope>>,
}

/// One controller scope: its cache and the channel that makes it reconcile an Application.
struct Scope {
    store: Store<Stored>,
    nudge: UnboundedSender<ObjectRef<Stored>>,
}

impl AppContext {
    /// Builds the Application controller's state on top of the operator's context.
    pub fn new(base: Arc<Context>) -> Self {
        let observer: Arc<dyn RequestObserver> = Arc::new(Observer(base.metrics.clone()));
        let reporter = Reporter {
            controller: MANAGER.into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        AppContext {
            apps: Applications::new(base.quay.clone(), Some(observer)),
            events: AppEvents::new(base.client.clone(), reporter),
            backoff: Backoff::new(Duration::from_secs(2), Duration::from_secs(300)),
            written: Default::default(),
            org_locks: OrgLocks::default(),
            scopes: Mutex::new(Vec::new()),
            base,
        }
    }

    fn lock_scopes(&self) -> std::sync::MutexGuard<'_, Vec<Scope>> {
        self.scopes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers one controller scope's cache and its reconcile trigger.
    pub fn register(&self, store: Store<Stored>, nudge: UnboundedSender<ObjectRef<Stored>>) {
        self.lock_scopes().push(Scope { store, nudge });
    }

    /// Every Application in the caches.
    pub fn all(&self) -> Vec<Arc<Stored>> {
        self.lock_scopes()
            .iter()
            .flat_map(|s| s.store.state())
            .collect()
    }

    /// Makes every scope reconcile the Applications `wanted` picks (those in other watched
    /// namespaces included).
    pub fn nudge(&self, wanted: impl Fn(&Application) -> bool) {
        for scope in self.lock_scopes().iter() {
            for stored in scope.store.state() {
                if stored.0.as_ref().is_ok_and(&wanted) {
                    let _ = scope
                        .nudge
                        .unbounded_send(ObjectRef::from_obj(stored.as_ref()));
                }
            }
        }
    }

    /// What the Applications other than `me` record or are creating on `host`/`org`.
    pub fn claims(&self, me: &str, host: &str, org: &str) -> Claims {
        let mut claims = Claims::default();
        for stored in self.all() {
            let meta = kube::Resource::meta(stored.as_ref());
            let uid = meta.uid.clone().unwrap_or_default();
            if uid == me {
                continue;
            }
            let cached = stored.0.as_ref().ok().and_then(|a| a.status.as_ref());
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

    /// The UIDs of every Application in the caches.
    pub fn live_uids(&self) -> std::collections::HashSet<String> {
        self.all().iter().filter_map(|s| s.uid()).collect()
    }
}

/// Counts the applications API's requests in the operator's Quay request metrics.
struct Observer(Arc<crate::metrics::Metrics>);

impl RequestObserver for Observer {
    fn observe(&self, endpoint: &'static str, status: Option<u16>, elapsed: Duration) {
        self.0.quay_request(endpoint, status, elapsed);
    }
}
