//! The status an ApiToken should show. Pure: conditions keep their transition time when nothing changed.

use crate::crd::{ApiToken, ApiTokenStatus, Condition};

/// The Ready/Successful pair for one outcome.
pub struct Verdict<'a> {
    /// Whether the Secret holds a live token for the current spec.
    pub ready: bool,
    /// CamelCase reason.
    pub reason: &'a str,
    /// One sentence; empty when all is well.
    pub message: &'a str,
}

/// Sets Ready and Successful from `verdict`, drops every other condition (the earlier operator's
/// Running, Failure …), and stamps the generation.
pub fn with_verdict(
    mut status: ApiTokenStatus,
    verdict: &Verdict,
    generation: Option<i64>,
    now: &str,
) -> ApiTokenStatus {
    let flag = if verdict.ready { "True" } else { "False" };
    let condition = |type_: &str, reason: &str| {
        let previous = status.conditions.iter().find(|c| c.type_ == type_);
        let since = match previous {
            Some(p) if p.status == flag => p.last_transition_time.clone(),
            _ => None,
        };
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
    let ready_reason = verdict.reason;
    let successful_reason = if verdict.ready {
        "Successful"
    } else {
        verdict.reason
    };
    status.conditions = vec![
        condition("Ready", ready_reason),
        condition("Successful", successful_reason),
    ];
    status.message = verdict.message.to_string();
    status.observed_generation = generation;
    status
}

/// Whether the ApiToken's Ready condition is True.
pub fn is_ready(token: &ApiToken) -> bool {
    token.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    })
}

/// A JSON merge patch that makes the status `next`, whole, on an object that shows `shown`.
pub fn merge_patch(shown: Option<&ApiTokenStatus>, next: &ApiTokenStatus) -> serde_json::Value {
    let top = [
        "observedGeneration",
        "secretName",
        "token",
        "pendingMint",
        "rotation",
        "replaced",
        "rejectedCredentials",
        "expiresAt",
        "renewAt",
    ];
    whole_patch(shown, next, &top)
}

/// A merge patch merges objects key by key, so a key the new value leaves out would stay: every
/// key that `shown` has and `next` lacks becomes null, at every depth (a new token record without
/// the old one's `expiresAt` must not inherit it), and so do the `top` optional fields always,
/// since `shown` may lag the object.
pub fn whole_patch<T: serde::Serialize>(
    shown: Option<&T>,
    next: &T,
    top: &[&str],
) -> serde_json::Value {
    let mut value = serde_json::to_value(next).unwrap_or_default();
    if let Some(old) = shown.and_then(|s| serde_json::to_value(s).ok()) {
        null_what_went(&old, &mut value);
    }
    if let Some(map) = value.as_object_mut() {
        for key in top {
            map.entry(*key).or_insert(serde_json::Value::Null);
        }
    }
    serde_json::json!({ "status": value })
}

/// Sets to null, in `new`, every key of `old` that `new` lacks, in nested objects too; arrays
/// are replaced whole by a merge patch and need nothing.
fn null_what_went(old: &serde_json::Value, new: &mut serde_json::Value) {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object_mut()) else {
        return;
    };
    for (key, was) in old {
        match new.get_mut(key) {
            Some(now) => null_what_went(was, now),
            None => {
                new.insert(key.clone(), serde_json::Value::Null);
            }
        }
    }
}

/// The same status, ignoring when conditions last changed (to skip writes that change nothing).
pub fn same(a: &ApiTokenStatus, b: &ApiTokenStatus) -> bool {
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;

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
