//! Which ApiTokens use which Secret, kept up to date from the watch, so that a Secret event
//! costs work in proportion to the ApiTokens that name it rather than a scan of them all.

use std::collections::{HashMap, HashSet};

use crate::target::Target;

pub use crate::target::Role;

/// What the index knows of one ApiToken.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry<K> {
    key: K,
    uses: Vec<(Target, Role)>,
}

/// Secret → the ApiTokens (by uid) that use it; `K` is whatever the caller needs to find one
/// again (its scope and object reference).
#[derive(Debug)]
pub struct SecretIndex<K> {
    by_uid: HashMap<String, Entry<K>>,
    by_secret: HashMap<Target, HashSet<String>>,
}

impl<K> Default for SecretIndex<K> {
    fn default() -> Self {
        Self {
            by_uid: HashMap::new(),
            by_secret: HashMap::new(),
        }
    }
}

impl<K: Clone> SecretIndex<K> {
    /// Records (or replaces) what the ApiToken `uid` uses.
    pub fn put(&mut self, uid: &str, key: K, uses: Vec<(Target, Role)>) {
        self.remove(uid);
        for (target, _) in &uses {
            self.by_secret
                .entry(target.clone())
                .or_default()
                .insert(uid.to_owned());
        }
        self.by_uid.insert(uid.to_owned(), Entry { key, uses });
    }

    /// Forgets the ApiToken `uid`.
    pub fn remove(&mut self, uid: &str) {
        let Some(entry) = self.by_uid.remove(uid) else {
            return;
        };
        for (target, _) in entry.uses {
            if let Some(uids) = self.by_secret.get_mut(&target) {
                uids.remove(uid);
                if uids.is_empty() {
                    self.by_secret.remove(&target);
                }
            }
        }
    }

    /// Forgets every ApiToken for which `drop` holds (a scope relisted its cache).
    pub fn remove_where(&mut self, drop: impl Fn(&K) -> bool) {
        let gone: Vec<String> = self
            .by_uid
            .iter()
            .filter(|(_, e)| drop(&e.key))
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in gone {
            self.remove(&uid);
        }
    }

    /// The ApiTokens that use `target` in any role, plus the one whose uid is `owner`.
    pub fn users(&self, target: &Target, owner: Option<&str>) -> Vec<K> {
        let mut uids: HashSet<&str> = self
            .by_secret
            .get(target)
            .map(|uids| uids.iter().map(String::as_str).collect())
            .unwrap_or_default();
        if let Some(owner) = owner {
            uids.insert(owner);
        }
        uids.into_iter()
            .filter_map(|uid| self.by_uid.get(uid))
            .map(|e| e.key.clone())
            .collect()
    }

    /// The ApiTokens other than `uid` that write their token to `target`.
    pub fn writers(&self, target: &Target, except: &str) -> Vec<K> {
        let Some(uids) = self.by_secret.get(target) else {
            return Vec::new();
        };
        uids.iter()
            .filter(|uid| uid.as_str() != except)
            .filter_map(|uid| self.by_uid.get(uid))
            .filter(|e| {
                e.uses
                    .iter()
                    .any(|(t, r)| t == target && *r == Role::Result)
            })
            .map(|e| e.key.clone())
            .collect()
    }

    /// The ApiTokens that use a Secret for which `pick` holds (with what finds them again):
    /// a scan of every entry, for rare events such as a changed ReferenceGrant.
    pub fn users_where(&self, pick: impl Fn(&K, &Target) -> bool) -> Vec<K> {
        self.by_uid
            .values()
            .filter(|e| e.uses.iter().any(|(t, _)| pick(&e.key, t)))
            .map(|e| e.key.clone())
            .collect()
    }

    /// How many ApiTokens the index holds.
    pub fn len(&self) -> usize {
        self.by_uid.len()
    }

    /// Whether the index holds none.
    pub fn is_empty(&self) -> bool {
        self.by_uid.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ns: &str, name: &str) -> Target {
        Target {
            namespace: ns.into(),
            name: name.into(),
        }
    }

    #[test]
    fn users_are_found_by_secret_and_by_owner() {
        let mut index = SecretIndex::default();
        index.put(
            "a",
            "A",
            vec![(t("n", "conn"), Role::Input), (t("n", "a"), Role::Result)],
        );
        index.put(
            "b",
            "B",
            vec![(t("n", "conn"), Role::Input), (t("n", "b"), Role::Result)],
        );
        let mut conn = index.users(&t("n", "conn"), None);
        conn.sort();
        assert_eq!(conn, vec!["A", "B"]);
        assert_eq!(index.users(&t("n", "a"), None), vec!["A"]);
        assert_eq!(index.users(&t("n", "other"), Some("b")), vec!["B"]);
        assert!(index.users(&t("m", "conn"), None).is_empty());
    }

    #[test]
    fn a_change_of_spec_moves_the_entry_and_removal_forgets_it() {
        let mut index = SecretIndex::default();
        index.put("a", "A", vec![(t("n", "old"), Role::Result)]);
        index.put("a", "A", vec![(t("n", "new"), Role::Result)]);
        assert!(index.users(&t("n", "old"), None).is_empty());
        assert_eq!(index.users(&t("n", "new"), None), vec!["A"]);
        index.remove("a");
        assert!(index.is_empty());
        assert!(index.users(&t("n", "new"), None).is_empty());
    }

    #[test]
    fn users_where_picks_by_any_secret_once_each() {
        let mut index = SecretIndex::default();
        index.put(
            "a",
            "A",
            vec![(t("b", "conn"), Role::Input), (t("b", "out"), Role::Result)],
        );
        index.put("c", "C", vec![(t("c", "conn"), Role::Input)]);
        assert_eq!(index.users_where(|_, t| t.namespace == "b"), vec!["A"]);
        assert!(index.users_where(|_, t| t.namespace == "z").is_empty());
    }

    #[test]
    fn writers_of_a_result_secret_leave_out_readers_and_oneself() {
        let mut index = SecretIndex::default();
        index.put("a", "A", vec![(t("n", "shared"), Role::Result)]);
        index.put("b", "B", vec![(t("n", "shared"), Role::Result)]);
        index.put("c", "C", vec![(t("n", "shared"), Role::Input)]);
        assert_eq!(index.writers(&t("n", "shared"), "a"), vec!["B"]);
        index.remove_where(|k| *k == "B");
        assert!(index.writers(&t("n", "shared"), "a").is_empty());
        assert_eq!(index.len(), 2);
    }
}
