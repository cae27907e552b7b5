//! Which Secrets an ApiToken names and where they are, after the cross-namespace policy.
//! Plain values, no I/O: the controller's indexes, the peers check and the reconcile share them.

use crate::crd::ApiToken;
use crate::error::ReconcileError;
use kube::ResourceExt;

/// Where a Secret lives.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Whether references may point into other namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrossNamespacePolicy {
    /// As the seed documents: any namespace.
    Allow,
    /// Only the ApiToken's own namespace (multi-tenant clusters).
    Deny,
}

/// How an ApiToken uses a Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// It reads it (connection, client ID).
    Input,
    /// It writes its token there.
    Result,
}

/// A reference into another namespace that the policy refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The spec field that holds the reference.
    pub field: &'static str,
    /// The namespace it names.
    pub namespace: String,
}

/// The namespace a reference of an object in `own` points to, after the policy: the object's
/// own when the reference names none.
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
        }),
        Some(ns) => Ok(ns.clone()),
        None => Ok(own),
    }
}

/// The namespace an ApiToken's reference points to, after the cross-namespace policy.
pub fn namespace_of(
    token: &ApiToken,
    field: &'static str,
    given: Option<&String>,
    policy: CrossNamespacePolicy,
) -> Result<String, ReconcileError> {
    let own = token
        .namespace()
        .ok_or(ReconcileError::Malformed("namespace"))?;
    resolve_namespace(own, field, given, policy).map_err(|r| ReconcileError::CrossNamespaceDenied {
        field: r.field,
        namespace: r.namespace,
    })
}

/// Where the connection Secret is.
pub fn conn_target(
    token: &ApiToken,
    policy: CrossNamespacePolicy,
) -> Result<Target, ReconcileError> {
    let r = &token.spec.conn_secret_ref;
    Ok(Target {
        namespace: namespace_of(token, "connSecretRef", r.namespace.as_ref(), policy)?,
        name: r.name.clone(),
    })
}

/// Where the result Secret goes: retSecretRef, or the ApiToken's own name.
pub fn result_target(
    token: &ApiToken,
    policy: CrossNamespacePolicy,
) -> Result<Target, ReconcileError> {
    match &token.spec.ret_secret_ref {
        Some(r) => Ok(Target {
            namespace: namespace_of(token, "retSecretRef", r.namespace.as_ref(), policy)?,
            name: r.name.clone(),
        }),
        None => Ok(Target {
            namespace: namespace_of(token, "retSecretRef", None, policy)?,
            name: token.name_any(),
        }),
    }
}

/// Where the client ID's Secret is, when the client ID comes from one.
pub fn client_id_target(
    token: &ApiToken,
    policy: CrossNamespacePolicy,
) -> Option<Result<Target, ReconcileError>> {
    let from = token.spec.client_id_from.as_ref()?;
    Some(
        namespace_of(token, "clientIdFrom", from.namespace.as_ref(), policy).map(|namespace| {
            Target {
                namespace,
                name: from.name.clone(),
            }
        }),
    )
}

/// Every Secret this ApiToken reads or writes (connection, result, client ID), whatever the
/// policy says of them: the indexes must find an ApiToken that a refused reference names too.
pub fn secret_uses(token: &ApiToken) -> Vec<(Target, Role)> {
    let policy = CrossNamespacePolicy::Allow;
    let result = result_target(token, policy).ok();
    let targets = [
        conn_target(token, policy).ok(),
        result.clone(),
        client_id_target(token, policy).and_then(Result::ok),
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
                namespace: "other".into()
            })
        );
    }
}
