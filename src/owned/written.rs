//! What this process wrote, per owner UID, for either kind: the last status, and which
//! deletions it completed.
//!
//! The controller's cache can lag behind our own writes. As the only writer of the status, our
//! last write is the truth; reading a stale status would mint a second token or create a
//! second application.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Bound on remembered deletions, should the caches somehow never report them gone.
const MAX_CLEANED: usize = 10_000;
/// How long a cleaned UID outlives its object in the caches: a reconcile that picked up the
/// last cached copy just before the cache dropped it must still see that it was cleaned.
pub const CLEANED_GRACE: Duration = Duration::from_secs(5);

/// The last status written per UID, and the UIDs whose cleanup has completed.
pub struct Written<S>(Mutex<Memory<S>>);

struct Memory<S> {
    written: HashMap<String, S>,
    /// Cleaned UIDs; `Some(t)` once the caches no longer hold the object (since `t`).
    cleaned: HashMap<String, Option<Instant>>,
}

impl<S> Default for Written<S> {
    fn default() -> Self {
        Written(Mutex::new(Memory {
            written: HashMap::new(),
            cleaned: HashMap::new(),
        }))
    }
}

impl<S> Memory<S> {
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

impl<S: Clone> Written<S> {
    fn lock(&self) -> MutexGuard<'_, Memory<S>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The status last written for `uid`, else `cached` (the controller's view).
    pub fn current(&self, uid: &str, cached: Option<&S>) -> Option<S> {
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
    pub fn remember(&self, uid: &str, status: &S) {
        self.lock().written.insert(uid.to_string(), status.clone());
    }

    /// Forgets a deleted object and notes that its cleanup is done: the cache may hand the
    /// object over once more, and cleaning up twice would report work that never happened.
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

    /// What `pick` takes from every remembered status.
    pub fn collect<T>(&self, pick: impl Fn(&S) -> Option<T>) -> Vec<T> {
        self.lock().written.values().filter_map(pick).collect()
    }

    /// How many statuses and cleaned UIDs are remembered.
    pub fn sizes(&self) -> (usize, usize) {
        let memory = self.lock();
        (memory.written.len(), memory.cleaned.len())
    }
}

/// A status goes as soon as the caches drop its object; a cleaned mark [`CLEANED_GRACE`] later.
impl<S: Clone + Send> crate::per_uid::PerUid for Written<S> {
    fn forget(&self, uid: &str) {
        let now = Instant::now();
        let mut memory = self.lock();
        memory.gone(uid, now);
        memory.expire(now);
    }

    fn retain_live(&self, live: &dyn Fn(&str) -> bool) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::ApplicationStatus;
    use crate::crd::ApiTokenStatus;
    use crate::per_uid::PerUid;

    #[test]
    fn our_last_write_wins_over_the_cache() {
        let m = Written::<ApiTokenStatus>::default();
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
        assert!(m.knows("u"));
        assert_eq!(m.current("u", Some(&cached)).unwrap().message, "new");
        m.cleaned("u");
        assert!(m.is_cleaned("u") && !m.knows("u"));
        assert_eq!(m.current("u", Some(&cached)).unwrap().message, "old");
    }

    /// One rule for both kinds: a cleaned UID outlives its object in the caches by the grace,
    /// whether the caches report it gone one by one or a sweep finds it missing.
    fn a_cleaned_uid_outlives_its_object_only_briefly<S: Clone + Default + Send>(m: &Written<S>) {
        m.cleaned("swept");
        m.cleaned("forgotten");
        m.retain_live(&|_| true);
        assert!(m.is_cleaned("swept"), "still cached: kept");
        m.retain_live(&|uid| uid != "swept");
        assert!(m.is_cleaned("swept"), "just gone: kept for the grace");
        m.forget("forgotten");
        assert!(m.is_cleaned("forgotten"), "just gone: kept for the grace");
        m.lock().expire(Instant::now() + CLEANED_GRACE);
        assert!(!m.is_cleaned("swept") && !m.is_cleaned("forgotten"));
        assert_eq!(m.sizes(), (0, 0));
    }

    #[test]
    fn a_cleaned_apitoken_outlives_its_object_only_briefly() {
        a_cleaned_uid_outlives_its_object_only_briefly(&Written::<ApiTokenStatus>::default());
    }

    #[test]
    fn a_cleaned_application_outlives_its_object_only_briefly() {
        a_cleaned_uid_outlives_its_object_only_briefly(&Written::<ApplicationStatus>::default());
    }

    #[test]
    fn statuses_of_objects_no_cache_holds_are_dropped() {
        let m = Written::<ApplicationStatus>::default();
        m.remember("kept", &ApplicationStatus::default());
        m.remember("gone", &ApplicationStatus::default());
        m.retain_live(&|uid| uid == "kept");
        assert_eq!(m.sizes(), (1, 0));
        assert!(m.current("gone", None).is_none());
    }
}
