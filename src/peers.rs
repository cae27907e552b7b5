//! Other ApiTokens, as the controller's caches see them: who else names the same result Secret,
//! and a way to make them reconcile so that a shared Secret is reported on both sides.

use crate::context::CrossNamespacePolicy;
use crate::crd::ApiToken;
use crate::reconcile::inputs_result_target;
use futures::channel::mpsc::UnboundedSender;
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};
use std::sync::{Arc, Mutex};

/// One controller scope: its cache of ApiTokens and the channel that makes it reconcile one.
type Scope = (Store<ApiToken>, UnboundedSender<ObjectRef<ApiToken>>);

/// The caches and wake-up channels of every running controller scope.
#[derive(Default)]
pub struct Peers {
    scopes: Mutex<Vec<Scope>>,
}

impl Peers {
    /// Registers one controller scope's cache and its reconcile trigger.
    pub fn register(&self, store: Store<ApiToken>, nudge: UnboundedSender<ObjectRef<ApiToken>>) {
        self.scopes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((store, nudge));
    }

    /// Live ApiTokens other than `me` whose result Secret is the same as `me`'s.
    pub fn sharing_result_secret(&self, me: &ApiToken) -> Vec<Arc<ApiToken>> {
        // The policy does not matter for where a Secret is named, only for whether it is used.
        let Ok(mine) = inputs_result_target(me, CrossNamespacePolicy::Allow) else {
            return Vec::new();
        };
        let scopes = self.scopes.lock().unwrap_or_else(|p| p.into_inner());
        scopes
            .iter()
            .flat_map(|(store, _)| store.state())
            .filter(|other| other.uid() != me.uid() && other.metadata.deletion_timestamp.is_none())
            .filter(|other| {
                inputs_result_target(other, CrossNamespacePolicy::Allow).is_ok_and(|t| t == mine)
            })
            .collect()
    }

    /// Every ApiToken in the caches, for questions about all of them (which tokens are tracked).
    pub fn all(&self) -> Vec<Arc<ApiToken>> {
        let scopes = self.scopes.lock().unwrap_or_else(|p| p.into_inner());
        scopes.iter().flat_map(|(store, _)| store.state()).collect()
    }

    /// Asks the controller to reconcile `token` soon.
    pub fn nudge(&self, token: &ApiToken) {
        let reference = ObjectRef::from_obj(token);
        for (_, nudge) in self.scopes.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = nudge.unbounded_send(reference.clone());
        }
    }
}
