//! Two ApiTokens naming one result Secret: the one that holds it keeps it, and the conflict is
//! reported on both: the newcomer is refused (its status), the holder is told by a Warning event
//! that leaves its status and token alone. Only references the cross-namespace policy allows
//! count, so a refused reference never affects another ApiToken. The decision reads the caches.

use super::inputs::Inputs;
use super::secret::OWNER_UID_LABEL;
use super::subject::Subject;
use crate::context::Context;
use crate::crd::{ApiToken, ApiTokenStatus};
use crate::error::ReconcileError;
use crate::references::result_allowed;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use std::sync::Arc;

/// A refusal to share: the error for the refused ApiToken, and the one that keeps the Secret.
pub struct Conflict {
    /// What the refused ApiToken's status and events say.
    pub error: ReconcileError,
    /// The ApiToken that holds the Secret, or has the better claim while nobody holds it.
    keeper: Arc<ApiToken>,
    how: &'static str,
}

/// Refuses when another ApiToken that may write the same result Secret holds it, or has the
/// better claim while nobody holds it.
pub fn refuse_shared(
    ctx: &Context,
    subject: &Subject<'_>,
    inputs: &Inputs,
) -> Result<(), Conflict> {
    let consent = ctx.consent();
    let sharing = ctx
        .peers
        .sharing_result_secret(subject.token, |other| result_allowed(other, consent));
    let holder = inputs
        .existing
        .as_ref()
        .and_then(|s| s.labels().get(OWNER_UID_LABEL).cloned());
    let Some(other) = first_claim(subject, &sharing, holder.as_deref()) else {
        return Ok(());
    };
    let how = if other.uid() == holder {
        "holds it"
    } else {
        "named it first"
    };
    Err(Conflict {
        error: ReconcileError::SecretConflict {
            secret: inputs.target.to_string(),
            detail: format!(
                "ApiToken {}/{} names the same result Secret and {how}; give each ApiToken its own",
                other.namespace().unwrap_or_default(),
                other.name_any()
            ),
        },
        keeper: other.clone(),
        how,
    })
}

/// Tells the ApiToken that keeps the Secret, by a Warning event on it, that `subject` names it
/// too and is refused; its status is not touched. Like the refused ApiToken's own event, only
/// when its status (`shown`) does not say so already: a re-reconcile of an unchanged refusal
/// (the keeper rewrote the Secret, a resync) asks nothing of the API server.
pub async fn tell_keeper(
    ctx: &Context,
    subject: &Subject<'_>,
    inputs: &Inputs,
    conflict: &Conflict,
    shown: &ApiTokenStatus,
) {
    if shown.message == conflict.error.to_string() {
        return;
    }
    let note = format!(
        "ApiToken {}/{} also names result Secret {}, which this ApiToken {}: that ApiToken is \
         refused (SecretConflict) and this one keeps the Secret",
        subject.namespace, subject.name, inputs.target, conflict.how
    );
    ctx.events
        .publish(conflict.keeper.as_ref(), true, "ResultSecretShared", note)
        .await;
}

/// The ApiToken among `sharing` that the Secret belongs to rather than `me`, if any: the one
/// whose uid the Secret's owner label carries; when it carries none of theirs (absent, or
/// someone else's, which the ownership check reports), the oldest, so that exactly one goes on.
fn first_claim<'a>(
    me: &Subject<'_>,
    sharing: &'a [Arc<ApiToken>],
    holder: Option<&str>,
) -> Option<&'a Arc<ApiToken>> {
    if holder == Some(me.uid.as_str()) {
        return None;
    }
    if let Some(held) = sharing
        .iter()
        .find(|o| holder.is_some() && o.uid().as_deref() == holder)
    {
        return Some(held);
    }
    let created = |t: &ApiToken| t.metadata.creation_timestamp.clone().map(|Time(t)| t);
    let me_age = (created(me.token), me.uid.clone());
    let age = |other: &ApiToken| (created(other), other.uid().unwrap_or_default());
    sharing
        .iter()
        .filter(|o| age(o) < me_age)
        .min_by_key(|o| age(o))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(uid: &str, created: &str) -> Arc<ApiToken> {
        Arc::new(
            serde_json::from_value(json!({
                "apiVersion": "quay.herve4m.github.io/v1alpha1", "kind": "ApiToken",
                "metadata": {"name": uid, "namespace": "n", "uid": uid, "creationTimestamp": created},
                "spec": {"connSecretRef": {"name": "c"}, "clientId": "X", "retSecretRef": {"name": "s"}},
            }))
            .unwrap(),
        )
    }

    fn me(token: &ApiToken) -> Subject<'_> {
        Subject::of(token).unwrap()
    }

    const EARLY: &str = "2026-01-01T00:00:00Z";
    const LATE: &str = "2026-06-01T00:00:00Z";

    /// The holder goes on even when it is the newer one; the other is told who holds it.
    #[test]
    fn the_owner_label_decides_who_keeps_the_secret() {
        let (holder, newcomer) = (token("h", LATE), token("n", EARLY));
        assert!(first_claim(&me(&holder), std::slice::from_ref(&newcomer), Some("h")).is_none());
        let claim = first_claim(&me(&newcomer), std::slice::from_ref(&holder), Some("h"));
        assert_eq!(claim.and_then(|c| c.uid()), Some("h".into()));
    }

    /// Nobody holds it yet: the oldest goes on, the others wait for it.
    #[test]
    fn without_a_holder_the_oldest_claims_it() {
        let (old, new) = (token("o", EARLY), token("y", LATE));
        assert!(first_claim(&me(&old), std::slice::from_ref(&new), None).is_none());
        assert_eq!(
            first_claim(&me(&new), std::slice::from_ref(&old), None).and_then(|c| c.uid()),
            Some("o".into())
        );
        assert!(first_claim(&me(&old), std::slice::from_ref(&new), Some("stranger")).is_none());
        assert!(first_claim(&me(&old), &[], None).is_none());
    }
}
