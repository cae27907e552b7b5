//! Other ApiTokens, as the controller's caches see them: who else names the same result Secret,
//! who uses a Secret of another watched namespace, and a way to make them reconcile.

use crate::context::CrossNamespacePolicy;
use crate::controller::stored::StoredToken;
use crate::crd::{ApiToken, TokenRecord};
use crate::reconcile::inputs_result_target;
use futures::channel::mpsc::UnboundedSender;
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Identifies one registered controller scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScopeId(u64);

/// One controller scope: its cache of ApiTokens and the channel that makes it reconcile one.
struct Scope {
    id: ScopeId,
    store: Store<StoredToken>,
    nudge: UnboundedSender<ObjectRef<StoredToken>>,
}

/// The caches and wake-up channels of every running controller scope.
#[derive(Default)]
pub struct Peers {
    scopes: Mutex<(u64, Vec<Scope>)>,
    /// Set once every scope's cache has its first full list: before that, the caches may miss
    /// ApiTokens (kube fills a store only when its first list is complete).
    synced: std::sync::atomic::AtomicBool,
    synced_now: tokio::sync::Notify,
}

impl Peers {
    /// Notes that every cache has its first full list.
    pub fn set_synced(&self) {
        self.synced.store(true, std::sync::atomic::Ordering::SeqCst);
        self.synced_now.notify_waiters();
    }

    /// Waits until every cache has its first full list, so that a question about all
    /// ApiTokens ([`Peers::all`]) gets a whole answer.
    pub async fn wait_synced(&self) {
        loop {
            let notified = self.synced_now.notified();
            if self.synced.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, Vec<Scope>)> {
        self.scopes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers one controller scope's cache and its reconcile trigger.
    pub fn register(
        &self,
        store: Store<StoredToken>,
        nudge: UnboundedSender<ObjectRef<StoredToken>>,
    ) -> ScopeId {
        let mut scopes = self.lock();
        scopes.0 += 1;
        let id = ScopeId(scopes.0);
        scopes.1.push(Scope { id, store, nudge });
        id
    }

    /// Forgets a scope whose controller has stopped.
    pub fn unregister(&self, id: ScopeId) {
        self.lock().1.retain(|scope| scope.id != id);
    }

    /// How many controller scopes are registered.
    pub fn len(&self) -> usize {
        self.lock().1.len()
    }

    /// Whether no controller scope is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every valid ApiToken of every scope.
    fn valid(&self) -> Vec<Arc<ApiToken>> {
        let scopes = self.lock();
        scopes
            .1
            .iter()
            .flat_map(|scope| scope.store.state())
            .filter_map(|stored| stored.valid().cloned())
            .collect()
    }

    /// Every ApiToken in the caches, for questions about all of them (which tokens are tracked).
    /// One that does not deserialize appears as a stand-in: its metadata and status are real,
    /// its spec a placeholder, so that the token its status records still counts as tracked.
    pub fn all(&self) -> Vec<Arc<ApiToken>> {
        let scopes = self.lock();
        scopes
            .1
            .iter()
            .flat_map(|scope| scope.store.state())
            .filter_map(|stored| stored.stand_in())
            .collect()
    }

    /// Live ApiTokens other than `me` whose result Secret is the same as `me`'s.
    pub fn sharing_result_secret(&self, me: &ApiToken) -> Vec<Arc<ApiToken>> {
        // The policy does not matter for where a Secret is named, only for whether it is used.
        let Ok(mine) = inputs_result_target(me, CrossNamespacePolicy::Allow) else {
            return Vec::new();
        };
        self.valid()
            .into_iter()
            .filter(|other| other.uid() != me.uid() && other.metadata.deletion_timestamp.is_none())
            .filter(|other| {
                inputs_result_target(other, CrossNamespacePolicy::Allow).is_ok_and(|t| t == mine)
            })
            .collect()
    }

    /// Asks the controller whose cache holds `token` to reconcile it soon.
    pub fn nudge(&self, token: &ApiToken) {
        let reference = ObjectRef::<StoredToken>::new(&token.name_any())
            .within(&token.namespace().unwrap_or_default());
        for scope in &self.lock().1 {
            if scope.store.get(&reference).is_some() {
                let _ = scope.nudge.unbounded_send(reference.clone());
            }
        }
    }

    /// Asks every scope but `except` to reconcile its valid ApiTokens for which `wanted` holds;
    /// `except`'s controller maps its own through its watch.
    pub fn nudge_others(&self, except: ScopeId, wanted: impl Fn(&ApiToken) -> bool) {
        for scope in self.lock().1.iter().filter(|s| s.id != except) {
            for stored in scope.store.state() {
                if let Some(token) = stored.valid()
                    && wanted(token)
                {
                    let _ = scope
                        .nudge
                        .unbounded_send(ObjectRef::from_obj(stored.as_ref()));
                }
            }
        }
    }

    /// The UIDs of every cached ApiToken, and the Quay tokens their statuses record.
    pub fn live(&self) -> (HashSet<String>, Vec<TokenRecord>) {
        let mut uids = HashSet::new();
        let mut records = Vec::new();
        for scope in &self.lock().1 {
            for stored in scope.store.state() {
                if let Some(uid) = stored.uid() {
                    uids.insert(uid);
                }
                records.extend(stored.token_record().cloned());
            }
        }
        (uids, records)
    }
}
