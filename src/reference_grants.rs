//! Gateway API ReferenceGrants: the consent a namespace gives to references into it, as a
//! watched cache (list and watch only), and a broadcast of the namespaces whose grants changed.

use crate::target::Target;
use futures::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use kube::api::ObjectMeta;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::broadcast;

/// The API group of ApiToken and Application, as a ReferenceGrant's `from` names it.
pub const OUR_GROUP: &str = "quay.herve4m.github.io";
/// The API group of ReferenceGrants.
pub const GRANT_GROUP: &str = "gateway.networking.k8s.io";
/// The version of ReferenceGrants the operator reads.
pub const GRANT_VERSION: &str = "v1beta1";

/// A Gateway API ReferenceGrant: the objects of its namespace (`to`) that objects of other
/// namespaces (`from`) may refer to. Only the fields the operator reads.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ReferenceGrant {
    /// `gateway.networking.k8s.io/v1beta1`, also when the input left it out.
    #[serde(rename = "apiVersion", default = "grant_api_version")]
    pub api_version: String,
    /// `ReferenceGrant`, also when the input left it out.
    #[serde(default = "grant_kind")]
    pub kind: String,
    /// Standard object metadata.
    pub metadata: ObjectMeta,
    /// Who may refer to what.
    #[serde(default)]
    pub spec: ReferenceGrantSpec,
}

fn grant_api_version() -> String {
    format!("{GRANT_GROUP}/{GRANT_VERSION}")
}

fn grant_kind() -> String {
    "ReferenceGrant".into()
}

/// The `spec` of a ReferenceGrant.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ReferenceGrantSpec {
    /// The referring objects: a group, kind and namespace each.
    #[serde(default)]
    pub from: Vec<GrantFrom>,
    /// The objects of the grant's namespace they may refer to.
    #[serde(default)]
    pub to: Vec<GrantTo>,
}

/// One `from` entry of a ReferenceGrant.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct GrantFrom {
    /// API group of the referring kind.
    #[serde(default)]
    pub group: String,
    /// The referring kind.
    #[serde(default)]
    pub kind: String,
    /// The namespace of the referring objects.
    #[serde(default)]
    pub namespace: String,
}

/// One `to` entry of a ReferenceGrant.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct GrantTo {
    /// API group of the referred kind ("" for the core group).
    #[serde(default)]
    pub group: String,
    /// The referred kind.
    #[serde(default)]
    pub kind: String,
    /// One object by name; every object of the kind when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Resource for ReferenceGrant {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "ReferenceGrant".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        GRANT_GROUP.into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        GRANT_VERSION.into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "referencegrants".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// The object that refers: its kind (`ApiToken`, `Application`) and namespace.
#[derive(Clone, Copy, Debug)]
pub struct Referrer<'a> {
    /// Its kind.
    pub kind: &'static str,
    /// Its namespace.
    pub namespace: &'a str,
}

/// Whether `grant` lets `from` refer to the Secret `name` of the grant's namespace.
pub fn permits(grant: &ReferenceGrant, from: Referrer<'_>, name: &str) -> bool {
    let spec = &grant.spec;
    spec.from
        .iter()
        .any(|f| f.group == OUR_GROUP && f.kind == from.kind && f.namespace == from.namespace)
        && spec.to.iter().any(|t| {
            t.group.is_empty() && t.kind == "Secret" && t.name.as_deref().is_none_or(|n| n == name)
        })
}

/// What the cache can say of one reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A ReferenceGrant allows it.
    Granted,
    /// The ReferenceGrants are listed and none allows it.
    NotGranted,
    /// The API server does not serve ReferenceGrants (the CRD is not installed).
    NotInstalled,
    /// The API server refuses to list ReferenceGrants to the operator (RBAC).
    Forbidden,
    /// The first list has not answered yet.
    NotLoaded,
    /// The namespace is not one the operator watches.
    NotWatched,
}

/// What one scope's watch last learnt of the ReferenceGrant API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Loading,
    Listed,
    NotInstalled,
    Forbidden,
}

/// One watched scope: a namespace, or all of them.
struct Scope {
    namespace: Option<String>,
    store: Store<ReferenceGrant>,
    state: State,
}

/// A change of the grants: those of one namespace, or all of them (the API appeared or went).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A ReferenceGrant of this namespace was created, changed or deleted.
    Namespace(String),
    /// Every answer may have changed.
    All,
}

/// The ReferenceGrants the operator sees, one cache per watched scope.
pub struct ReferenceGrants {
    scopes: Mutex<Vec<Scope>>,
    changes: broadcast::Sender<Change>,
    loaded: tokio::sync::Notify,
}

impl Default for ReferenceGrants {
    fn default() -> Self {
        ReferenceGrants {
            scopes: Mutex::new(Vec::new()),
            changes: broadcast::channel(256).0,
            loaded: tokio::sync::Notify::new(),
        }
    }
}

impl ReferenceGrants {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Scope>> {
        self.scopes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the grants in `target`'s namespace let `from` refer to that Secret.
    pub fn answer(&self, from: Referrer<'_>, target: &Target) -> Answer {
        let scopes = self.lock();
        let Some(scope) = scopes.iter().find(|s| {
            s.namespace
                .as_deref()
                .is_none_or(|ns| ns == target.namespace)
        }) else {
            return Answer::NotWatched;
        };
        match scope.state {
            State::Loading => Answer::NotLoaded,
            State::NotInstalled => Answer::NotInstalled,
            State::Forbidden => Answer::Forbidden,
            State::Listed => {
                let granted = scope.store.state().iter().any(|grant| {
                    grant.metadata.namespace.as_deref() == Some(target.namespace.as_str())
                        && permits(grant, from, &target.name)
                });
                if granted {
                    Answer::Granted
                } else {
                    Answer::NotGranted
                }
            }
        }
    }

    /// Tells of every change of the grants from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Waits until every watched scope has answered its first list (listed, or the API is not
    /// there or not allowed), at most `limit`.
    pub async fn wait_loaded(&self, limit: Duration) {
        let wait = async {
            loop {
                let notified = self.loaded.notified();
                if self.lock().iter().all(|s| s.state != State::Loading) {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(limit, wait).await;
    }

    /// Adds a scope, still loading; its index in the list.
    fn add_scope(&self, namespace: Option<String>, store: Store<ReferenceGrant>) -> usize {
        let mut scopes = self.lock();
        scopes.push(Scope {
            namespace,
            store,
            state: State::Loading,
        });
        scopes.len() - 1
    }

    fn set_state(&self, index: usize, state: State) {
        let changed = {
            let mut scopes = self.lock();
            match scopes.get_mut(index) {
                Some(scope) if scope.state != state => {
                    scope.state = state;
                    true
                }
                _ => false,
            }
        };
        if changed {
            self.loaded.notify_waiters();
            let _ = self.changes.send(Change::All);
        }
    }

    /// Watches the ReferenceGrants of `namespace` (all namespaces when `None`) until the
    /// returned future is dropped; the answers and the broadcast follow it.
    pub fn watch(
        self: std::sync::Arc<Self>,
        client: Client,
        namespace: Option<String>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let api: Api<ReferenceGrant> = match &namespace {
            Some(ns) => Api::namespaced(client, ns),
            None => Api::all(client),
        };
        let (store, writer) = reflector::store::<ReferenceGrant>();
        let index = self.add_scope(namespace, store);
        let grants = self;
        async move {
            // kube's default backoff tries again within 30 s at most: a CRD installed later is
            // found within that time.
            watcher(api, watcher::Config::default().any_semantic())
                .default_backoff()
                .reflect(writer)
                .for_each(|event| {
                    match event {
                        Ok(watcher::Event::InitDone) => grants.set_state(index, State::Listed),
                        Ok(watcher::Event::Apply(g) | watcher::Event::Delete(g)) => {
                            if let Some(ns) = g.metadata.namespace {
                                let _ = grants.changes.send(Change::Namespace(ns));
                            }
                        }
                        Ok(_) => {}
                        Err(e) => {
                            if let Some(state) = state_after(&e) {
                                grants.set_state(index, state);
                            } else {
                                tracing::debug!(error = %e, "watching ReferenceGrants failed; retrying");
                            }
                        }
                    }
                    futures::future::ready(())
                })
                .await;
        }
    }
}

/// What a failed list or watch says of the API: not served (404), not allowed (403), or
/// nothing (a passing failure).
fn state_after(error: &watcher::Error) -> Option<State> {
    let status = match error {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => s,
        watcher::Error::WatchError(s) => s,
        _ => return None,
    };
    match status.code {
        404 => Some(State::NotInstalled),
        403 => Some(State::Forbidden),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn grant(spec: serde_json::Value) -> ReferenceGrant {
        serde_json::from_value(json!({"metadata": {"name": "g", "namespace": "b"}, "spec": spec}))
            .unwrap()
    }

    const A: Referrer<'static> = Referrer {
        kind: "ApiToken",
        namespace: "a",
    };

    #[test]
    fn a_grant_names_our_group_the_kind_the_namespace_and_core_secrets() {
        let all = grant(json!({
            "from": [{"group": OUR_GROUP, "kind": "ApiToken", "namespace": "a"}],
            "to": [{"group": "", "kind": "Secret"}],
        }));
        assert!(permits(&all, A, "creds"));
        let app = Referrer {
            kind: "Application",
            namespace: "a",
        };
        assert!(!permits(&all, app, "creds"), "another kind");
        let elsewhere = Referrer {
            kind: "ApiToken",
            namespace: "c",
        };
        assert!(!permits(&all, elsewhere, "creds"), "another namespace");
        let other_group = grant(json!({
            "from": [{"group": "gateway.networking.k8s.io", "kind": "ApiToken", "namespace": "a"}],
            "to": [{"group": "", "kind": "Secret"}],
        }));
        assert!(!permits(&other_group, A, "creds"));
        let config_maps = grant(json!({
            "from": [{"group": OUR_GROUP, "kind": "ApiToken", "namespace": "a"}],
            "to": [{"group": "", "kind": "ConfigMap"}],
        }));
        assert!(!permits(&config_maps, A, "creds"));
    }

    #[test]
    fn a_grant_by_name_covers_that_secret_only() {
        let one = grant(json!({
            "from": [{"group": OUR_GROUP, "kind": "ApiToken", "namespace": "a"}],
            "to": [{"group": "", "kind": "Secret", "name": "creds"}],
        }));
        assert!(permits(&one, A, "creds"));
        assert!(!permits(&one, A, "other"));
    }

    #[test]
    fn no_scope_watches_an_unwatched_namespace_and_a_new_scope_is_loading() {
        let grants = ReferenceGrants::default();
        let target = Target {
            namespace: "b".into(),
            name: "creds".into(),
        };
        assert_eq!(grants.answer(A, &target), Answer::NotWatched);
        grants.add_scope(Some("b".into()), reflector::store().0);
        assert_eq!(grants.answer(A, &target), Answer::NotLoaded);
        grants.set_state(0, State::NotInstalled);
        assert_eq!(grants.answer(A, &target), Answer::NotInstalled);
        grants.set_state(0, State::Listed);
        assert_eq!(grants.answer(A, &target), Answer::NotGranted);
    }

    /// What the cache answers once listed: a grant of the Secret's namespace counts, one of
    /// another namespace does not.
    #[test]
    fn a_listed_grant_of_the_secrets_namespace_grants() {
        let grants = ReferenceGrants::default();
        let (store, mut writer) = reflector::store();
        let index = grants.add_scope(None, store);
        let mut elsewhere = grant(json!({
            "from": [{"group": OUR_GROUP, "kind": "ApiToken", "namespace": "a"}],
            "to": [{"group": "", "kind": "Secret"}],
        }));
        elsewhere.metadata.namespace = Some("c".into());
        elsewhere.metadata.name = Some("other".into());
        writer.apply_watcher_event(&watcher::Event::Apply(elsewhere));
        grants.set_state(index, State::Listed);
        let target = Target {
            namespace: "b".into(),
            name: "creds".into(),
        };
        assert_eq!(grants.answer(A, &target), Answer::NotGranted);
        writer.apply_watcher_event(&watcher::Event::Apply(grant(json!({
            "from": [{"group": OUR_GROUP, "kind": "ApiToken", "namespace": "a"}],
            "to": [{"group": "", "kind": "Secret"}],
        }))));
        assert_eq!(grants.answer(A, &target), Answer::Granted);
    }

    /// The API server's 404 on the list means the CRD is not installed, 403 that RBAC refuses;
    /// anything else is passing and changes nothing.
    #[test]
    fn a_failed_list_tells_missing_api_from_refusal() {
        let failed = |code: u16| {
            let status = kube::core::Status::failure("no", "NotFound").with_code(code);
            watcher::Error::InitialListFailed(kube::Error::Api(status.boxed()))
        };
        assert_eq!(state_after(&failed(404)), Some(State::NotInstalled));
        assert_eq!(state_after(&failed(403)), Some(State::Forbidden));
        assert_eq!(state_after(&failed(500)), None);
    }

    /// Every change of state is broadcast, so refused references are judged again.
    #[tokio::test]
    async fn a_change_of_state_is_broadcast_and_ends_the_wait() {
        let grants = ReferenceGrants::default();
        let mut changes = grants.subscribe();
        let index = grants.add_scope(None, reflector::store().0);
        grants.set_state(index, State::NotInstalled);
        assert_eq!(changes.try_recv().ok(), Some(Change::All));
        grants.wait_loaded(Duration::from_secs(5)).await;
        grants.set_state(index, State::NotInstalled);
        assert!(changes.try_recv().is_err(), "no change, no broadcast");
    }
}
