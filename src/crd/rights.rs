//! The rights an ApiToken asks for, and the Quay scopes they stand for.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A permission the token grants; `all` stands for every one of them.
#[derive(
    JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
pub enum Right {
    /// Administer organizations.
    #[serde(rename = "org:admin")]
    OrgAdmin,
    /// Administer repositories.
    #[serde(rename = "repo:admin")]
    RepoAdmin,
    /// Create repositories.
    #[serde(rename = "repo:create")]
    RepoCreate,
    /// View and pull repositories.
    #[serde(rename = "repo:read")]
    RepoRead,
    /// Read and write repositories.
    #[serde(rename = "repo:write")]
    RepoWrite,
    /// Super user access.
    #[serde(rename = "super:user")]
    SuperUser,
    /// Administer the user.
    #[serde(rename = "user:admin")]
    UserAdmin,
    /// Read user information.
    #[serde(rename = "user:read")]
    UserRead,
    /// All the permissions above.
    #[serde(rename = "all")]
    All,
}

impl Right {
    /// The eight Quay scopes, in Quay's own order.
    pub const SCOPES: [Right; 8] = [
        Right::RepoRead,
        Right::RepoWrite,
        Right::RepoAdmin,
        Right::RepoCreate,
        Right::UserRead,
        Right::UserAdmin,
        Right::OrgAdmin,
        Right::SuperUser,
    ];

    /// The name users write in `rights`, which is also Quay's scope name.
    pub fn as_str(self) -> &'static str {
        match self {
            Right::OrgAdmin => "org:admin",
            Right::RepoAdmin => "repo:admin",
            Right::RepoCreate => "repo:create",
            Right::RepoRead => "repo:read",
            Right::RepoWrite => "repo:write",
            Right::SuperUser => "super:user",
            Right::UserAdmin => "user:admin",
            Right::UserRead => "user:read",
            Right::All => "all",
        }
    }
}

/// Expands `rights` into Quay scope names: `all` becomes the eight scopes, duplicates go.
pub fn scopes_of(rights: &[Right]) -> Vec<&'static str> {
    let wanted: Vec<Right> = if rights.contains(&Right::All) {
        Right::SCOPES.to_vec()
    } else {
        Right::SCOPES
            .iter()
            .copied()
            .filter(|r| rights.contains(r))
            .collect()
    };
    wanted.into_iter().map(Right::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_expands_to_the_eight_scopes() {
        assert_eq!(
            scopes_of(&[Right::All, Right::RepoRead]),
            vec![
                "repo:read",
                "repo:write",
                "repo:admin",
                "repo:create",
                "user:read",
                "user:admin",
                "org:admin",
                "super:user"
            ]
        );
    }

    #[test]
    fn scopes_are_deduplicated_in_a_stable_order() {
        assert_eq!(
            scopes_of(&[Right::OrgAdmin, Right::RepoRead, Right::OrgAdmin]),
            vec!["repo:read", "org:admin"]
        );
    }
}
