//! The ApiToken's status as the owned layer writes it: which fields it shares with every kind.

use crate::crd::{ApiToken, ApiTokenStatus};
use crate::owned::Owner;

pub use crate::owned::status::{Verdict, merge_patch, with_verdict};

impl Owner for ApiToken {
    const KIND: &'static str = "ApiToken";
    const WRITE_STATUS: &'static str = "write the ApiToken status";
}

crate::owned::status::owned_status!(
    ApiTokenStatus,
    [
        "observedGeneration",
        "secretName",
        "token",
        "pendingMint",
        "rotation",
        "replaced",
        "rejectedCredentials",
        "expiresAt",
        "renewAt",
    ]
);

/// Whether the ApiToken's Ready condition is True.
pub fn is_ready(token: &ApiToken) -> bool {
    crate::owned::status::is_ready(token.status.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::Condition;

    fn ok() -> Verdict<'static> {
        Verdict {
            ready: true,
            reason: "TokenReady",
            message: "",
        }
    }

    #[test]
    fn ready_and_successful_carry_generation_and_reasons() {
        let s = with_verdict(ApiTokenStatus::default(), &ok(), Some(3), "t0");
        assert_eq!(s.observed_generation, Some(3));
        let ready = &s.conditions[0];
        assert_eq!(
            (
                ready.type_.as_str(),
                ready.status.as_str(),
                ready.reason.as_str()
            ),
            ("Ready", "True", "TokenReady")
        );
        let successful = &s.conditions[1];
        assert_eq!(
            (successful.type_.as_str(), successful.reason.as_str()),
            ("Successful", "Successful")
        );
        assert_eq!(successful.observed_generation, Some(3));
    }

    #[test]
    fn transition_time_is_kept_while_the_status_holds() {
        let first = with_verdict(ApiTokenStatus::default(), &ok(), Some(1), "t0");
        let again = with_verdict(first.clone(), &ok(), Some(2), "t1");
        assert_eq!(
            again.conditions[0].last_transition_time.as_deref(),
            Some("t0")
        );
        let failed = with_verdict(
            again,
            &Verdict {
                ready: false,
                reason: "QuayUnavailable",
                message: "down",
            },
            Some(2),
            "t2",
        );
        assert_eq!(
            failed.conditions[0].last_transition_time.as_deref(),
            Some("t2")
        );
        assert_eq!(failed.conditions[1].reason, "QuayUnavailable");
        assert_eq!(failed.message, "down");
    }

    #[test]
    fn the_earlier_operators_conditions_are_dropped() {
        let legacy = ApiTokenStatus {
            conditions: vec![Condition {
                type_: "Running".into(),
                status: "True".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let s = with_verdict(legacy, &ok(), Some(1), "t0");
        assert!(
            s.conditions
                .iter()
                .all(|c| c.type_ == "Ready" || c.type_ == "Successful")
        );
    }

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
