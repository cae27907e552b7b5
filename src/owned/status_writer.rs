//! The one door through which a reconcile writes its object's status: it holds the status the
//! object shows (our last write, else the cache's copy), skips writes that change nothing,
//! guards the writes that decide something in Quay, and remembers what it wrote.

use super::status::merge_patch;
use super::{OwnedError, Owner, Written};
use kube::api::{Patch, PatchParams};
use kube::{Api, Client, ResourceExt};
use std::sync::{Mutex, MutexGuard};

/// The status of one object as this reconcile knows it, and its writer.
pub struct StatusWriter<'a, K: Owner> {
    client: &'a Client,
    memory: &'a Written<K::Status>,
    object: &'a K,
    shown: Mutex<Option<K::Status>>,
}

impl<'a, K: Owner> StatusWriter<'a, K> {
    /// The writer of `object`'s status, starting from what `memory` remembers of it, else
    /// from the cached copy.
    pub fn new(client: &'a Client, memory: &'a Written<K::Status>, object: &'a K) -> Self {
        let shown = memory.current(&object.uid().unwrap_or_default(), object.status());
        StatusWriter {
            client,
            memory,
            object,
            shown: Mutex::new(shown),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<K::Status>> {
        self.shown.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The status the object shows now, if any.
    fn shown(&self) -> Option<K::Status> {
        self.lock().clone()
    }

    /// The status the object shows now, empty when it shows none.
    pub fn current(&self) -> K::Status {
        self.shown().unwrap_or_default()
    }

    /// Writes `next` as the status unless the object shows it already.
    pub async fn write(&self, next: K::Status) -> Result<(), OwnedError> {
        self.write_with(next, false).await
    }

    /// Like [`write`](Self::write), for a write that decides a change in Quay (an intent):
    /// when this process has no memory of the object (after a restart or a failover) the write
    /// is made only if the cached copy it was decided on is still current, so a stale cache
    /// never leads to a second mint or create; else [`OwnedError::StaleRead`].
    pub async fn write_guarded(&self, next: K::Status) -> Result<(), OwnedError> {
        self.write_with(next, true).await
    }

    async fn write_with(&self, next: K::Status, guarded: bool) -> Result<(), OwnedError> {
        let shown = self.shown();
        if shown.as_ref() == Some(&next) {
            return Ok(());
        }
        let uid = self.object.uid().unwrap_or_default();
        let mut patch = merge_patch(shown.as_ref(), &next);
        let guard = self
            .object
            .resource_version()
            .filter(|_| guarded && !self.memory.knows(&uid));
        if let (Some(version), Some(map)) = (guard, patch.as_object_mut()) {
            map.insert(
                "metadata".into(),
                serde_json::json!({ "resourceVersion": version }),
            );
        }
        let ns = self.object.namespace().unwrap_or_default();
        match Api::<K>::namespaced(self.client.clone(), &ns)
            .patch_status(
                &self.object.name_any(),
                &PatchParams::default(),
                &Patch::Merge(patch),
            )
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => return Err(OwnedError::StaleRead),
            Err(source) => {
                return Err(OwnedError::Kube {
                    action: K::WRITE_STATUS,
                    source,
                });
            }
        }
        self.memory.remember(&uid, &next);
        *self.lock() = Some(next);
        Ok(())
    }
}
