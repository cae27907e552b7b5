//! The name a minted token carries in Quay: readable, unique per ApiToken, and within Quay's
//! limit of 255 characters (protocol §15), so that an interrupted mint can be found by it. Pure.

use sha2::{Digest, Sha256};

/// Quay's longest token name (`MAX_TOKEN_DISPLAY_NAME_LENGTH`).
pub const MAX_NAME: usize = 255;

/// `k8s:<namespace>/<name>:<uid8>`, or, when that is too long, the name cut short and marked
/// with a hash of the whole `<namespace>/<name>`: `k8s:<namespace>/<name…>~<hash8>:<uid8>`.
pub fn token_name(namespace: &str, name: &str, uid: &str) -> String {
    let uid8: String = uid.chars().take(8).collect();
    let full = format!("k8s:{namespace}/{name}:{uid8}");
    if full.chars().count() <= MAX_NAME {
        return full;
    }
    let digest = Sha256::digest(format!("{namespace}/{name}").as_bytes());
    let hash8 = &hex::encode(digest)[..8];
    let fixed = format!("k8s:{namespace}/~{hash8}:{uid8}").chars().count();
    let room = MAX_NAME.saturating_sub(fixed);
    let cut: String = name.chars().take(room).collect();
    format!("k8s:{namespace}/{cut}~{hash8}:{uid8}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const UID: &str = "0123abcd-4567-89ef-0123-456789abcdef";

    #[test]
    fn short_names_read_as_before() {
        assert_eq!(
            token_name("team-a", "quay", UID),
            "k8s:team-a/quay:0123abcd"
        );
    }

    #[test]
    fn the_longest_legal_names_fit_and_stay_apart() {
        let ns = "n".repeat(63);
        let a = format!("{}a", "x".repeat(252));
        let b = format!("{}b", "x".repeat(252));
        let name_a = token_name(&ns, &a, UID);
        let name_b = token_name(&ns, &b, UID);
        assert_eq!(name_a.chars().count(), MAX_NAME);
        assert_eq!(name_b.chars().count(), MAX_NAME);
        assert_ne!(
            name_a, name_b,
            "names that differ only past the cut stay apart"
        );
        assert!(name_a.starts_with(&format!("k8s:{ns}/xxxx")));
        assert!(name_a.ends_with(":0123abcd"));
        assert_eq!(name_a, token_name(&ns, &a, UID), "stable for one ApiToken");
    }

    #[test]
    fn a_name_at_the_limit_is_not_cut() {
        // 4 + 10 + 1 + name + 1 + 8 = 255
        let ns = "n".repeat(10);
        let name = "x".repeat(MAX_NAME - 24);
        let full = token_name(&ns, &name, UID);
        assert_eq!(full.chars().count(), MAX_NAME);
        assert!(!full.contains('~'));
        let longer = token_name(&ns, &format!("{name}y"), UID);
        assert_eq!(longer.chars().count(), MAX_NAME);
        assert!(longer.contains('~'));
    }
}
