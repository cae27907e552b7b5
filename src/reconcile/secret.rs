//! The result Secret: whose it is, what it should hold. Pure functions, no I/O.

use crate::crd::ApiToken;
use crate::quay::ConnectionSettings;
use crate::redacted::Redacted;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::ObjectMeta;
use kube::{Resource, ResourceExt};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Label every Secret this operator writes carries.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY: &str = "quay-apitoken-operator";
/// Label holding the owning ApiToken's UID (works across namespaces, unlike ownerReferences).
pub const OWNER_UID_LABEL: &str = "quay.herve4m.github.io/owner-uid";
/// Annotation naming the owning ApiToken as `namespace/name`.
pub const OWNER_ANNOTATION: &str = "quay.herve4m.github.io/owner";
/// The earlier Ansible-based operator's marks on Secrets in other namespaces.
pub const LEGACY_PRIMARY: &str = "operator-sdk/primary-resource";
/// See [`LEGACY_PRIMARY`].
pub const LEGACY_PRIMARY_TYPE: &str = "operator-sdk/primary-resource-type";
const LEGACY_TYPE_VALUE: &str = "ApiToken.quay.herve4m.github.io";

pub use crate::references::Target;

/// Whose the Secret at the target is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// There is no Secret.
    Absent,
    /// It carries this ApiToken's UID label.
    Ours,
    /// The earlier operator wrote it for this ApiToken.
    Legacy,
    /// It belongs to someone else; the reason says whom.
    Foreign(String),
}

/// Decides whose `secret` is; `conn` is the connection Secret, which is never ours to write.
pub fn ownership(
    secret: Option<&Secret>,
    token: &ApiToken,
    target: &Target,
    conn: &Target,
) -> Ownership {
    if target == conn {
        return Ownership::Foreign("it is the connection Secret (connSecretRef)".into());
    }
    let Some(secret) = secret else {
        return Ownership::Absent;
    };
    let uid = token.uid().unwrap_or_default();
    let labels = secret.labels();
    match labels.get(OWNER_UID_LABEL) {
        Some(owner) if *owner == uid => return Ownership::Ours,
        Some(_) => {
            let other = secret
                .annotations()
                .get(OWNER_ANNOTATION)
                .cloned()
                .unwrap_or_else(|| "another ApiToken".into());
            return Ownership::Foreign(format!("it already holds the token of ApiToken {other}"));
        }
        None => {}
    }
    let legacy_owner_ref = secret
        .owner_references()
        .iter()
        .any(|r| r.uid == uid && r.kind == "ApiToken");
    let annotations = secret.annotations();
    let me = format!(
        "{}/{}",
        token.namespace().unwrap_or_default(),
        token.name_any()
    );
    let legacy_annotation = annotations.get(LEGACY_PRIMARY) == Some(&me)
        && annotations.get(LEGACY_PRIMARY_TYPE).map(String::as_str) == Some(LEGACY_TYPE_VALUE);
    if legacy_owner_ref || legacy_annotation {
        Ownership::Legacy
    } else {
        Ownership::Foreign(
            "a Secret of that name exists and is not managed by this ApiToken".into(),
        )
    }
}

/// The token a result Secret holds, if any.
pub fn token_in(secret: Option<&Secret>) -> Option<Redacted> {
    let data = secret?.data.as_ref()?;
    let value = data.get("accessToken")?;
    let text = std::str::from_utf8(&value.0).ok()?;
    (!text.is_empty()).then(|| Redacted::new(text))
}

/// SHA-256 (hex) of a token, recorded in status to notice edits of the Secret.
pub fn token_hash(token: &Redacted) -> String {
    hex::encode(Sha256::digest(token.expose().as_bytes()))
}

/// The Secret this ApiToken should have at `target`: the token keys when there is a token, and
/// the connection keys, so that it works as a `connSecretRef` of other resources.
pub fn desired(
    token: &ApiToken,
    target: &Target,
    settings: &ConnectionSettings,
    access_token: Option<&Redacted>,
) -> Secret {
    let mut data = BTreeMap::new();
    let mut put = |k: &str, v: &str| {
        data.insert(k.to_string(), ByteString(v.as_bytes().to_vec()));
    };
    if let Some(t) = access_token {
        put("accessToken", t.expose());
        put("token", t.expose());
    }
    put("host", &settings.host_string());
    put(
        "validateCerts",
        if settings.validate_certs() {
            "true"
        } else {
            "false"
        },
    );
    put("timeout", &settings.timeout().as_secs().to_string());
    if let Some(ca) = settings.ca_cert_pem() {
        put("caCert", ca);
    }
    let owner_ns = token.namespace().unwrap_or_default();
    let labels = BTreeMap::from([
        (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
        (OWNER_UID_LABEL.to_string(), token.uid().unwrap_or_default()),
    ]);
    let annotations = BTreeMap::from([(
        OWNER_ANNOTATION.to_string(),
        format!("{owner_ns}/{}", token.name_any()),
    )]);
    // An ownerReference only works inside one namespace; elsewhere the finalizer deletes it.
    let owner_references = (target.namespace == owner_ns)
        .then(|| token.controller_owner_ref(&()).into_iter().collect());
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
    let refs_ok = match &desired.metadata.owner_references {
        Some(want) => want.iter().all(|w| {
            existing
                .owner_references()
                .iter()
                .any(|h| h.uid == w.uid && h.controller == w.controller)
        }),
        None => true,
    };
    existing.data != desired.data
        || !subset(&desired.metadata.labels, existing.labels())
        || !subset(&desired.metadata.annotations, existing.annotations())
        || !refs_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::ApiTokenSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

    fn apitoken() -> ApiToken {
        let spec: ApiTokenSpec = serde_json::from_value(serde_json::json!({
            "connSecretRef": {"name": "conn"}, "clientId": "CID"
        }))
        .unwrap();
        let mut t = ApiToken::new("tok", spec);
        t.metadata.namespace = Some("ns".into());
        t.metadata.uid = Some("uid-1".into());
        t
    }

    fn settings() -> ConnectionSettings {
        let data = BTreeMap::from([
            ("host".to_string(), b"quay.example.com".to_vec()),
            ("username".to_string(), b"admin".to_vec()),
            ("password".to_string(), b"pw".to_vec()),
        ]);
        ConnectionSettings::from_secret_data(&data).unwrap()
    }

    fn target(ns: &str, name: &str) -> Target {
        Target {
            namespace: ns.into(),
            name: name.into(),
        }
    }

    #[test]
    fn desired_secret_has_the_contract_keys_and_marks() {
        let t = apitoken();
        let s = desired(
            &t,
            &target("ns", "out"),
            &settings(),
            Some(&Redacted::new("TOKEN")),
        );
        let data = s.data.clone().unwrap();
        let get = |k: &str| String::from_utf8(data[k].0.clone()).unwrap();
        assert_eq!(get("accessToken"), "TOKEN");
        assert_eq!(get("token"), "TOKEN");
        assert_eq!(get("host"), "https://quay.example.com");
        assert_eq!(get("validateCerts"), "true");
        assert_eq!(get("timeout"), "10");
        assert!(!data.contains_key("caCert"));
        assert_eq!(s.labels()[MANAGED_BY_LABEL], MANAGED_BY);
        assert_eq!(s.labels()[OWNER_UID_LABEL], "uid-1");
        assert_eq!(s.owner_references()[0].uid, "uid-1");
        assert_eq!(
            ownership(Some(&s), &t, &target("ns", "out"), &target("ns", "conn")),
            Ownership::Ours
        );
    }

    #[test]
    fn secret_in_another_namespace_has_no_owner_reference() {
        let s = desired(&apitoken(), &target("other", "out"), &settings(), None);
        assert!(s.owner_references().is_empty());
        assert!(
            !s.data.unwrap().contains_key("accessToken"),
            "forUser writes no token keys"
        );
    }

    #[test]
    fn foreign_and_connection_secrets_are_refused() {
        let t = apitoken();
        let plain = Secret {
            metadata: ObjectMeta {
                name: Some("out".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(matches!(
            ownership(
                Some(&plain),
                &t,
                &target("ns", "out"),
                &target("ns", "conn")
            ),
            Ownership::Foreign(_)
        ));
        assert!(matches!(
            ownership(None, &t, &target("ns", "conn"), &target("ns", "conn")),
            Ownership::Foreign(_)
        ));
        let mut other = desired(&t, &target("ns", "out"), &settings(), None);
        other
            .labels_mut()
            .insert(OWNER_UID_LABEL.into(), "uid-2".into());
        assert!(matches!(
            ownership(
                Some(&other),
                &t,
                &target("ns", "out"),
                &target("ns", "conn")
            ),
            Ownership::Foreign(_)
        ));
        assert_eq!(
            ownership(None, &t, &target("ns", "out"), &target("ns", "conn")),
            Ownership::Absent
        );
    }

    #[test]
    fn the_earlier_operators_secrets_are_recognised() {
        let t = apitoken();
        let mut same_ns = Secret::default();
        same_ns.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "quay.herve4m.github.io/v1alpha1".into(),
            kind: "ApiToken".into(),
            name: "tok".into(),
            uid: "uid-1".into(),
            ..Default::default()
        }]);
        assert_eq!(
            ownership(
                Some(&same_ns),
                &t,
                &target("ns", "out"),
                &target("ns", "conn")
            ),
            Ownership::Legacy
        );
        let mut other_ns = Secret::default();
        other_ns
            .annotations_mut()
            .insert(LEGACY_PRIMARY.into(), "ns/tok".into());
        other_ns.annotations_mut().insert(
            LEGACY_PRIMARY_TYPE.into(),
            "ApiToken.quay.herve4m.github.io".into(),
        );
        assert_eq!(
            ownership(
                Some(&other_ns),
                &t,
                &target("x", "out"),
                &target("ns", "conn")
            ),
            Ownership::Legacy
        );
    }

    #[test]
    fn an_unchanged_secret_needs_no_write() {
        let t = apitoken();
        let want = desired(
            &t,
            &target("ns", "out"),
            &settings(),
            Some(&Redacted::new("A")),
        );
        assert!(needs_write(None, &want));
        assert!(!needs_write(Some(&want), &want));
        let edited = desired(
            &t,
            &target("ns", "out"),
            &settings(),
            Some(&Redacted::new("B")),
        );
        assert!(needs_write(Some(&edited), &want));
    }
}
