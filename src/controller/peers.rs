//! The objects of one kind as the controller's caches see them: who else names the same result
//! Secret, who uses a Secret (of another watched namespace, or whose ReferenceGrants changed),
//! and a way to make them reconcile.

use crate::controller::secret_index::SecretIndex;
use crate::crd::{ApiToken, TokenRecord};
use crate::reference_grants::Change;
use crate::references::{CrossNamespacePolicy, Target, result_target};
use crate::stored::{Stored, StoredKind};
use futures::channel::mpsc::UnboundedSender;
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Identifies one registered controller scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScopeId(u64);

/// One controller scope: its cache and the channel that makes it reconcile one object.
struct Scope<K: StoredKind> {
    id: ScopeId,
    store: Store<Stored<K>>,
    nudge: UnboundedSender<ObjectRef<Stored<K>>>,
}

/// Where to find one object again: its scope and its reference there.
type Found<K> = (ScopeId, ObjectRef<Stored<K>>);

/// The caches and wake-up channels of every running controller scope of one kind.
pub struct Peers<K: StoredKind> {
    scopes: Mutex<(u64, Vec<Scope<K>>)>,
    /// Secret → objects that use it, fed by every scope's watch.
    index: Mutex<SecretIndex<Found<K>>>,
    /// Set once every scope's cache has its first full list: before that, the caches may miss
    /// ApiTokens (kube fills a store only when its first list is complete).
    synced: std::sync::atomic::AtomicBool,
    synced_now: tokio::sync::Notify,
}

impl<K: StoredKind> Default for Peers<K> {
    fn default() -> Self {
        Peers {
            scopes: Mutex::new((0, Vec::new())),
            index: Mutex::new(SecretIndex::default()),
            synced: std::sync::atomic::AtomicBool::new(false),
            synced_now: tokio::sync::Notify::new(),
        }
    }
}

impl<K: StoredKind> Peers<K> {
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

    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, Vec<Scope<K>>)> {
        self.scopes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers one controller scope's cache and its reconcile trigger.
    pub fn register(
        &self,
        store: Store<Stored<K>>,
        nudge: UnboundedSender<ObjectRef<Stored<K>>>,
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

    /// Every object in the caches, as stored.
    pub fn stored(&self) -> Vec<Arc<Stored<K>>> {
        self.lock()
            .1
            .iter()
            .flat_map(|scope| scope.store.state())
            .collect()
    }

    /// Every object in the caches, for questions about all of them (which tokens are tracked).
    /// One that does not deserialize appears as a stand-in: its metadata and status are real,
    /// its spec a placeholder, so that what its status records still counts.
    pub fn all(&self) -> Vec<Arc<K>> {
        self.stored()
            .iter()
            .filter_map(|stored| stored.stand_in())
            .collect()
    }

    fn lock_index(&self) -> std::sync::MutexGuard<'_, SecretIndex<Found<K>>> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The valid object behind an index entry, from its scope's cache.
    fn get(&self, (scope, reference): &Found<K>) -> Option<Arc<K>> {
        let scopes = self.lock();
        let scope = scopes.1.iter().find(|s| s.id == *scope)?;
        scope.store.get(reference)?.valid().cloned()
    }

    /// Notes an object the watch of `scope` delivered (new or changed).
    pub fn index_put(&self, scope: ScopeId, stored: &Stored<K>) {
        let Some(uid) = stored.uid() else {
            return;
        };
        let mut index = self.lock_index();
        match stored.valid() {
            Some(object) => index.put(
                &uid,
                (scope, ObjectRef::from_obj(stored)),
                object.secret_uses(),
            ),
            // Its spec cannot be read, so it cannot be said to use any Secret.
            None => index.remove(&uid),
        }
    }

    /// Forgets a deleted object.
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

    /// The objects that use the Secret `target` (or own it, by `owner` uid), by scope.
    pub fn users_of(&self, target: &Target, owner: Option<&str>) -> Vec<Found<K>> {
        self.lock_index().users(target, owner)
    }

    /// Asks the controllers to reconcile the objects that name a Secret in another namespace
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
    pub fn nudge_in(&self, scope: ScopeId, reference: ObjectRef<Stored<K>>) {
        if let Some(found) = self.lock().1.iter().find(|s| s.id == scope) {
            let _ = found.nudge.unbounded_send(reference);
        }
    }

    /// Asks the controller whose cache holds `object` to reconcile it soon.
    pub fn nudge(&self, object: &K) {
        let reference = ObjectRef::<Stored<K>>::new(&object.name_any())
            .within(&object.namespace().unwrap_or_default());
        for scope in &self.lock().1 {
            if scope.store.get(&reference).is_some() {
                let _ = scope.nudge.unbounded_send(reference.clone());
            }
        }
    }

    /// Asks every scope to reconcile the valid objects `wanted` picks: a scan of every cache,
    /// for rare events (a name another object gave up).
    pub fn nudge_where(&self, wanted: impl Fn(&K) -> bool) {
        for scope in &self.lock().1 {
            for stored in scope.store.state() {
                if stored.valid().is_some_and(|object| wanted(object)) {
                    let _ = scope
                        .nudge
                        .unbounded_send(ObjectRef::from_obj(stored.as_ref()));
                }
            }
        }
    }

    /// The UIDs of every cached object.
    pub fn live_uids(&self) -> HashSet<String> {
        self.stored().iter().filter_map(|s| s.uid()).collect()
    }
}

impl Peers<ApiToken> {
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
