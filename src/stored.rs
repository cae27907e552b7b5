//! An object of a watched kind as the API server stored it: parsed, or the reason it cannot be.
//!
//! kube's typed watcher fails a whole list or watch when one object does not deserialize, which
//! stalls every object behind one that an older CRD version or a hand edit left malformed.
//! [`Stored`] always deserializes, so the watch carries on and the bad object is reported alone,
//! with the path of the field that failed.

use crate::crd::{ApiToken, ApiTokenStatus, TokenRecord};
use crate::references::{Role, SecretRefs, Target};
use kube::Resource;
use kube::core::ObjectMeta;
use kube::core::object::HasStatus;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::fmt::Debug;
use std::sync::Arc;

/// A kind the operator watches, as far as its stored form and the Secrets it names go.
pub trait StoredKind:
    Resource<DynamicType = ()>
    + HasStatus<Status: DeserializeOwned + Clone + Debug + Default + PartialEq + Send + Sync>
    + SecretRefs
    + DeserializeOwned
    + Clone
    + Debug
    + Send
    + Sync
    + 'static
{
    /// A spec its schema accepts, for a stand-in whose own spec cannot be read.
    fn placeholder_spec() -> serde_json::Value;

    /// The Secrets it names, with the role of each (what a change of one of them wakes).
    fn secret_uses(&self) -> Vec<(Target, Role)> {
        crate::references::secret_uses(self)
    }
}

/// One watched object: valid, or malformed with what is known of it.
#[derive(Clone, Debug)]
pub enum Stored<K: StoredKind> {
    /// The object deserializes into its kind.
    Valid(Arc<K>),
    /// It does not; the metadata and (if readable) the status are kept to report it.
    Malformed(Box<Malformed<K>>),
}

/// A watched ApiToken.
pub type StoredToken = Stored<ApiToken>;

/// What is known of an object that does not deserialize.
#[derive(Clone, Debug)]
pub struct Malformed<K: StoredKind> {
    /// The object's metadata (name, uid, generation, finalizers …).
    pub metadata: ObjectMeta,
    /// Its status, when that part alone deserializes.
    pub status: Option<K::Status>,
    /// The status message and generation it shows, read even when the rest of status is not.
    pub shown: Shown,
    /// Which field is wrong and why.
    pub problem: MalformedError,
}

/// What a status shows, read field by field so that one bad field elsewhere does not hide it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shown {
    /// `status.message`.
    pub message: String,
    /// `status.observedGeneration`.
    pub observed_generation: Option<i64>,
}

/// Why a stored object cannot be read, naming the field serde complained about.
#[derive(Clone, Debug, thiserror::Error)]
pub enum MalformedError {
    /// One field holds a value the kind does not accept.
    #[error(
        "the stored {kind} cannot be read: {path}: {detail}; correct {path} (kubectl edit) to a value the {kind} schema accepts"
    )]
    Field {
        /// The object's kind.
        kind: String,
        /// Dotted path of the field, e.g. `spec.rights[0]`.
        path: String,
        /// What was wrong with its value.
        detail: String,
    },
    /// The object as a whole is not of its kind.
    #[error(
        "the stored {kind} cannot be read: {detail}; correct the object (kubectl edit) so that it matches the {kind} schema"
    )]
    Object {
        /// The object's kind.
        kind: String,
        /// What was wrong with it.
        detail: String,
    },
}

/// Longest part of serde's complaint kept in a message: it quotes the offending value.
const MAX_DETAIL: usize = 300;

impl<K: StoredKind> Stored<K> {
    /// Parses one stored object; never fails, whatever the object holds.
    pub fn from_value(value: &serde_json::Value) -> Stored<K> {
        match serde_path_to_error::deserialize::<_, K>(value) {
            Ok(object) => Stored::Valid(Arc::new(object)),
            Err(failure) => Stored::Malformed(Box::new(Malformed {
                metadata: lenient_metadata(value),
                status: value
                    .get("status")
                    .and_then(|s| K::Status::deserialize(s).ok()),
                shown: Shown {
                    message: value
                        .pointer("/status/message")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    observed_generation: value
                        .pointer("/status/observedGeneration")
                        .and_then(serde_json::Value::as_i64),
                },
                problem: MalformedError::new(K::kind(&()).into_owned(), &failure),
            })),
        }
    }

    /// The object, when it is one of its kind.
    pub fn valid(&self) -> Option<&Arc<K>> {
        match self {
            Stored::Valid(object) => Some(object),
            Stored::Malformed(_) => None,
        }
    }

    /// An object carrying this one's metadata and readable status, with a placeholder spec when
    /// the real one cannot be read: for questions about metadata or status only (events, which
    /// tokens are tracked), never about the spec.
    pub fn stand_in(&self) -> Option<Arc<K>> {
        match self {
            Stored::Valid(object) => Some(object.clone()),
            Stored::Malformed(m) => m.stand_in().map(Arc::new),
        }
    }

    /// The status as far as it can be read.
    pub fn status(&self) -> Option<&K::Status> {
        match self {
            Stored::Valid(object) => object.status(),
            Stored::Malformed(m) => m.status.as_ref(),
        }
    }
}

impl StoredToken {
    /// The Quay token recorded in status, if any.
    pub fn token_record(&self) -> Option<&TokenRecord> {
        self.status()
            .and_then(|s: &ApiTokenStatus| s.token.as_ref())
    }
}

impl<K: StoredKind> Malformed<K> {
    /// See [`Stored::stand_in`].
    pub fn stand_in(&self) -> Option<K> {
        let placeholder = serde_json::json!({
            "apiVersion": K::api_version(&()),
            "kind": K::kind(&()),
            "metadata": self.metadata,
            "spec": K::placeholder_spec(),
        });
        let mut object = K::deserialize(placeholder).ok()?;
        *object.status_mut() = self.status.clone();
        Some(object)
    }
}

impl MalformedError {
    fn new(
        kind: String,
        failure: &serde_path_to_error::Error<serde_json::Error>,
    ) -> MalformedError {
        let mut detail = failure.inner().to_string();
        if detail.len() > MAX_DETAIL {
            let mut cut = MAX_DETAIL;
            while !detail.is_char_boundary(cut) {
                cut -= 1;
            }
            detail.truncate(cut);
            detail.push('…');
        }
        if failure.path().iter().next().is_none() {
            MalformedError::Object { kind, detail }
        } else {
            MalformedError::Field {
                kind,
                path: failure.path().to_string(),
                detail,
            }
        }
    }
}

/// The metadata even when it is itself odd: the API server guarantees it, but a watch that
/// fails on it would stall every other object, so fall back to the names it carries.
fn lenient_metadata(value: &serde_json::Value) -> ObjectMeta {
    let meta = value.get("metadata");
    if let Some(parsed) = meta.and_then(|m| ObjectMeta::deserialize(m).ok()) {
        return parsed;
    }
    let text = |key: &str| {
        meta.and_then(|m| m.get(key))
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
    };
    ObjectMeta {
        name: text("name"),
        namespace: text("namespace"),
        uid: text("uid"),
        resource_version: text("resourceVersion"),
        ..ObjectMeta::default()
    }
}

impl<'de, K: StoredKind> Deserialize<'de> for Stored<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Only input that is not JSON at all fails here, and then the whole response is broken.
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(Stored::from_value(&value))
    }
}

impl<K: StoredKind> Resource for Stored<K> {
    type DynamicType = ();
    type Scope = K::Scope;

    fn kind(dt: &()) -> Cow<'_, str> {
        K::kind(dt)
    }

    fn group(dt: &()) -> Cow<'_, str> {
        K::group(dt)
    }

    fn version(dt: &()) -> Cow<'_, str> {
        K::version(dt)
    }

    fn plural(dt: &()) -> Cow<'_, str> {
        K::plural(dt)
    }

    fn meta(&self) -> &ObjectMeta {
        match self {
            Stored::Valid(object) => object.meta(),
            Stored::Malformed(m) => &m.metadata,
        }
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Stored::Valid(object) => Arc::make_mut(object).meta_mut(),
            Stored::Malformed(m) => &mut m.metadata,
        }
    }
}

impl StoredKind for ApiToken {
    fn placeholder_spec() -> serde_json::Value {
        serde_json::json!({"connSecretRef": {"name": "-"}, "clientId": "-"})
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(spec: serde_json::Value) -> serde_json::Value {
        json!({
            "apiVersion": "quay.herve4m.github.io/v1alpha1", "kind": "ApiToken",
            "metadata": {"name": "t", "namespace": "ns", "uid": "u1", "generation": 2},
            "spec": spec,
            "status": {"message": "", "token": {"id": "q1", "host": "h", "username": "a",
                       "clientId": "c", "inputHash": "x"}},
        })
    }

    #[test]
    fn a_valid_object_is_an_apitoken() {
        let stored = StoredToken::from_value(&object(
            json!({"connSecretRef": {"name": "c"}, "clientId": "id"}),
        ));
        assert!(stored.valid().is_some());
        assert_eq!(stored.meta().uid.as_deref(), Some("u1"));
    }

    #[test]
    fn a_bad_field_is_named_and_the_rest_kept() {
        let stored = StoredToken::from_value(&object(json!({
            "connSecretRef": {"name": "c"}, "clientId": "id", "preserveInQuayOnDeletion": "yes"
        })));
        let StoredToken::Malformed(m) = &stored else {
            panic!("parsed a malformed object");
        };
        let message = m.problem.to_string();
        assert!(
            message.contains("spec.preserveInQuayOnDeletion: invalid type: string \"yes\""),
            "{message}"
        );
        assert_eq!(m.metadata.generation, Some(2));
        assert_eq!(
            stored.token_record().and_then(|r| r.id.as_deref()),
            Some("q1")
        );
    }

    #[test]
    fn a_list_with_one_bad_item_still_deserializes() {
        let list = json!([
            object(json!({"connSecretRef": {"name": "c"}, "clientId": "id"})),
            object(json!({"connSecretRef": {"name": "c"}, "clientId": "id", "rights": ["nope"]})),
        ]);
        let items: Vec<StoredToken> = serde_json::from_value(list).unwrap();
        assert!(items[0].valid().is_some());
        assert!(
            matches!(&items[1], StoredToken::Malformed(m) if m.problem.to_string().contains("spec.rights[0]"))
        );
    }
}
