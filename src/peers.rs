//! Other ApiTokens, as the controller's caches see them: who else names the same result Secret,
//! who uses a Secret of another watched namespace, and a way to make them reconcile.

use crate::crd::{ApiToken, TokenRecord};
use crate::reference_grants::Change;
use crate::references::{CrossNamespacePolicy, Target, result_target, secret_uses};
use crate::secret_index::SecretIndex;
use crate::stored::StoredToken;
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

/// Where to find one ApiToken again: its scope and its reference there.
type Found = (ScopeId, ObjectRef<StoredToken>);

/// The caches and wake-up channels of every running controller scope.
#[derive(Default)]
pub struct Peers {
    scopes: Mutex<(u64, Vec<Scope>)>,
    /// Secret → ApiTokens that use it, fed by every scope's watch.
    index: Mutex<SecretIndex<Found>>,
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
        self.lock_index().remove_where(|(s, _)| *s == id);
    }

    /// How many controller scopes are registered.
    pub fn len(&self) -> usize {
        self.lock().1.len()
    }

    /// Whether no controller scope is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    /// Live ApiTokens other than `me` whose result Secret is the same as `me`'s, among those
    /// for which `counts` holds (the sharing check passes those the policy lets write it).
    pub fn sharing_result_secret(
        &self,
        me: &ApiToken,
        counts: impl Fn(&ApiToken) -> bool,
    ) -> Vec<Arc<ApiToken>> {
        // The policy does not matter for where a Secret is named, only for whether it is used.
        let Ok(mine) = result_target(me, CrossNamespacePolicy::Allow) else {
            return Vec::new();
        };
        let writers = self
            .lock_index()
            .writers(&mine, &me.uid().unwrap_or_default());
        writers
            .into_iter()
            .filter_map(|found| self.get(&found))
            .filter(|other| other.metadata.deletion_timestamp.is_none())
            .filter(|other| counts(other))
            .collect()
    }

    fn lock_index(&self) -> std::sync::MutexGuard<'_, SecretIndex<Found>> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The valid ApiToken behind an index entry, from its scope's cache.
    fn get(&self, (scope, reference): &Found) -> Option<Arc<ApiToken>> {
        let scopes = self.lock();
        let scope = scopes.1.iter().find(|s| s.id == *scope)?;
        scope.store.get(reference)?.valid().cloned()
    }

    /// Notes an ApiToken the watch of `scope` delivered (new or changed).
    pub fn index_put(&self, scope: ScopeId, stored: &StoredToken) {
        let Some(uid) = stored.uid() else {
            return;
        };
        let mut index = self.lock_index();
        match stored.valid() {
            Some(token) => index.put(
                &uid,
                (scope, ObjectRef::from_obj(stored)),
                secret_uses(token),
            ),
            // Its spec cannot be read, so it cannot be said to use any Secret.
            None => index.remove(&uid),
        }
    }

    /// Forgets a deleted ApiToken.
    pub fn index_remove(&self, uid: &str) {
        self.lock_index().remove(uid);
    }

    /// Rebuilds the entries of `scope` from its cache (after a relist, which reports no
    /// deletions).
    pub fn index_rebuild(&self, scope: ScopeId) {
        let store = {
            let scopes = self.lock();
            let Some(found) = scopes.1.iter().find(|s| s.id == scope) else {
                return;
            };
            found.store.clone()
        };
        self.lock_index().remove_where(|(s, _)| *s == scope);
        for stored in store.state() {
            self.index_put(scope, &stored);
        }
    }

    /// The ApiTokens that use the Secret `target` (or own it, by `owner` uid), by scope.
    pub fn users_of(&self, target: &Target, owner: Option<&str>) -> Vec<Found> {
        self.lock_index().users(target, owner)
    }

    /// Asks the controllers to reconcile the ApiTokens that name a Secret in another namespace
    /// which `change` concerns.
    pub fn nudge_referring(&self, change: &Change) {
        let found = self.lock_index().users_where(|(_, reference), target| {
            reference.namespace.as_deref() != Some(target.namespace.as_str())
                && match change {
                    Change::Namespace(ns) => target.namespace == *ns,
                    Change::All => true,
                }
        });
        for (scope, reference) in found {
            self.nudge_in(scope, reference);
        }
    }

    /// Asks `scope`'s controller to reconcile `reference` soon.
    pub fn nudge_in(&self, scope: ScopeId, reference: ObjectRef<StoredToken>) {
        if let Some(found) = self.lock().1.iter().find(|s| s.id == scope) {
            let _ = found.nudge.unbounded_send(reference);
        }
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
