//! The ApiToken's status as the owned layer writes it: which fields it shares with every kind.

use crate::crd::{ApiToken, ApiTokenStatus};

pub use crate::owned::status::{Verdict, merge_patch, with_verdict};

crate::owned::status::owned_kind!(ApiToken, ApiTokenStatus);

/// Whether the ApiToken's Ready condition is True.
pub fn is_ready(token: &ApiToken) -> bool {
    crate::owned::status::is_ready(token.status.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_nulls_absent_fields() {
        let p = merge_patch(None, &ApiTokenStatus::default());
        assert!(p["status"]["pendingMint"].is_null() && p["status"].get("pendingMint").is_some());
        assert!(p["status"].get("token").is_some());
        assert!(p["status"].get("expiresAt").is_some_and(|v| v.is_null()));
    }

    /// A new token record that lacks fields of the one it replaces does not inherit them.
    #[test]
    fn merge_patch_nulls_what_a_nested_record_lost() {
        use crate::crd::TokenRecord;
        let old = ApiTokenStatus {
            token: Some(TokenRecord {
                id: Some("old".into()),
                expires_at: Some("2036-01-01T00:00:00Z".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let next = ApiTokenStatus {
            token: Some(TokenRecord {
                assigned_to: Some("dwilde".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let p = merge_patch(Some(&old), &next);
        let token = &p["status"]["token"];
        assert!(token.get("id").is_some_and(|v| v.is_null()), "{p}");
        assert!(token.get("expiresAt").is_some_and(|v| v.is_null()), "{p}");
        assert_eq!(token["assignedTo"], "dwilde");
    }
}
