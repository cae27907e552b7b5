//! A result Secret's marks and whose it is, for either kind. Pure functions, no I/O.
//!
//! Both kinds mark their Secrets alike (managed-by label, owner UID label, owner annotation),
//! so one rule tells every Secret of this operator from anyone else's.

use super::Owner;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::ObjectMeta;
use std::collections::BTreeMap;

/// Label every Secret this operator writes carries.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY: &str = "quay-apitoken-operator";
/// Label holding the owning resource's UID (works across namespaces, unlike ownerReferences).
pub const OWNER_UID_LABEL: &str = "quay.herve4m.github.io/owner-uid";
/// Annotation naming the owning resource as `namespace/name`.
pub const OWNER_ANNOTATION: &str = "quay.herve4m.github.io/owner";
/// Annotation naming the kind of the owning resource, beside [`OWNER_ANNOTATION`]'s
/// `namespace/name` (a Secret without it is an ApiToken's).
pub const OWNER_KIND_ANNOTATION: &str = "quay.herve4m.github.io/owner-kind";
/// The earlier Ansible-based operator's marks on Secrets in other namespaces.
pub const LEGACY_PRIMARY: &str = "operator-sdk/primary-resource";
/// See [`LEGACY_PRIMARY`].
pub const LEGACY_PRIMARY_TYPE: &str = "operator-sdk/primary-resource-type";
/// The kind whose Secrets carry no [`OWNER_KIND_ANNOTATION`].
const UNMARKED_KIND: &str = "ApiToken";

pub use crate::target::Target;

/// Whose the Secret at the target is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// There is no Secret.
    Absent,
    /// It carries the owner's UID label.
    Ours,
    /// The earlier operator wrote it for the owner.
    Legacy,
    /// It belongs to someone else; the reason says whom.
    Foreign(String),
}

/// Decides whose `secret` is for `owner`; `conn` is the connection Secret, never ours to write.
pub fn ownership<K: Owner>(
    secret: Option<&Secret>,
    owner: &K,
    target: &Target,
    conn: &Target,
) -> Ownership {
    if target == conn {
        return Ownership::Foreign("it is the connection Secret (connSecretRef)".into());
    }
    let Some(secret) = secret else {
        return Ownership::Absent;
    };
    let uid = owner.uid().unwrap_or_default();
    let annotations = secret.annotations();
    match secret.labels().get(OWNER_UID_LABEL) {
        Some(other) if *other == uid => return Ownership::Ours,
        Some(_) => {
            let kind = annotations
                .get(OWNER_KIND_ANNOTATION)
                .map_or(UNMARKED_KIND, String::as_str);
            let other = annotations
                .get(OWNER_ANNOTATION)
                .map_or_else(|| format!("another {kind}"), |o| format!("{kind} {o}"));
            return Ownership::Foreign(format!("it is the result Secret of {other}"));
        }
        None => {}
    }
    let owner_ref = secret
        .owner_references()
        .iter()
        .any(|r| r.uid == uid && r.kind == K::KIND);
    let legacy_type = format!("{}.{}", K::KIND, K::group(&()));
    let annotated = annotations.get(LEGACY_PRIMARY) == Some(&namespaced_name(owner))
        && annotations.get(LEGACY_PRIMARY_TYPE) == Some(&legacy_type);
    if owner_ref || annotated {
        Ownership::Legacy
    } else {
        Ownership::Foreign(format!(
            "a Secret of that name exists and is not managed by this {}",
            K::KIND
        ))
    }
}

/// The Secret `owner` should have at `target` holding `data`, with the owner marks.
pub fn marked<K: Owner>(owner: &K, target: &Target, data: BTreeMap<String, ByteString>) -> Secret {
    let owner_ns = owner.namespace().unwrap_or_default();
    let labels = BTreeMap::from([
        (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
        (OWNER_UID_LABEL.to_string(), owner.uid().unwrap_or_default()),
    ]);
    let mut annotations = BTreeMap::from([(OWNER_ANNOTATION.to_string(), namespaced_name(owner))]);
    if K::KIND != UNMARKED_KIND {
        annotations.insert(OWNER_KIND_ANNOTATION.to_string(), K::KIND.to_string());
    }
    // An ownerReference only works inside one namespace; elsewhere the finalizer deletes it.
    let owner_references = (target.namespace == owner_ns)
        .then(|| owner.controller_owner_ref(&()).into_iter().collect());
    Secret {
        metadata: ObjectMeta {
            name: Some(target.name.clone()),
            namespace: Some(target.namespace.clone()),
            labels: Some(labels),
            annotations: Some(annotations),
            owner_references,
            ..Default::default()
        },
        data: Some(data),
        type_: Some("Opaque".into()),
        ..Default::default()
    }
}

/// A bare Secret at `target`, for a dry run that only asks whether one could be created there.
pub fn bare(target: &Target) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(target.name.clone()),
            namespace: Some(target.namespace.clone()),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Whether writing `desired` would change `existing` (so an unchanged Secret costs no write).
pub fn needs_write(existing: Option<&Secret>, desired: &Secret) -> bool {
    let Some(existing) = existing else {
        return true;
    };
    let subset = |want: &Option<BTreeMap<String, String>>, have: &BTreeMap<String, String>| {
        want.iter().flatten().all(|(k, v)| have.get(k) == Some(v))
    };
    let refs_ok = desired.metadata.owner_references.iter().flatten().all(|w| {
        existing
            .owner_references()
            .iter()
            .any(|h| h.uid == w.uid && h.controller == w.controller)
    });
    existing.data != desired.data
        || !subset(&desired.metadata.labels, existing.labels())
        || !subset(&desired.metadata.annotations, existing.annotations())
        || !refs_ok
}

fn namespaced_name<K: Owner>(owner: &K) -> String {
    format!(
        "{}/{}",
        owner.namespace().unwrap_or_default(),
        owner.name_any()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::Application;
    use crate::crd::ApiToken;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
    use serde_json::json;

    fn placed<K: Owner>(mut owner: K) -> K {
        owner.meta_mut().namespace = Some("ns".into());
        owner.meta_mut().uid = Some("uid-1".into());
        owner
    }

    fn target(ns: &str, name: &str) -> Target {
        Target {
            namespace: ns.into(),
            name: name.into(),
        }
    }

    /// The earlier operator's Secrets are its owner's: by owner reference in its namespace,
    /// by its annotations elsewhere; a stranger's never is.
    fn the_earlier_operators_secrets_are_recognised<K: Owner>(owner: K) {
        let conn = target("ns", "conn");
        let mut same_ns = Secret::default();
        same_ns.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "quay.herve4m.github.io/v1alpha1".into(),
            kind: K::KIND.into(),
            name: owner.name_any(),
            uid: "uid-1".into(),
            ..Default::default()
        }]);
        let out = target("ns", "out");
        assert_eq!(
            ownership(Some(&same_ns), &owner, &out, &conn),
            Ownership::Legacy
        );
        let mut other_ns = Secret::default();
        let annotations = other_ns.annotations_mut();
        annotations.insert(LEGACY_PRIMARY.into(), format!("ns/{}", owner.name_any()));
        let legacy_type = format!("{}.quay.herve4m.github.io", K::KIND);
        annotations.insert(LEGACY_PRIMARY_TYPE.into(), legacy_type);
        let elsewhere = target("x", "out");
        assert_eq!(
            ownership(Some(&other_ns), &owner, &elsewhere, &conn),
            Ownership::Legacy
        );
        let stranger = ownership(Some(&Secret::default()), &owner, &out, &conn);
        assert!(matches!(stranger, Ownership::Foreign(_)), "{stranger:?}");
    }

    #[test]
    fn the_earlier_operators_secrets_are_recognised_for_both_kinds() {
        let spec = json!({"connSecretRef": {"name": "conn"}, "clientId": "CID"});
        let token = ApiToken::new("tok", serde_json::from_value(spec).unwrap());
        the_earlier_operators_secrets_are_recognised(placed(token));
        let spec = json!({"connSecretRef": {"name": "conn"}, "organization": "o", "name": "app"});
        let app = Application::new("app", serde_json::from_value(spec).unwrap());
        the_earlier_operators_secrets_are_recognised(placed(app));
    }
}
