//! The name a minted token carries in Quay: readable, unique per mint, and within Quay's limit
//! of 255 characters (protocol §15), so that an interrupted mint can be found by it — and only
//! that mint's token, never an older one the user asked to keep. Pure.

use sha2::{Digest, Sha256};

/// Quay's longest token name (`MAX_TOKEN_DISPLAY_NAME_LENGTH`).
pub const MAX_NAME: usize = 255;

/// Length of the mark of [`mint_mark`].
const MARK_LEN: usize = 8;

/// `k8s:<namespace>/<name>:<uid8>.<mint>`, or, when that is too long, the name cut short and
/// marked with a hash of the whole `<namespace>/<name>`: `k8s:<namespace>/<name…>~<hash8>:…`.
/// `mint` (see [`mint_mark`]) tells the mints of one ApiToken apart.
pub fn token_name(namespace: &str, name: &str, uid: &str, mint: &str) -> String {
    format!("{}{mint}", name_prefix(namespace, name, uid))
}

/// What every token name of this ApiToken starts with, whatever the mint.
pub fn name_prefix(namespace: &str, name: &str, uid: &str) -> String {
    let uid8: String = uid.chars().take(8).collect();
    let full = format!("k8s:{namespace}/{name}:{uid8}.");
    if full.chars().count() + MARK_LEN <= MAX_NAME {
        return full;
    }
    let digest = Sha256::digest(format!("{namespace}/{name}").as_bytes());
    let hash8 = &hex::encode(digest)[..8];
    let fixed = format!("k8s:{namespace}/~{hash8}:{uid8}.").chars().count() + MARK_LEN;
    let room = MAX_NAME.saturating_sub(fixed);
    let cut: String = name.chars().take(room).collect();
    format!("k8s:{namespace}/{cut}~{hash8}:{uid8}.")
}

/// A short mark that tells one mint from the others of the same ApiToken.
pub fn mint_mark() -> String {
    format!("{:0MARK_LEN$x}", rand::random::<u32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    const UID: &str = "0123abcd-4567-89ef-0123-456789abcdef";

    #[test]
    fn short_names_read_as_before() {
        assert_eq!(
            token_name("team-a", "quay", UID, "00c0ffee"),
            "k8s:team-a/quay:0123abcd.00c0ffee"
        );
        assert_ne!(
            token_name("team-a", "quay", UID, "00c0ffee"),
            token_name("team-a", "quay", UID, "00c0ffef"),
            "each mint has its own name"
        );
    }

    #[test]
    fn the_longest_legal_names_fit_and_stay_apart() {
        let ns = "n".repeat(63);
        let a = format!("{}a", "x".repeat(252));
        let b = format!("{}b", "x".repeat(252));
        let name_a = token_name(&ns, &a, UID, "00c0ffee");
        let name_b = token_name(&ns, &b, UID, "00c0ffee");
        assert_eq!(name_a.chars().count(), MAX_NAME);
        assert_eq!(name_b.chars().count(), MAX_NAME);
        assert_ne!(
            name_a, name_b,
            "names that differ only past the cut stay apart"
        );
        assert!(name_a.starts_with(&format!("k8s:{ns}/xxxx")));
        assert!(name_a.ends_with(":0123abcd.00c0ffee"));
        assert_eq!(
            name_a,
            token_name(&ns, &a, UID, "00c0ffee"),
            "stable for one mint"
        );
    }

    #[test]
    fn every_mint_of_one_apitoken_shares_its_prefix() {
        let ns = "n".repeat(63);
        for name in ["short".to_string(), "x".repeat(253)] {
            let prefix = name_prefix(&ns, &name, UID);
            let minted = token_name(&ns, &name, UID, &mint_mark());
            assert!(minted.starts_with(&prefix), "{minted}");
            assert_eq!(minted.len(), prefix.len() + 8);
        }
    }

    #[test]
    fn a_name_at_the_limit_is_not_cut() {
        // 4 + 10 + 1 + name + 1 + 8 + 1 + 8 = 255
        let ns = "n".repeat(10);
        let name = "x".repeat(MAX_NAME - 33);
        let full = token_name(&ns, &name, UID, "00c0ffee");
        assert_eq!(full.chars().count(), MAX_NAME);
        assert!(!full.contains('~'));
        let longer = token_name(&ns, &format!("{name}y"), UID, "00c0ffee");
        assert_eq!(longer.chars().count(), MAX_NAME);
        assert!(longer.contains('~'));
    }
}
