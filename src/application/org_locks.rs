//! The locks that keep two Applications from finding or creating in one organization at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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
