//! The ApiToken one reconcile is about: its identity read and checked once at the top, so the
//! steps below neither read it again nor paper over a missing field. Pure.

use super::credentials;
use super::lifetime::{BadField, Lifetime};
use crate::crd::{ApiToken, ApiTokenStatus};
use crate::error::ReconcileError;
use crate::quay::ConnectionSettings;
use kube::ResourceExt;

/// The reconciled ApiToken with its identity; built once per reconcile by [`Subject::of`].
#[derive(Debug)]
pub struct Subject<'a> {
    /// The object as the reconcile read it.
    pub token: &'a ApiToken,
    /// metadata.uid.
    pub uid: String,
    /// metadata.namespace.
    pub namespace: String,
    /// metadata.name (generateName for one not created yet).
    pub name: String,
    /// metadata.generation, as status reports it observed.
    pub generation: Option<i64>,
    /// The spec's lifetime, read here once; converge reports a bad one in its turn.
    lifetime: Result<Lifetime, BadField>,
}

impl<'a> Subject<'a> {
    /// The subject of `token`; refused when it lacks a namespace or uid, which every object
    /// read from the API server has.
    pub fn of(token: &'a ApiToken) -> Result<Self, ReconcileError> {
        let namespace = token
            .namespace()
            .ok_or(ReconcileError::Malformed("namespace"))?;
        let uid = token.uid().ok_or(ReconcileError::Malformed("uid"))?;
        Ok(Subject {
            token,
            uid,
            namespace,
            name: token.name_any(),
            generation: token.metadata.generation,
            lifetime: Lifetime::of(&token.spec),
        })
    }

    /// The spec's lifetime, or the default where it does not parse: the report of that failure
    /// (which [`Checked::of`] makes) still shows the recorded token's times.
    pub fn lifetime_or_default(&self) -> Lifetime {
        self.lifetime.clone().unwrap_or_default()
    }

    /// The key the error policy keeps `token`'s back-off under: it gets the object, not the
    /// subject, and one refused as malformed for a missing uid shares the empty key.
    pub fn backoff_key(token: &ApiToken) -> &str {
        token.metadata.uid.as_deref().unwrap_or_default()
    }
}

/// The subject once its inputs passed the checks made before any Quay request.
pub struct Checked<'a> {
    /// Who the reconcile is about.
    pub subject: &'a Subject<'a>,
    /// The spec's lifetime, valid.
    pub lifetime: Lifetime,
}

impl<'a> Checked<'a> {
    /// Checks, in this order, that Quay has not rejected exactly these connection settings
    /// before and that the lifetime parses. `mark` gets the settings' rejection mark first, so
    /// status keeps it when Quay rejects them (now or later in this reconcile).
    pub fn of(
        subject: &'a Subject<'a>,
        settings: &ConnectionSettings,
        shown: &ApiTokenStatus,
        mark: &mut Option<String>,
    ) -> Result<Self, ReconcileError> {
        credentials::mark_unless_rejected(&subject.uid, settings, shown, mark)?;
        let lifetime = subject.lifetime.clone()?;
        Ok(Checked { subject, lifetime })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(metadata: serde_json::Value, spec_extra: serde_json::Value) -> ApiToken {
        let mut spec =
            json!({"connSecretRef": {"name": "c"}, "clientId": "X", "retSecretRef": {"name": "s"}});
        if let (Some(spec), Some(extra)) = (spec.as_object_mut(), spec_extra.as_object()) {
            spec.extend(extra.clone());
        }
        serde_json::from_value(json!({
            "apiVersion": "quay.herve4m.github.io/v1alpha1", "kind": "ApiToken",
            "metadata": metadata, "spec": spec,
        }))
        .unwrap()
    }

    #[test]
    fn identity_is_read_once_from_the_metadata() {
        let t = token(
            json!({"name": "robot", "namespace": "team-a", "uid": "u-1", "generation": 3}),
            json!({}),
        );
        let subject = Subject::of(&t).unwrap();
        assert_eq!(
            (subject.uid.as_str(), subject.namespace.as_str()),
            ("u-1", "team-a")
        );
        assert_eq!(
            (subject.name.as_str(), subject.generation),
            ("robot", Some(3))
        );
        assert_eq!(Subject::backoff_key(&t), "u-1");
    }

    /// A missing namespace or uid is refused at the top, naming the field.
    #[test]
    fn a_missing_namespace_or_uid_is_refused_naming_it() {
        let no_ns = token(json!({"name": "robot", "uid": "u-1"}), json!({}));
        let err = Subject::of(&no_ns).unwrap_err();
        assert!(matches!(err, ReconcileError::Malformed("namespace")));
        assert!(err.to_string().contains("namespace"), "{err}");
        let no_uid = token(json!({"name": "robot", "namespace": "team-a"}), json!({}));
        let err = Subject::of(&no_uid).unwrap_err();
        assert!(matches!(err, ReconcileError::Malformed("uid")));
        assert!(err.to_string().contains("uid"), "{err}");
        assert_eq!(Subject::backoff_key(&no_uid), "");
    }

    /// A bad lifetime does not stop the subject: converge's check reports it, after the
    /// rejected-credentials check, and a report falls back to the default schedule.
    #[test]
    fn a_bad_lifetime_is_refused_by_the_check_after_rejected_credentials() {
        let t = token(
            json!({"name": "robot", "namespace": "team-a", "uid": "u-1"}),
            json!({"expiration": "1h", "renewBefore": "2h"}),
        );
        let subject = Subject::of(&t).unwrap();
        assert_eq!(subject.lifetime_or_default(), Lifetime::default());
        let data = [
            ("host", "quay.example.com"),
            ("username", "u"),
            ("password", "p"),
        ]
        .map(|(k, v)| (k.to_owned(), v.as_bytes().to_vec()));
        let settings = ConnectionSettings::from_secret_data(&data.into()).unwrap();
        let mut mark = None;
        let Err(err) = Checked::of(&subject, &settings, &ApiTokenStatus::default(), &mut mark)
        else {
            panic!("a bad lifetime passed the check");
        };
        assert!(matches!(
            err,
            ReconcileError::InvalidLifetime {
                field: "renewBefore",
                ..
            }
        ));
        let rejected = ApiTokenStatus {
            rejected_credentials: mark.clone(),
            ..ApiTokenStatus::default()
        };
        let Err(err) = Checked::of(&subject, &settings, &rejected, &mut mark) else {
            panic!("rejected settings passed the check");
        };
        assert!(err.is_rejected_sign_in(), "{err}");
    }
}
