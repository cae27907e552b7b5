//! Which tokens an interrupted web-flow mint left behind. Pure.
//!
//! Web-flow tokens have no names. An intent records the application's tokens of the account
//! before the mint; afterwards, under the account's mint lock, a token of the application with
//! the intent's scopes that is neither among those nor recorded by any ApiToken is the one the
//! interrupted mint made.

use std::collections::{HashMap, HashSet};

/// The ids to revoke: in `now` (id → sorted scopes), not in `known` (before the mint), not in
/// `tracked` (recorded by an ApiToken), and with exactly the intent's `scopes` when it has any.
pub fn web_flow_orphans(
    now: &HashMap<String, Vec<String>>,
    known: &[String],
    scopes: &[String],
    tracked: &HashSet<String>,
) -> Vec<String> {
    let mut wanted = scopes.to_vec();
    wanted.sort();
    let mut ids: Vec<String> = now
        .iter()
        .filter(|(id, _)| !known.contains(id) && !tracked.contains(*id))
        .filter(|(_, have)| wanted.is_empty() || **have == wanted)
        .map(|(id, _)| id.clone())
        .collect();
    ids.sort();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> HashMap<String, Vec<String>> {
        HashMap::from([
            ("old".to_string(), vec!["repo:read".to_string()]),
            ("ours".to_string(), vec!["repo:read".to_string()]),
            ("other-scopes".to_string(), vec!["org:admin".to_string()]),
            ("tracked".to_string(), vec!["repo:read".to_string()]),
        ])
    }

    #[test]
    fn only_the_new_untracked_token_with_the_scopes_is_an_orphan() {
        let tracked = HashSet::from(["tracked".to_string()]);
        assert_eq!(
            web_flow_orphans(&now(), &["old".into()], &["repo:read".into()], &tracked),
            vec!["ours".to_string()]
        );
    }

    #[test]
    fn tokens_from_before_the_mint_are_never_orphans() {
        // preserveInQuayOnDeletion keeps replaced tokens live: they predate the intent.
        let known: Vec<String> = now().into_keys().collect();
        assert!(
            web_flow_orphans(&now(), &known, &["repo:read".into()], &HashSet::new()).is_empty()
        );
    }
}
