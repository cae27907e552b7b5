//! One lifecycle for what this process remembers per object: every per-UID memory (backoff,
//! written statuses, folded events, echoes of our own writes) forgets an object when the watch
//! reports it gone, and is swept against the objects the caches still hold.

/// A memory of this process kept per object UID.
pub trait PerUid: Sync {
    /// Drops what concerns `uid`, whose object the caches no longer hold.
    fn forget(&self, uid: &str);

    /// Keeps only what concerns the UIDs for which `live` holds.
    fn retain_live(&self, live: &dyn Fn(&str) -> bool);
}

/// Forgets `uid` in each of `memories`.
pub fn forget(memories: &[&dyn PerUid], uid: &str) {
    for memory in memories {
        memory.forget(uid);
    }
}

/// Keeps in each of `memories` only what concerns the UIDs for which `live` holds.
pub fn sweep(memories: &[&dyn PerUid], live: &dyn Fn(&str) -> bool) {
    for memory in memories {
        memory.retain_live(live);
    }
}
