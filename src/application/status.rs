//! The status an Application should show. Pure: conditions keep their transition time when
//! nothing changed, and every write carries the generation it describes.

use super::crd::ApplicationStatus;
use crate::crd::Condition;

/// The Ready/Successful pair for one outcome.
pub struct Verdict<'a> {
    /// Whether the application is as the spec says and the Secret holds it.
    pub ready: bool,
    /// CamelCase reason.
    pub reason: &'a str,
    /// One sentence; empty when all is well.
    pub message: &'a str,
}

/// Condition reason of a ready Application.
pub const READY_REASON: &str = "ApplicationReady";

/// Sets Ready and Successful from `verdict`, drops every other condition (the earlier
/// operator's Running, Failure …), and stamps the generation.
pub fn with_verdict(
    mut status: ApplicationStatus,
    verdict: &Verdict,
    generation: Option<i64>,
    now: &str,
) -> ApplicationStatus {
    let flag = if verdict.ready { "True" } else { "False" };
    let condition = |type_: &str, reason: &str| {
        let since = status
            .conditions
            .iter()
            .find(|c| c.type_ == type_ && c.status == flag)
            .and_then(|c| c.last_transition_time.clone());
        Condition {
            type_: type_.into(),
            status: flag.into(),
            reason: reason.into(),
            message: verdict.message.into(),
            last_transition_time: Some(since.unwrap_or_else(|| now.to_string())),
            observed_generation: generation,
            ansible_result: None,
        }
    };
    let successful = if verdict.ready {
        "Successful"
    } else {
        verdict.reason
    };
    status.conditions = vec![
        condition("Ready", verdict.reason),
        condition("Successful", successful),
    ];
    status.message = verdict.message.to_string();
    status.observed_generation = generation;
    status
}

/// A JSON merge patch that makes the status `next`, whole, on an object that shows `shown`
/// (see [`crate::reconcile::status::whole_patch`]).
pub fn merge_patch(
    shown: Option<&ApplicationStatus>,
    next: &ApplicationStatus,
) -> serde_json::Value {
    let top = [
        "observedGeneration",
        "secretName",
        "application",
        "pendingCreate",
        "rejectedCredentials",
    ];
    crate::reconcile::status::whole_patch(shown, next, &top)
}

/// Whether the Ready condition of `status` is True.
pub fn is_ready(status: Option<&ApplicationStatus>) -> bool {
    status.is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
