//! Which Secrets an ApiToken or an Application names and where they are, and whether the
//! cross-namespace policy lets it use one. No I/O: the controller's indexes, the peers check
//! and the reconciles of both kinds share them.

use crate::crd::ApiToken;
use crate::owned::Owner;
use crate::reference_grants::{Answer, ReferenceGrants, Referrer};
use kube::ResourceExt;

pub use crate::target::{Role, Target};

/// Whether references may point into other namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrossNamespacePolicy {
    /// Another namespace only when a ReferenceGrant there allows it (the default).
    Grant,
    /// Any namespace, as the earlier operator did (for migration).
    Allow,
    /// Only the object's own namespace.
    Deny,
}

/// A reference into another namespace that the policy refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The spec field that holds the reference.
    pub field: &'static str,
    /// The namespace it names.
    pub namespace: String,
    /// Why: what the policy or the missing grant says.
    pub why: Box<Refusal>,
}

/// Why a reference into another namespace is refused; each says what would allow it. None
/// depends on the Secret it names existing, so a refusal tells nothing about that namespace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The operator runs with `--cross-namespace-refs=deny`.
    #[error("this operator refuses cross-namespace references (--cross-namespace-refs=deny)")]
    Denied,
    /// No ReferenceGrant of that namespace lets objects of this kind and namespace use it.
    #[error(
        "namespace {namespace} holds no ReferenceGrant (gateway.networking.k8s.io/v1beta1) from {kind} in namespace {from} to the Secret {name}; its owners may create one (see docs/migration.md)"
    )]
    NotGranted {
        /// The namespace of the Secret.
        namespace: String,
        /// The referring kind.
        kind: &'static str,
        /// The referring object's namespace.
        from: String,
        /// The Secret's name.
        name: String,
    },
    /// The cluster does not serve ReferenceGrants.
    #[error(
        "the ReferenceGrant API (gateway.networking.k8s.io/v1beta1) is not installed in this cluster; install the Gateway API ReferenceGrant CRD, or run the operator with --cross-namespace-refs=allow"
    )]
    ApiMissing,
    /// The operator may not list ReferenceGrants.
    #[error(
        "the operator may not list ReferenceGrants; give it get, list and watch on referencegrants.gateway.networking.k8s.io, or run it with --cross-namespace-refs=allow"
    )]
    Forbidden,
    /// The operator does not watch that namespace, so it sees no grant there.
    #[error(
        "this operator does not watch namespace {0} (--namespaces), so no ReferenceGrant there can allow it"
    )]
    NotWatched(String),
    /// The ReferenceGrants are being listed (the operator just started).
    #[error("the ReferenceGrants are not listed yet; this is retried")]
    NotLoaded,
}

/// Why a reference of an object of either kind cannot be followed; each kind's error wraps it
/// and words it for the kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// The object lacks a namespace, so it was not read from the API server.
    #[error("the object has no namespace; it was not read from the API server")]
    NoNamespace,
    /// The cross-namespace policy refuses the reference.
    #[error("{}: namespace {} is not the object's namespace, and {}", .0.field, .0.namespace, .0.why)]
    Refused(Refused),
}

impl From<Refused> for ReferenceError {
    fn from(r: Refused) -> Self {
        ReferenceError::Refused(r)
    }
}

impl Refusal {
    /// Whether the refusal may pass by itself soon (the grants were not listed yet).
    pub fn is_transient(&self) -> bool {
        matches!(self, Refusal::NotLoaded)
    }
}

/// The namespace a reference of an object in `own` points to: the object's own when the
/// reference names none. Only `deny` refuses here, as it needs nothing but the namespace;
/// [`Consent::check`] judges the Secret itself under every policy.
pub fn resolve_namespace(
    own: String,
    field: &'static str,
    given: Option<&String>,
    policy: CrossNamespacePolicy,
) -> Result<String, Refused> {
    match given {
        Some(ns) if *ns != own && policy == CrossNamespacePolicy::Deny => Err(Refused {
            field,
            namespace: ns.clone(),
            why: Box::new(Refusal::Denied),
        }),
        Some(ns) => Ok(ns.clone()),
        None => Ok(own),
    }
}

/// The policy with what `grant` needs to judge a reference: the ReferenceGrants in sight.
#[derive(Clone, Copy)]
pub struct Consent<'a> {
    /// The cross-namespace policy.
    pub policy: CrossNamespacePolicy,
    /// The watched ReferenceGrants.
    pub grants: &'a ReferenceGrants,
}

impl Consent<'_> {
    /// Whether an object of `kind` in namespace `own` may read or write the Secret `target`
    /// through its field `field`. Its own namespace is always allowed; the answer never
    /// depends on whether the Secret exists.
    pub fn check(
        &self,
        kind: &'static str,
        own: &str,
        field: &'static str,
        target: &Target,
    ) -> Result<(), Refused> {
        if target.namespace == own {
            return Ok(());
        }
        let why = match self.policy {
            CrossNamespacePolicy::Allow => return Ok(()),
            CrossNamespacePolicy::Deny => Refusal::Denied,
            CrossNamespacePolicy::Grant => {
                let from = Referrer {
                    kind,
                    namespace: own,
                };
                match self.grants.answer(from, target) {
                    Answer::Granted => return Ok(()),
                    Answer::NotGranted => Refusal::NotGranted {
                        namespace: target.namespace.clone(),
                        kind,
                        from: own.to_owned(),
                        name: target.name.clone(),
                    },
                    Answer::NotInstalled => Refusal::ApiMissing,
                    Answer::Forbidden => Refusal::Forbidden,
                    Answer::NotWatched => Refusal::NotWatched(target.namespace.clone()),
                    Answer::NotLoaded => Refusal::NotLoaded,
                }
            }
        };
        Err(Refused {
            field,
            namespace: target.namespace.clone(),
            why: Box::new(why),
        })
    }

    /// [`Consent::check`] for an object of either kind; `target` back when allowed.
    pub fn object<K: Owner>(
        &self,
        object: &K,
        field: &'static str,
        target: Target,
    ) -> Result<Target, ReferenceError> {
        let own = object.namespace().ok_or(ReferenceError::NoNamespace)?;
        self.check(K::KIND, &own, field, &target)?;
        Ok(target)
    }
}

/// The kind name of ApiTokens, as ReferenceGrants name it.
pub const API_TOKEN: &str = "ApiToken";
/// The kind name of Applications, as ReferenceGrants name it.
pub const APPLICATION: &str = "Application";

/// Whether `token`'s result reference is one the policy lets it write: only those take part in
/// the shared-Secret check, so a refused reference never affects another ApiToken.
pub fn result_allowed(token: &ApiToken, consent: Consent<'_>) -> bool {
    result_target(token, consent.policy)
        .and_then(|t| consent.object(token, "retSecretRef", t))
        .is_ok()
}

/// Where a reference of `object` (of either kind) through `field` points, after the
/// cross-namespace policy: Secret `name` in namespace `given`, else in the object's own.
pub fn target_of<K: kube::Resource>(
    object: &K,
    field: &'static str,
    given: Option<&String>,
    name: String,
    policy: CrossNamespacePolicy,
) -> Result<Target, ReferenceError> {
    let own = object.namespace().ok_or(ReferenceError::NoNamespace)?;
    let namespace = resolve_namespace(own, field, given, policy)?;
    Ok(Target { namespace, name })
}

/// The Secret references both kinds have, as their specs give them.
pub trait SecretRefs: kube::Resource {
    /// `connSecretRef`: its namespace, if given, and its name.
    fn conn_ref(&self) -> (Option<&String>, &String);

    /// `retSecretRef`, if given: its namespace, if given, and its name.
    fn result_ref(&self) -> Option<(Option<&String>, &String)>;

    /// `clientIdFrom`, for a kind that has it and when given: its namespace, if given, and its
    /// name.
    fn client_id_ref(&self) -> Option<(Option<&String>, &String)> {
        None
    }
}

/// Implements [`SecretRefs`] for a kind whose spec has `conn_secret_ref` and `ret_secret_ref`
/// (and the given field for `clientIdFrom`), each with `namespace` and `name`.
macro_rules! secret_refs {
    ($kind:ty $(, $client_id:ident)?) => {
        impl $crate::references::SecretRefs for $kind {
            fn conn_ref(&self) -> (Option<&String>, &String) {
                let r = &self.spec.conn_secret_ref;
                (r.namespace.as_ref(), &r.name)
            }

            fn result_ref(&self) -> Option<(Option<&String>, &String)> {
                let r = self.spec.ret_secret_ref.as_ref()?;
                Some((r.namespace.as_ref(), &r.name))
            }

            $(fn client_id_ref(&self) -> Option<(Option<&String>, &String)> {
                let r = self.spec.$client_id.as_ref()?;
                Some((r.namespace.as_ref(), &r.name))
            })?
        }
    };
}
pub(crate) use secret_refs;

secret_refs!(ApiToken, client_id_from);

/// Where the connection Secret of `object` (of either kind) is.
pub fn conn_target<K: SecretRefs>(
    object: &K,
    policy: CrossNamespacePolicy,
) -> Result<Target, ReferenceError> {
    let (namespace, name) = object.conn_ref();
    target_of(object, "connSecretRef", namespace, name.clone(), policy)
}

/// Where the result Secret of `object` (of either kind) goes: its `retSecretRef` when given,
/// else the object's own name in its own namespace.
pub fn result_target<K: SecretRefs>(
    object: &K,
    policy: CrossNamespacePolicy,
) -> Result<Target, ReferenceError> {
    let (namespace, name) = match object.result_ref() {
        Some((namespace, name)) => (namespace, name.clone()),
        None => (None, object.name_any()),
    };
    target_of(object, "retSecretRef", namespace, name, policy)
}

/// Where the client ID's Secret is, when the client ID comes from one.
pub fn client_id_target<K: SecretRefs>(
    object: &K,
    policy: CrossNamespacePolicy,
) -> Option<Result<Target, ReferenceError>> {
    let (namespace, name) = object.client_id_ref()?;
    Some(target_of(
        object,
        "clientIdFrom",
        namespace,
        name.clone(),
        policy,
    ))
}

/// Every Secret `object` (of either kind) reads or writes (connection, result, client ID),
/// whatever the policy says of them: the indexes must find an object that a refused
/// reference names too.
pub fn secret_uses<K: SecretRefs>(object: &K) -> Vec<(Target, Role)> {
    let policy = CrossNamespacePolicy::Allow;
    let result = result_target(object, policy).ok();
    let targets = [
        conn_target(object, policy).ok(),
        result.clone(),
        client_id_target(object, policy).and_then(Result::ok),
    ];
    targets
        .into_iter()
        .flatten()
        .map(|t| {
            let role = role_of(&t, result.as_ref());
            (t, role)
        })
        .collect()
}

fn role_of(target: &Target, result: Option<&Target>) -> Role {
    if result == Some(target) {
        Role::Result
    } else {
        Role::Input
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(namespace: &str, name: &str) -> Target {
        Target {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// Under grant, a namespace nobody watches, or a cluster without the ReferenceGrant API,
    /// refuses with a sentence that says what to do; the own namespace needs no grant.
    #[test]
    fn grant_refuses_what_no_grant_allows_and_says_what_is_missing() {
        let grants = ReferenceGrants::default();
        let consent = Consent {
            policy: CrossNamespacePolicy::Grant,
            grants: &grants,
        };
        assert_eq!(consent.check(API_TOKEN, "a", "f", &at("a", "s")), Ok(()));
        let refused = consent
            .check(API_TOKEN, "a", "connSecretRef", &at("b", "s"))
            .unwrap_err();
        assert_eq!(*refused.why, Refusal::NotWatched("b".into()));
        assert!(!refused.why.is_transient());
        let allow = Consent {
            policy: CrossNamespacePolicy::Allow,
            ..consent
        };
        assert_eq!(allow.check(API_TOKEN, "a", "f", &at("b", "s")), Ok(()));
        assert!(Refusal::NotLoaded.is_transient());
    }

    fn ns(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    /// Only a reference into another namespace is ever refused, and only by the Deny policy.
    #[test]
    fn the_policy_refuses_only_other_namespaces() {
        let deny = CrossNamespacePolicy::Deny;
        let allow = CrossNamespacePolicy::Allow;
        let own = || "team".to_owned();
        assert_eq!(resolve_namespace(own(), "f", None, deny), Ok("team".into()));
        assert_eq!(
            resolve_namespace(own(), "f", ns("team").as_ref(), deny),
            Ok("team".into())
        );
        assert_eq!(
            resolve_namespace(own(), "f", ns("other").as_ref(), allow),
            Ok("other".into())
        );
        assert_eq!(
            resolve_namespace(own(), "retSecretRef", ns("other").as_ref(), deny),
            Err(Refused {
                field: "retSecretRef",
                namespace: "other".into(),
                why: Box::new(Refusal::Denied),
            })
        );
    }
}
