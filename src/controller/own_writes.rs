//! The result Secret writes of this process, so that the watch event each one causes does not
//! wake the ApiToken that made it: that reconcile would read both Secrets again only to find
//! what the writing reconcile had just left. Any other version of the Secret (someone else's
//! edit, a deletion) still wakes it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Writes remembered per Secret at most.
const MAX_PER_SECRET: usize = 4;

/// One write: which version of which Secret, and the ApiToken that wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Write {
    resource_version: String,
    writer_uid: String,
    writer_namespace: String,
    writer_name: String,
}

/// The writes of each result Secret by this process whose watch events are not seen yet,
/// keyed by `namespace/name` (an apply over a created Secret is two: the ownership patch and
/// the apply).
#[derive(Debug, Default)]
pub struct OwnWrites {
    writes: Mutex<HashMap<String, Vec<Write>>>,
}

/// The ApiToken that made a write, as the controller names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

fn key(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

impl OwnWrites {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Vec<Write>>> {
        self.writes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes that the ApiToken `writer` (by uid and name) left the Secret at `resource_version`.
    pub fn note(&self, secret: (&str, &str), resource_version: &str, writer: (&str, &str, &str)) {
        let (uid, namespace, name) = writer;
        let mut writes = self.lock();
        let of_secret = writes.entry(key(secret.0, secret.1)).or_default();
        // Another ApiToken's writes (the Secret changed hands) will never be seen as its.
        of_secret.retain(|w| w.writer_uid == uid);
        // Versions a relist skipped are never seen: a few suffice for one reconcile's writes.
        if of_secret.len() >= MAX_PER_SECRET {
            of_secret.remove(0);
        }
        of_secret.push(Write {
            resource_version: resource_version.to_owned(),
            writer_uid: uid.to_owned(),
            writer_namespace: namespace.to_owned(),
            writer_name: name.to_owned(),
        });
    }

    /// The ApiToken whose own write this version of the Secret is, if it is one; each version
    /// is seen once, so a match is forgotten. A write whose version is never seen (a relist
    /// skipped it) matches nothing later, since versions are not reused, and goes with its
    /// ApiToken.
    pub fn echo_of(&self, secret: (&str, &str), resource_version: &str) -> Option<Writer> {
        let mut writes = self.lock();
        let k = key(secret.0, secret.1);
        let of_secret = writes.get_mut(&k)?;
        let at = of_secret
            .iter()
            .position(|w| w.resource_version == resource_version)?;
        let write = of_secret.remove(at);
        if of_secret.is_empty() {
            writes.remove(&k);
        }
        Some(Writer {
            namespace: write.writer_namespace,
            name: write.writer_name,
        })
    }

    /// How many writes are remembered.
    pub fn len(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

impl crate::per_uid::PerUid for OwnWrites {
    fn forget(&self, uid: &str) {
        self.retain_live(&|writer| writer != uid);
    }

    fn retain_live(&self, live: &dyn Fn(&str) -> bool) {
        self.lock().retain(|_, of_secret| {
            of_secret.retain(|w| live(&w.writer_uid));
            !of_secret.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::per_uid::PerUid;

    #[test]
    fn only_the_version_written_is_an_echo_and_only_once() {
        let own = OwnWrites::default();
        own.note(("ns", "out"), "7", ("uid-a", "ns", "a"));
        assert_eq!(own.echo_of(("ns", "other"), "7"), None);
        let writer = own.echo_of(("ns", "out"), "7").unwrap();
        assert_eq!(
            (writer.namespace.as_str(), writer.name.as_str()),
            ("ns", "a")
        );
        assert_eq!(own.echo_of(("ns", "out"), "7"), None, "seen once");

        own.note(("ns", "out"), "9", ("uid-a", "ns", "a"));
        assert_eq!(own.echo_of(("ns", "out"), "8"), None, "an earlier version");
        assert_eq!(
            own.echo_of(("ns", "out"), "10"),
            None,
            "someone else's version"
        );
        assert_eq!(own.len(), 1, "kept until its ApiToken goes");

        own.note(("ns", "out"), "11", ("uid-a", "ns", "a"));
        assert!(
            own.echo_of(("ns", "out"), "9").is_some(),
            "two writes in a row"
        );
        assert!(own.echo_of(("ns", "out"), "11").is_some());
        assert!(own.is_empty());
    }

    #[test]
    fn writes_go_with_their_apitoken() {
        let own = OwnWrites::default();
        own.note(("ns", "x"), "1", ("uid-a", "ns", "a"));
        own.note(("ns", "y"), "2", ("uid-b", "ns", "b"));
        own.forget("uid-a");
        assert_eq!(own.len(), 1);
        own.retain_live(&|uid| uid != "uid-b");
        assert!(own.is_empty());
    }
}
