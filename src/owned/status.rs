//! The status either kind should show. Pure: the Ready/Successful verdict (conditions keep their
//! transition time when nothing changed), readiness, and the merge patch that writes a status whole.

use crate::crd::Condition;
use serde::Serialize;

/// A status this layer writes: the fields every kind shares, reached through this trait.
pub trait OwnedStatus: Clone + Default + PartialEq + Serialize + Send + Sync + 'static {
    /// The optional top-level fields, which a patch names always (null when absent), since
    /// the status the patch is computed from may lag the object.
    const OPTIONAL: &'static [&'static str];
    /// The conditions.
    fn conditions(&self) -> &[Condition];
    /// The conditions, the message and the observed generation, which a verdict sets.
    fn verdict_mut(&mut self) -> (&mut Vec<Condition>, &mut String, &mut Option<i64>);
}

/// Implements [`OwnedStatus`] for a status struct with `conditions`, `message` and
/// `observed_generation` fields, given its optional top-level fields (as JSON names).
macro_rules! owned_status {
    ($status:ty, [$($optional:literal),* $(,)?]) => {
        impl $crate::owned::OwnedStatus for $status {
            const OPTIONAL: &'static [&'static str] = &[$($optional),*];

            fn conditions(&self) -> &[$crate::crd::Condition] {
                &self.conditions
            }

            fn verdict_mut(
                &mut self,
            ) -> (&mut Vec<$crate::crd::Condition>, &mut String, &mut Option<i64>) {
                (&mut self.conditions, &mut self.message, &mut self.observed_generation)
            }
        }
    };
}
pub(crate) use owned_status;

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
    let successful = if verdict.ready {
        "Successful"
    } else {
        verdict.reason
    };
    let pair = vec![
        condition("Ready", verdict.reason),
        condition("Successful", successful),
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
/// the old one's `expiresAt` must not inherit it), and so do the optional top-level fields always.
pub fn merge_patch<S: OwnedStatus>(shown: Option<&S>, next: &S) -> serde_json::Value {
    let mut value = serde_json::to_value(next).unwrap_or_default();
    if let Some(old) = shown.and_then(|s| serde_json::to_value(s).ok()) {
        null_what_went(&old, &mut value);
    }
    if let Some(map) = value.as_object_mut() {
        for key in S::OPTIONAL {
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
