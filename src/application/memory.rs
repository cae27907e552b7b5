//! What this process wrote about Applications, and the locks that keep two of them from
//! creating in one organization at once.
//!
//! The controller's cache can lag behind our own writes. As the only writer of Application
//! status, our last write is the truth; reading a stale status could create a second
//! application.

use super::crd::ApplicationStatus;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

/// Bound on remembered deletions, should the caches somehow never report them gone.
const MAX_CLEANED: usize = 10_000;

/// The last status written per Application UID, and the UIDs whose cleanup has completed.
#[derive(Default)]
pub struct Written(Mutex<State>);

#[derive(Default)]
struct State {
    statuses: HashMap<String, ApplicationStatus>,
    cleaned: HashSet<String>,
}

impl Written {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The status last written for `uid`, else `cached` (the controller's view).
    pub fn current(
        &self,
        uid: &str,
        cached: Option<&ApplicationStatus>,
    ) -> Option<ApplicationStatus> {
        self.lock()
            .statuses
            .get(uid)
            .cloned()
            .or_else(|| cached.cloned())
    }

    /// Whether this process remembers a status it wrote for `uid`.
    pub fn knows(&self, uid: &str) -> bool {
        self.lock().statuses.contains_key(uid)
    }

    /// Remembers a status just written.
    pub fn remember(&self, uid: &str, status: &ApplicationStatus) {
        self.lock().statuses.insert(uid.to_owned(), status.clone());
    }

    /// Notes that the cleanup of `uid` completed: a stale cached copy must not clean twice.
    pub fn cleaned(&self, uid: &str) {
        let mut state = self.lock();
        state.statuses.remove(uid);
        if state.cleaned.len() >= MAX_CLEANED {
            state.cleaned.clear();
        }
        state.cleaned.insert(uid.to_owned());
    }

    /// Whether this process already completed the cleanup of `uid`.
    pub fn is_cleaned(&self, uid: &str) -> bool {
        self.lock().cleaned.contains(uid)
    }

    /// Keeps only what concerns UIDs for which `live` holds.
    pub fn retain(&self, live: impl Fn(&str) -> bool) {
        let mut state = self.lock();
        state.statuses.retain(|uid, _| live(uid));
        state.cleaned.retain(|uid| live(uid));
    }

    /// How many statuses and cleaned UIDs are remembered.
    pub fn sizes(&self) -> (usize, usize) {
        let state = self.lock();
        (state.statuses.len(), state.cleaned.len())
    }
}

/// One lock per (host, organization): finding an application by name, and creating one, are
/// done by one Application at a time, so two never take over or create the same one.
#[derive(Default)]
pub struct OrgLocks(Mutex<HashMap<OrgKey, Arc<tokio::sync::Mutex<()>>>>);

/// (host, organization).
type OrgKey = (String, String);

impl OrgLocks {
    /// Waits for the organization's lock.
    pub async fn lock(&self, host: &str, org: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.0.lock().unwrap_or_else(|p| p.into_inner());
            // Drop the locks nobody holds or waits for, so the map does not grow forever.
            locks.retain(|_, l| Arc::strong_count(l) > 1);
            locks
                .entry((host.to_owned(), org.to_owned()))
                .or_default()
                .clone()
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_last_write_wins_until_cleaned() {
        let w = Written::default();
        let cached = ApplicationStatus {
            message: "old".into(),
            ..Default::default()
        };
        assert_eq!(w.current("u", Some(&cached)).unwrap().message, "old");
        w.remember(
            "u",
            &ApplicationStatus {
                message: "new".into(),
                ..Default::default()
            },
        );
        assert!(w.knows("u"));
        assert_eq!(w.current("u", Some(&cached)).unwrap().message, "new");
        w.cleaned("u");
        assert!(w.is_cleaned("u") && !w.knows("u"));
        w.retain(|_| false);
        assert_eq!(w.sizes(), (0, 0));
    }

    #[tokio::test]
    async fn one_organization_at_a_time_others_in_parallel() {
        let locks = OrgLocks::default();
        let held = locks.lock("h", "o").await;
        let other = tokio::time::timeout(std::time::Duration::from_secs(1), locks.lock("h", "p"));
        assert!(other.await.is_ok(), "another organization is not blocked");
        let same = tokio::time::timeout(std::time::Duration::from_millis(50), locks.lock("h", "o"));
        assert!(same.await.is_err(), "the same organization waits");
        drop(held);
        let again = tokio::time::timeout(std::time::Duration::from_secs(1), locks.lock("h", "o"));
        assert!(again.await.is_ok());
    }
}
