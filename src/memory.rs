//! What this process wrote: the last status per ApiToken, and which deletions it completed.
//!
//! The controller's cache can lag behind our own writes. As the only writer of ApiToken status,
//! our last write is the truth; reading a stale status would mint a second token.

use crate::crd::{ApiTokenStatus, TokenRecord};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Bound on remembered deletions, should the caches somehow never report them gone.
const MAX_CLEANED: usize = 10_000;
/// How long a cleaned UID outlives its object in the caches: a reconcile that picked up the
/// last cached copy just before the cache dropped it must still see that it was cleaned.
const CLEANED_GRACE: Duration = Duration::from_secs(5);

/// The last status written per ApiToken UID, and the UIDs whose cleanup has completed.
#[derive(Default)]
pub struct StatusMemory(Mutex<Memory>);

#[derive(Default)]
struct Memory {
    written: HashMap<String, ApiTokenStatus>,
    /// Cleaned UIDs; `Some(t)` once the caches no longer hold the object (since `t`).
    cleaned: HashMap<String, Option<Instant>>,
}

impl Memory {
    /// Drops the cleaned UIDs whose grace has passed.
    fn expire(&mut self, now: Instant) {
        self.cleaned
            .retain(|_, gone| gone.is_none_or(|t| now.duration_since(t) < CLEANED_GRACE));
    }

    /// Notes that the caches no longer hold `uid`.
    fn gone(&mut self, uid: &str, now: Instant) {
        self.written.remove(uid);
        if let Some(gone @ None) = self.cleaned.get_mut(uid) {
            *gone = Some(now);
        }
    }
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

    /// Whether this process wrote a status for `uid` that it still remembers (then that
    /// status, not the cache's, is the truth).
    pub fn knows(&self, uid: &str) -> bool {
        self.lock().written.contains_key(uid)
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
            memory.expire(Instant::now());
            memory.cleaned.retain(|_, gone| gone.is_none());
        }
        if memory.cleaned.len() >= MAX_CLEANED {
            memory.cleaned.clear();
        }
        memory.cleaned.insert(uid.to_string(), None);
    }

    /// Whether this process already completed the cleanup of `uid`.
    pub fn is_cleaned(&self, uid: &str) -> bool {
        self.lock().cleaned.contains_key(uid)
    }

    /// The caches dropped `uid`: its status goes now, its cleaned mark after a short grace.
    pub fn forget(&self, uid: &str) {
        let now = Instant::now();
        let mut memory = self.lock();
        memory.gone(uid, now);
        memory.expire(now);
    }

    /// Keeps only what concerns UIDs for which `live` holds, as `forget` would for the others.
    pub fn retain(&self, live: impl Fn(&str) -> bool) {
        let now = Instant::now();
        let mut memory = self.lock();
        let dead: Vec<String> = memory
            .written
            .keys()
            .chain(memory.cleaned.keys())
            .filter(|uid| !live(uid))
            .cloned()
            .collect();
        for uid in &dead {
            memory.gone(uid, now);
        }
        memory.expire(now);
    }

    /// The token records of every remembered status.
    pub fn records(&self) -> Vec<TokenRecord> {
        self.lock()
            .written
            .values()
            .filter_map(|s| s.token.clone())
            .collect()
    }

    /// How many statuses and cleaned UIDs are remembered.
    pub fn sizes(&self) -> (usize, usize) {
        let memory = self.lock();
        (memory.written.len(), memory.cleaned.len())
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

    #[test]
    fn a_cleaned_uid_outlives_its_object_only_briefly() {
        let m = StatusMemory::default();
        m.cleaned("u");
        m.retain(|uid| uid == "u");
        assert!(m.is_cleaned("u"), "still cached: kept");
        m.forget("u");
        assert!(m.is_cleaned("u"), "just gone: kept for the grace");
        let later = Instant::now() + CLEANED_GRACE;
        m.lock().expire(later);
        assert!(!m.is_cleaned("u"));
        assert_eq!(m.sizes(), (0, 0));
    }

    #[test]
    fn statuses_of_objects_no_cache_holds_are_dropped() {
        let m = StatusMemory::default();
        m.remember("kept", &ApiTokenStatus::default());
        m.remember("gone", &ApiTokenStatus::default());
        m.retain(|uid| uid == "kept");
        assert_eq!(m.sizes(), (1, 0));
        assert!(m.current("gone", None).is_none());
    }
}
