//! Which scopes a mint asks Quay for: `rights` as the account can hold them. Pure.

use crate::crd::{Right, scopes_of};

/// The scopes to mint, and those of `all` that the account cannot hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Quay scope names to request, in Quay's order.
    pub scopes: Vec<&'static str>,
    /// Scopes that `all` stands for but that were left out (only `super:user` today).
    pub left_out: Vec<&'static str>,
}

/// Whether minting `rights` needs to know if the account is a Quay superuser.
pub fn needs_superuser_check(rights: &[Right]) -> bool {
    rights.contains(&Right::All) || rights.contains(&Right::SuperUser)
}

/// The scopes to mint. `all` means every scope the account can hold, so a non-superuser gets
/// the seven others on every Quay version; an explicit `super:user` it cannot hold is refused
/// (`Err` names the rights), since Quay's token API would refuse it and the web flow would
/// mint a scope that never works.
pub fn decide(rights: &[Right], superuser: bool) -> Result<Grant, Vec<&'static str>> {
    let scopes = scopes_of(rights);
    if superuser || !scopes.contains(&Right::SuperUser.as_str()) {
        return Ok(Grant {
            scopes,
            left_out: Vec::new(),
        });
    }
    if rights.contains(&Right::SuperUser) {
        return Err(vec![Right::SuperUser.as_str()]);
    }
    let (left_out, scopes) = scopes
        .into_iter()
        .partition(|scope| *scope == Right::SuperUser.as_str());
    Ok(Grant { scopes, left_out })
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn all_for_a_superuser_is_the_eight_scopes() {
        let grant = decide(&[Right::All], true).expect("granted");
        assert_eq!(grant.scopes.len(), 8);
        assert!(grant.left_out.is_empty());
    }

    #[test]
    fn all_for_an_ordinary_account_is_the_seven_others() {
        let grant = decide(&[Right::All], false).expect("granted");
        assert_eq!(
            grant.scopes,
            vec![
                "repo:read",
                "repo:write",
                "repo:admin",
                "repo:create",
                "user:read",
                "user:admin",
                "org:admin"
            ]
        );
        assert_eq!(grant.left_out, vec!["super:user"]);
    }

    #[test]
    fn an_explicit_super_user_needs_a_superuser() {
        assert_eq!(
            decide(&[Right::RepoRead, Right::SuperUser], false),
            Err(vec!["super:user"])
        );
        // `all` beside it does not soften an explicit request.
        assert_eq!(
            decide(&[Right::All, Right::SuperUser], false),
            Err(vec!["super:user"])
        );
        let grant = decide(&[Right::SuperUser], true).expect("granted");
        assert_eq!(grant.scopes, vec!["super:user"]);
    }

    #[test]
    fn other_rights_never_depend_on_superuser() {
        for superuser in [true, false] {
            let grant = decide(&[Right::OrgAdmin, Right::RepoRead], superuser).expect("granted");
            assert_eq!(grant.scopes, vec!["repo:read", "org:admin"]);
        }
        assert!(!needs_superuser_check(&[Right::OrgAdmin, Right::RepoRead]));
        assert!(needs_superuser_check(&[Right::All]));
    }
}
