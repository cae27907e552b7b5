//! The result Secret of an Application: whose it is, what it should hold. Pure, no I/O.
//!
//! The marks are the ApiToken's (managed-by label, owner UID label, owner annotation), so one
//! rule tells every Secret of this operator from anyone else's.

use super::crd::Application;
use crate::quay::AppView;
use crate::reconcile::secret::{
    LEGACY_PRIMARY, LEGACY_PRIMARY_TYPE, MANAGED_BY, MANAGED_BY_LABEL, OWNER_ANNOTATION,
    OWNER_UID_LABEL, Target,
};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::ObjectMeta;
use kube::{Resource, ResourceExt};
use std::collections::BTreeMap;

/// The key ApiTokens read through `clientIdFrom` by default.
pub const CLIENT_ID_KEY: &str = "clientId";
/// The key holding the OAuth client secret.
pub const CLIENT_SECRET_KEY: &str = "clientSecret";
/// The key holding the application's name in Quay.
pub const NAME_KEY: &str = "name";
/// Annotation naming the kind of the owning resource, beside [`OWNER_ANNOTATION`]'s
/// `namespace/name` (a Secret without it is an ApiToken's).
pub const OWNER_KIND_ANNOTATION: &str = "quay.herve4m.github.io/owner-kind";
const LEGACY_TYPE_VALUE: &str = "Application.quay.herve4m.github.io";

/// Whose the Secret at the target is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// There is no Secret.
    Absent,
    /// It carries this Application's UID label.
    Ours,
    /// The earlier operator wrote it for this Application.
    Legacy,
    /// It belongs to someone else; the reason says whom.
    Foreign(String),
}

/// Decides whose `secret` is; `conn` is the connection Secret, which is never ours to write.
pub fn ownership(
    secret: Option<&Secret>,
    app: &Application,
    target: &Target,
    conn: &Target,
) -> Ownership {
    if target == conn {
        return Ownership::Foreign("it is the connection Secret (connSecretRef)".into());
    }
    let Some(secret) = secret else {
        return Ownership::Absent;
    };
    let uid = app.uid().unwrap_or_default();
    match secret.labels().get(OWNER_UID_LABEL) {
        Some(owner) if *owner == uid => return Ownership::Ours,
        Some(_) => {
            let annotations = secret.annotations();
            let kind = annotations
                .get(OWNER_KIND_ANNOTATION)
                .map_or("ApiToken", String::as_str);
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
        .any(|r| r.uid == uid && r.kind == "Application");
    let me = format!("{}/{}", app.namespace().unwrap_or_default(), app.name_any());
    let annotations = secret.annotations();
    let annotated = annotations.get(LEGACY_PRIMARY) == Some(&me)
        && annotations.get(LEGACY_PRIMARY_TYPE).map(String::as_str) == Some(LEGACY_TYPE_VALUE);
    if owner_ref || annotated {
        Ownership::Legacy
    } else {
        Ownership::Foreign(
            "a Secret of that name exists and is not managed by this Application".into(),
        )
    }
}

/// The Secret this Application should have at `target`, for the application `view`.
pub fn desired(app: &Application, target: &Target, view: &AppView) -> Secret {
    let data = BTreeMap::from([
        (
            CLIENT_ID_KEY.to_string(),
            ByteString(view.client_id.as_bytes().to_vec()),
        ),
        (
            CLIENT_SECRET_KEY.to_string(),
            ByteString(view.client_secret.expose().as_bytes().to_vec()),
        ),
        (
            NAME_KEY.to_string(),
            ByteString(view.name.as_bytes().to_vec()),
        ),
    ]);
    let owner_ns = app.namespace().unwrap_or_default();
    let labels = BTreeMap::from([
        (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
        (OWNER_UID_LABEL.to_string(), app.uid().unwrap_or_default()),
    ]);
    let annotations = BTreeMap::from([
        (
            OWNER_ANNOTATION.to_string(),
            format!("{owner_ns}/{}", app.name_any()),
        ),
        (OWNER_KIND_ANNOTATION.to_string(), "Application".to_string()),
    ]);
    // An ownerReference only works inside one namespace; elsewhere the finalizer deletes it.
    let owner_references =
        (target.namespace == owner_ns).then(|| app.controller_owner_ref(&()).into_iter().collect());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redacted::Redacted;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
    use serde_json::json;

    fn app() -> Application {
        let mut a = Application::new(
            "app",
            serde_json::from_value(
                json!({"connSecretRef": {"name": "conn"}, "organization": "o", "name": "extapp"}),
            )
            .unwrap(),
        );
        a.metadata.namespace = Some("ns".into());
        a.metadata.uid = Some("uid-a".into());
        a
    }

    fn view(secret: &str) -> AppView {
        AppView {
            name: "extapp".into(),
            description: String::new(),
            application_uri: String::new(),
            client_id: "CID".into(),
            client_secret: Redacted::new(secret),
            redirect_uri: String::new(),
            avatar_email: None,
        }
    }

    fn target(ns: &str, name: &str) -> Target {
        Target {
            namespace: ns.into(),
            name: name.into(),
        }
    }

    /// The keys are the earlier operator's, and `clientId` is what clientIdFrom reads.
    #[test]
    fn the_secret_holds_client_id_secret_and_name() {
        let a = app();
        let s = desired(&a, &target("ns", "out"), &view("SECRET"));
        let data = s.data.clone().unwrap();
        let get = |k: &str| String::from_utf8(data[k].0.clone()).unwrap();
        assert_eq!(get("clientId"), "CID");
        assert_eq!(get("clientSecret"), "SECRET");
        assert_eq!(get("name"), "extapp");
        assert_eq!(data.len(), 3);
        assert_eq!(s.labels()[OWNER_UID_LABEL], "uid-a");
        assert_eq!(s.owner_references()[0].kind, "Application");
        assert_eq!(
            ownership(Some(&s), &a, &target("ns", "out"), &target("ns", "conn")),
            Ownership::Ours
        );
        assert!(!needs_write(Some(&s), &s));
        let reset = desired(&a, &target("ns", "out"), &view("NEW"));
        assert!(
            needs_write(Some(&s), &reset),
            "a reset client secret is written"
        );
        let elsewhere = desired(&a, &target("other", "out"), &view("SECRET"));
        assert!(elsewhere.owner_references().is_empty());
    }

    /// Nobody else's Secret is taken: the connection Secret, another resource's, a stranger's.
    #[test]
    fn foreign_secrets_are_refused_and_legacy_ones_taken_over() {
        let a = app();
        let (out, conn) = (target("ns", "out"), target("ns", "conn"));
        assert!(matches!(
            ownership(None, &a, &conn, &conn),
            Ownership::Foreign(_)
        ));
        assert_eq!(ownership(None, &a, &out, &conn), Ownership::Absent);
        let mut other = desired(&a, &out, &view("S"));
        other
            .labels_mut()
            .insert(OWNER_UID_LABEL.into(), "uid-token".into());
        other
            .annotations_mut()
            .insert(OWNER_ANNOTATION.into(), "ns/tok".into());
        // An ApiToken's Secret carries no kind annotation.
        other.annotations_mut().remove(OWNER_KIND_ANNOTATION);
        let Ownership::Foreign(why) = ownership(Some(&other), &a, &out, &conn) else {
            panic!("another resource's Secret taken");
        };
        assert!(why.contains("ApiToken ns/tok"), "{why}");
        assert!(matches!(
            ownership(Some(&Secret::default()), &a, &out, &conn),
            Ownership::Foreign(_)
        ));
        let mut legacy = Secret::default();
        legacy.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "quay.herve4m.github.io/v1alpha1".into(),
            kind: "Application".into(),
            name: "app".into(),
            uid: "uid-a".into(),
            ..Default::default()
        }]);
        assert_eq!(ownership(Some(&legacy), &a, &out, &conn), Ownership::Legacy);
        let mut annotated = Secret::default();
        annotated
            .annotations_mut()
            .insert(LEGACY_PRIMARY.into(), "ns/app".into());
        annotated
            .annotations_mut()
            .insert(LEGACY_PRIMARY_TYPE.into(), LEGACY_TYPE_VALUE.into());
        assert_eq!(
            ownership(Some(&annotated), &a, &target("x", "out"), &conn),
            Ownership::Legacy
        );
    }
}
