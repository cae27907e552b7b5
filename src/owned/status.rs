//! The status either kind should show. Pure: the Ready/Successful verdict (conditions keep their
//! transition time when nothing changed), readiness, and the merge patch that writes a status whole.

use crate::crd::Condition;
use schemars::JsonSchema;
use serde::Serialize;

/// A status this layer writes: the fields every kind shares, reached through this trait.
pub trait OwnedStatus:
    Clone + Default + PartialEq + Serialize + JsonSchema + Send + Sync + 'static
{
    /// The conditions.
    fn conditions(&self) -> &[Condition];
    /// The conditions, the message and the observed generation, which a verdict sets.
    fn verdict_mut(&mut self) -> (&mut Vec<Condition>, &mut String, &mut Option<i64>);
}

/// Makes a kind known to the owned layer: `$kind` as an [`Owner`](crate::owned::Owner) and its
/// status struct `$status`, with the fields every kind's status has, as an [`OwnedStatus`].
macro_rules! owned_kind {
    ($kind:ty, $status:ty) => {
        impl $crate::owned::Owner for $kind {
            const KIND: &'static str = stringify!($kind);
            const WRITE_STATUS: &'static str = concat!("write the ", stringify!($kind), " status");
        }

        impl $crate::owned::OwnedStatus for $status {
            fn conditions(&self) -> &[$crate::crd::Condition] {
                &self.conditions
            }

            fn verdict_mut(
                &mut self,
            ) -> (
                &mut Vec<$crate::crd::Condition>,
                &mut String,
                &mut Option<i64>,
            ) {
                (
                    &mut self.conditions,
                    &mut self.message,
                    &mut self.observed_generation,
                )
            }
        }
    };
}
pub(crate) use owned_kind;

/// The Ready/Successful pair for one outcome.
pub struct Verdict<'a> {
    /// Whether the owner is as its spec says and its Secret holds it.
    pub ready: bool,
    /// CamelCase reason.
    pub reason: &'a str,
    /// One sentence; empty when all is well.
    pub message: &'a str,
}

/// Sets Ready and Successful from `verdict`, drops every other condition (the earlier operator's
/// Running, Failure …), and stamps the generation.
pub fn with_verdict<S: OwnedStatus>(
    mut status: S,
    verdict: &Verdict,
    generation: Option<i64>,
    now: &str,
) -> S {
    let flag = if verdict.ready { "True" } else { "False" };
    let condition = |type_: &str, reason: &str| {
        let previous = status.conditions().iter().find(|c| c.type_ == type_);
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
    let successful_reason = if verdict.ready {
        "Successful"
    } else {
        verdict.reason
    };
    let pair = vec![
        condition("Ready", verdict.reason),
        condition("Successful", successful_reason),
    ];
    let (conditions, message, observed) = status.verdict_mut();
    *conditions = pair;
    *message = verdict.message.to_string();
    *observed = generation;
    status
}

/// Whether the Ready condition of `status` is True.
pub fn is_ready<S: OwnedStatus>(status: Option<&S>) -> bool {
    status.is_some_and(|s| {
        s.conditions()
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    })
}

/// A JSON merge patch that makes the status `next`, whole, on an object that shows `shown`.
///
/// A merge patch merges objects key by key, so a key the new value leaves out would stay: every
/// key that `shown` has and `next` lacks becomes null, at every depth (a new token record without
/// the old one's `expiresAt` must not inherit it), and so does every top-level field of the
/// status schema that `next` leaves out, since `shown` may lag the object.
pub fn merge_patch<S: OwnedStatus>(shown: Option<&S>, next: &S) -> serde_json::Value {
    let mut value = serde_json::to_value(next).unwrap_or_default();
    if let Some(old) = shown.and_then(|s| serde_json::to_value(s).ok()) {
        null_what_went(&old, &mut value);
    }
    let schema = schemars::SchemaGenerator::default().into_root_schema_for::<S>();
    let fields = schema.get("properties").and_then(|p| p.as_object());
    if let (Some(fields), Some(map)) = (fields, value.as_object_mut()) {
        for key in fields.keys() {
            map.entry(key.clone()).or_insert(serde_json::Value::Null);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::ApplicationStatus;
    use crate::crd::ApiTokenStatus;

    fn fields<S: OwnedStatus>(mut status: S) -> (Vec<Condition>, String, Option<i64>) {
        let (conditions, message, generation) = status.verdict_mut();
        (conditions.clone(), message.clone(), *generation)
    }

    /// Ready and Successful carry the generation and reasons; a transition time holds until the
    /// status flips; the earlier operator's conditions go.
    fn verdicts<S: OwnedStatus>() {
        let ok = Verdict {
            ready: true,
            reason: "TokenReady",
            message: "",
        };
        let first = with_verdict(S::default(), &ok, Some(4), "t0");
        assert!(is_ready(Some(&first)));
        let (conditions, _, generation) = fields(first.clone());
        assert_eq!(generation, Some(4));
        let seen: Vec<_> = conditions
            .iter()
            .map(|c| (c.type_.as_str(), c.status.as_str(), c.reason.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                ("Ready", "True", "TokenReady"),
                ("Successful", "True", "Successful")
            ]
        );
        assert!(conditions.iter().all(|c| c.observed_generation == Some(4)));
        let again = with_verdict(first, &ok, Some(5), "t1");
        let (conditions, _, _) = fields(again.clone());
        assert_eq!(conditions[0].last_transition_time.as_deref(), Some("t0"));
        let down = Verdict {
            ready: false,
            reason: "QuayUnavailable",
            message: "down",
        };
        let failed = with_verdict(again, &down, Some(5), "t2");
        assert!(!is_ready(Some(&failed)));
        let (conditions, message, _) = fields(failed);
        assert_eq!(conditions[0].last_transition_time.as_deref(), Some("t2"));
        assert_eq!(conditions[1].reason, "QuayUnavailable");
        assert_eq!(message, "down");
        let mut legacy = S::default();
        legacy.verdict_mut().0.push(Condition {
            type_: "Running".into(),
            status: "True".into(),
            ..Default::default()
        });
        let (conditions, _, _) = fields(with_verdict(legacy, &ok, Some(1), "t0"));
        assert!(conditions.iter().all(|c| c.type_ != "Running"));
    }

    #[test]
    fn verdicts_are_alike_for_both_kinds() {
        verdicts::<ApiTokenStatus>();
        verdicts::<ApplicationStatus>();
    }

    fn nulled<S: OwnedStatus>() -> Vec<String> {
        let patch = merge_patch(None, &S::default());
        let mut keys: Vec<String> = patch["status"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| v.is_null())
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        keys
    }

    /// Every field a status may leave out is named in the patch, for both kinds.
    #[test]
    fn a_patch_names_every_field_a_status_may_leave_out() {
        let mut apitoken = vec![
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
        apitoken.sort();
        assert_eq!(nulled::<ApiTokenStatus>(), apitoken);
        let mut application = vec![
            "observedGeneration",
            "secretName",
            "application",
            "pendingCreate",
            "rejectedCredentials",
        ];
        application.sort();
        assert_eq!(nulled::<ApplicationStatus>(), application);
    }
}
