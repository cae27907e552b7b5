//! The way out of a deletion that Quay blocks: a Quay that is gone or failing keeps the
//! finalizer (its token or application might still be revoked later), and with it the
//! namespace's deletion. A person who knows Quay will not come back sets the release
//! annotation; cleanup then lets go without Quay and says, in a Warning event, what stays
//! there. Shared by both kinds, so they read and word it alike.

use kube::ResourceExt;

pub use crate::crd::RELEASE_ANNOTATION;

/// Whether a person asked to release `object` without revoking or deleting anything in Quay.
/// Only the exact word `true` counts: a stray value must not leave tokens behind.
pub fn requested(object: &impl ResourceExt) -> bool {
    object
        .annotations()
        .get(RELEASE_ANNOTATION)
        .is_some_and(|v| v.trim() == "true")
}

/// The note of the `ReleasedWithoutRevoke` Warning event: `left` names what stays in Quay (ids, never token values).
pub fn note(left: &str) -> String {
    format!(
        "{RELEASE_ANNOTATION} is \"true\": released without asking Quay; {left} stays in Quay: revoke or delete it there by hand if Quay comes back"
    )
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
