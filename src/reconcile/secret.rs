//! The result Secret of an ApiToken: what it should hold. Pure functions, no I/O; its marks
//! and whose it is are the owned layer's (`crate::owned::secret`), re-exported here.

use crate::crd::ApiToken;
use crate::quay::ConnectionSettings;
use crate::redacted::Redacted;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub use crate::owned::secret::{
    LEGACY_PRIMARY, LEGACY_PRIMARY_TYPE, MANAGED_BY, MANAGED_BY_LABEL, OWNER_ANNOTATION,
    OWNER_UID_LABEL, Ownership, Target, needs_write, ownership,
};

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
    crate::owned::secret::marked(token, target, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::ApiTokenSpec;
    use kube::ResourceExt;
    use kube::api::ObjectMeta;

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
