//! The Application's status as the owned layer writes it: which fields it shares with every kind.

use super::crd::{Application, ApplicationStatus};
use crate::owned::Owner;

pub use crate::owned::status::{Verdict, is_ready, merge_patch, with_verdict};

/// Condition reason of a ready Application.
pub const READY_REASON: &str = "ApplicationReady";

impl Owner for Application {
    const KIND: &'static str = "Application";
    const WRITE_STATUS: &'static str = "write the Application status";
}

crate::owned::status::owned_status!(
    ApplicationStatus,
    [
        "observedGeneration",
        "secretName",
        "application",
        "pendingCreate",
        "rejectedCredentials",
    ]
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::Condition;

    fn ok() -> Verdict<'static> {
        Verdict {
            ready: true,
            reason: READY_REASON,
            message: "",
        }
    }

    #[test]
    fn ready_and_successful_carry_the_generation() {
        let s = with_verdict(ApplicationStatus::default(), &ok(), Some(4), "t0");
        assert_eq!(s.observed_generation, Some(4));
        assert_eq!(s.conditions.len(), 2);
        assert_eq!(
            (
                s.conditions[0].type_.as_str(),
                s.conditions[0].reason.as_str()
            ),
            ("Ready", READY_REASON)
        );
        assert_eq!(s.conditions[1].reason, "Successful");
        assert!(
            s.conditions
                .iter()
                .all(|c| c.observed_generation == Some(4))
        );
        assert!(is_ready(Some(&s)));
    }

    #[test]
    fn a_transition_time_holds_until_the_status_flips() {
        let first = with_verdict(ApplicationStatus::default(), &ok(), Some(1), "t0");
        let again = with_verdict(first, &ok(), Some(2), "t1");
        assert_eq!(
            again.conditions[0].last_transition_time.as_deref(),
            Some("t0")
        );
        let failed = Verdict {
            ready: false,
            reason: "QuayUnavailable",
            message: "down",
        };
        let failed = with_verdict(again, &failed, Some(2), "t2");
        assert_eq!(
            failed.conditions[0].last_transition_time.as_deref(),
            Some("t2")
        );
        assert_eq!(failed.conditions[1].reason, "QuayUnavailable");
        assert_eq!(failed.message, "down");
        assert!(!is_ready(Some(&failed)));
    }

    #[test]
    fn the_earlier_operators_conditions_go_and_absent_fields_are_nulled() {
        let legacy = ApplicationStatus {
            conditions: vec![Condition {
                type_: "Running".into(),
                status: "True".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let s = with_verdict(legacy, &ok(), Some(1), "t0");
        assert!(s.conditions.iter().all(|c| c.type_ != "Running"));
        let patch = merge_patch(None, &s);
        assert!(
            patch["status"]
                .get("pendingCreate")
                .is_some_and(|v| v.is_null())
        );
        assert!(patch["status"].get("application").is_some());
    }
}
