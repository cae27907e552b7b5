//! The result Secret of an Application: what it should hold. Pure, no I/O; its marks and whose
//! it is are the owned layer's (`crate::owned::secret`), one rule for both kinds.

use super::crd::Application;
use crate::quay::AppView;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use std::collections::BTreeMap;

pub use crate::owned::secret::{Ownership, Target, needs_write, ownership};

/// The key ApiTokens read through `clientIdFrom` by default.
pub const CLIENT_ID_KEY: &str = "clientId";
/// The key holding the OAuth client secret.
pub const CLIENT_SECRET_KEY: &str = "clientSecret";
/// The key holding the application's name in Quay.
pub const NAME_KEY: &str = "name";

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
    crate::owned::secret::marked(app, target, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::owned::secret::{OWNER_ANNOTATION, OWNER_KIND_ANNOTATION, OWNER_UID_LABEL};
    use crate::redacted::Redacted;
    use kube::ResourceExt;
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

    /// Nobody else's Secret is taken: the connection Secret, another resource's, a stranger's
    /// (the earlier operator's: `crate::owned::secret`).
    #[test]
    fn foreign_secrets_are_refused() {
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
    }
}
