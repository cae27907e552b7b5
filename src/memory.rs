//! What this process wrote: the last status per ApiToken, and which deletions it completed.
//!
//! The controller's cache can lag behind our own writes. As the only writer of ApiToken status,
//! our last write is the truth; reading a stale status would mint a second token.

use crate::crd::ApiTokenStatus;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// Bound on remembered deletions; old ones only matter for a few seconds.
const MAX_CLEANED: usize = 10_000;

/// The last status written per ApiToken UID, and the UIDs whose cleanup has completed.
#[derive(Default)]
pub struct StatusMemory(Mutex<Memory>);

#[derive(Default)]
struct Memory {
    written: HashMap<String, ApiTokenStatus>,
    cleaned: HashSet<String>,
}

impl StatusMemory {
    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The status last written for `uid`, else `cached` (the controller's view).
    pub fn current(&self, uid: &str, cached: Option<&ApiTokenStatus>) -> Option<ApiTokenStatus> {
        self.lock()
            .written
            .get(uid)
            .cloned()
            .or_else(|| cached.cloned())
    }

    /// Remembers a status just written.
    pub fn remember(&self, uid: &str, status: &ApiTokenStatus) {
        self.lock().written.insert(uid.to_string(), status.clone());
    }

    /// Forgets a deleted ApiToken and notes that its cleanup is done: the cache may hand the
    /// object over once more, and cleaning up twice would report a revoke that never happened.
    pub fn cleaned(&self, uid: &str) {
        let mut memory = self.lock();
        memory.written.remove(uid);
        if memory.cleaned.len() >= MAX_CLEANED {
            memory.cleaned.clear();
        }
        memory.cleaned.insert(uid.to_string());
    }

    /// Whether this process already completed the cleanup of `uid`.
    pub fn is_cleaned(&self, uid: &str) -> bool {
        self.lock().cleaned.contains(uid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_last_write_wins_over_the_cache() {
        let m = StatusMemory::default();
        let cached = ApiTokenStatus {
            message: "old".into(),
            ..Default::default()
        };
        assert_eq!(m.current("u", Some(&cached)).unwrap().message, "old");
        m.remember(
            "u",
            &ApiTokenStatus {
                message: "new".into(),
                ..Default::default()
            },
        );
        assert_eq!(m.current("u", Some(&cached)).unwrap().message, "new");
        m.cleaned("u");
        assert!(m.is_cleaned("u"));
        assert_eq!(m.current("u", Some(&cached)).unwrap().message, "old");
    }
}
