//! An ApiToken as the API server stored it: parsed, or the reason it cannot be.
//!
//! kube's typed watcher fails a whole list or watch when one object does not deserialize, which
//! stalls every ApiToken behind one that an older CRD version or a hand edit left malformed.
//! This type always deserializes, so the watch carries on and the bad object is reported alone.

mod tracked;

use crate::crd::{ApiToken, ApiTokenStatus, TokenRecord};
use k8s_openapi::NamespaceResourceScope;
use kube::Resource;
use kube::core::ObjectMeta;
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::sync::Arc;

/// One watched ApiToken: valid, or malformed with what is known of it.
#[derive(Clone, Debug)]
pub enum StoredToken {
    /// The object deserializes into an ApiToken.
    Valid(Arc<ApiToken>),
    /// It does not; the metadata and (if readable) the status are kept to report it.
    Malformed(Box<Malformed>),
}

/// What is known of an ApiToken that does not deserialize.
#[derive(Clone, Debug)]
pub struct Malformed {
    /// The object's metadata (name, uid, generation, finalizers …).
    pub metadata: ObjectMeta,
    /// Its status, when that part alone deserializes.
    pub status: Option<ApiTokenStatus>,
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

/// Why a stored ApiToken cannot be read, naming the field serde complained about.
#[derive(Clone, Debug, thiserror::Error)]
pub enum MalformedError {
    /// One field holds a value the ApiToken type does not accept.
    #[error(
        "the stored ApiToken cannot be read: {path}: {detail}; correct {path} (kubectl edit) to a value the ApiToken schema accepts"
    )]
    Field {
        /// Dotted path of the field, e.g. `spec.rights[0]`.
        path: String,
        /// What was wrong with its value.
        detail: String,
    },
    /// The object as a whole is not an ApiToken.
    #[error(
        "the stored ApiToken cannot be read: {detail}; correct the object (kubectl edit) so that it matches the ApiToken schema"
    )]
    Object {
        /// What was wrong with it.
        detail: String,
    },
}

/// Longest part of serde's complaint kept in a message: it quotes the offending value.
const MAX_DETAIL: usize = 300;

impl StoredToken {
    /// Parses one stored object; never fails, whatever the object holds.
    pub fn from_value(value: &serde_json::Value) -> StoredToken {
        match tracked::from_value::<ApiToken>(value) {
            Ok(token) => StoredToken::Valid(Arc::new(token)),
            Err(failure) => StoredToken::Malformed(Box::new(Malformed {
                metadata: lenient_metadata(value),
                status: value
                    .get("status")
                    .and_then(|s| ApiTokenStatus::deserialize(s).ok()),
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
                problem: MalformedError::new(&failure),
            })),
        }
    }

    /// The ApiToken, when the object is one.
    pub fn valid(&self) -> Option<&Arc<ApiToken>> {
        match self {
            StoredToken::Valid(token) => Some(token),
            StoredToken::Malformed(_) => None,
        }
    }

    /// An ApiToken carrying this object's metadata and readable status, with a placeholder
    /// spec when the real one cannot be read: for questions about metadata or status only
    /// (events, which tokens are tracked), never about the spec.
    pub fn stand_in(&self) -> Option<Arc<ApiToken>> {
        match self {
            StoredToken::Valid(token) => Some(token.clone()),
            StoredToken::Malformed(m) => m.stand_in().map(Arc::new),
        }
    }

    /// The status as far as it can be read.
    pub fn status(&self) -> Option<&ApiTokenStatus> {
        match self {
            StoredToken::Valid(token) => token.status.as_ref(),
            StoredToken::Malformed(m) => m.status.as_ref(),
        }
    }

    /// The Quay token recorded in status, if any.
    pub fn token_record(&self) -> Option<&TokenRecord> {
        self.status().and_then(|s| s.token.as_ref())
    }
}

impl Malformed {
    /// See [`StoredToken::stand_in`].
    pub fn stand_in(&self) -> Option<ApiToken> {
        let placeholder = serde_json::json!({
            "apiVersion": ApiToken::api_version(&()),
            "kind": ApiToken::kind(&()),
            "metadata": self.metadata,
            "spec": {"connSecretRef": {"name": "-"}, "clientId": "-"},
        });
        let mut token = ApiToken::deserialize(placeholder).ok()?;
        token.status = self.status.clone();
        Some(token)
    }
}

impl MalformedError {
    fn new(failure: &tracked::Failure) -> MalformedError {
        let mut detail = failure.error.to_string();
        if detail.len() > MAX_DETAIL {
            let mut cut = MAX_DETAIL;
            while !detail.is_char_boundary(cut) {
                cut -= 1;
            }
            detail.truncate(cut);
            detail.push('…');
        }
        if failure.path.is_empty() {
            MalformedError::Object { detail }
        } else {
            MalformedError::Field {
                path: failure.path.clone(),
                detail,
            }
        }
    }
}

/// The metadata even when it is itself odd: the API server guarantees it, but a watch that
/// fails on it would stall every other ApiToken, so fall back to the names it carries.
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

impl<'de> Deserialize<'de> for StoredToken {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Only input that is not JSON at all fails here, and then the whole response is broken.
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(StoredToken::from_value(&value))
    }
}

impl Resource for StoredToken {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind(dt: &()) -> Cow<'_, str> {
        ApiToken::kind(dt)
    }

    fn group(dt: &()) -> Cow<'_, str> {
        ApiToken::group(dt)
    }

    fn version(dt: &()) -> Cow<'_, str> {
        ApiToken::version(dt)
    }

    fn plural(dt: &()) -> Cow<'_, str> {
        ApiToken::plural(dt)
    }

    fn meta(&self) -> &ObjectMeta {
        match self {
            StoredToken::Valid(token) => &token.metadata,
            StoredToken::Malformed(m) => &m.metadata,
        }
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        match self {
            StoredToken::Valid(token) => &mut Arc::make_mut(token).metadata,
            StoredToken::Malformed(m) => &mut m.metadata,
        }
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
