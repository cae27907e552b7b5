//! The way out of a deletion that Quay blocks: a Quay that is gone or failing keeps the
//! finalizer (its token or application might still be revoked later), and with it the
//! namespace's deletion. A person who knows Quay will not come back sets the release
//! annotation; cleanup then lets go without Quay and says, in a Warning event, what stays
//! there. Likewise, `preserveInQuayOnDeletion` keeps what is in Quay, and an event says so.
//! Shared by both kinds, so they read and word it alike.

use crate::events::EventRecorder;
use kube::{Resource, ResourceExt};

pub use crate::crd::RELEASE_ANNOTATION;

/// Whether a person asked to release `object` without revoking or deleting anything in Quay.
/// Only the exact word `true` counts: a stray value must not leave tokens behind.
pub fn requested(object: &impl ResourceExt) -> bool {
    object
        .annotations()
        .get(RELEASE_ANNOTATION)
        .is_some_and(|v| v.trim() == "true")
}

/// Says in a `ReleasedWithoutRevoke` Warning event what stays in Quay: `left` names it (ids,
/// never token values).
pub async fn announce<K: Resource<DynamicType = ()>>(
    events: &EventRecorder,
    object: &K,
    left: &str,
) {
    let note = format!(
        "{RELEASE_ANNOTATION} is \"true\": released without asking Quay; {left} stays in Quay: revoke or delete it there by hand if Quay comes back"
    );
    events
        .publish(object, true, "ReleasedWithoutRevoke", note)
        .await;
}

/// Says in a `Preserved` event that `preserveInQuayOnDeletion` keeps `what` in Quay.
pub async fn preserved<K: Resource<DynamicType = ()>>(
    events: &EventRecorder,
    object: &K,
    what: &str,
) {
    let note = format!("preserveInQuayOnDeletion is true: {what} stays in Quay");
    events.publish(object, false, "Preserved", note).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::ApiToken;

    fn annotated(value: Option<&str>) -> ApiToken {
        let mut token: ApiToken = serde_json::from_value(serde_json::json!({
            "apiVersion": "quay.herve4m.github.io/v1alpha1", "kind": "ApiToken",
            "metadata": {"name": "t"},
            "spec": {"connSecretRef": {"name": "c"}, "clientId": "CID"},
        }))
        .unwrap();
        if let Some(v) = value {
            token
                .annotations_mut()
                .insert(RELEASE_ANNOTATION.into(), v.into());
        }
        token
    }

    #[test]
    fn only_true_releases() {
        assert!(requested(&annotated(Some("true"))));
        assert!(requested(&annotated(Some(" true\n"))));
        for no in [None, Some(""), Some("false"), Some("yes"), Some("TRUE1")] {
            assert!(!requested(&annotated(no)), "{no:?}");
        }
    }
}
