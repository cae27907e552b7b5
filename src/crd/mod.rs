//! The `ApiToken` custom resource: spec, status and the generated CRD.
//!
//! The field descriptions come from the user's own description of the resource, so that
//! `kubectl explain` answers with the words users already know.

//! The spec, the status and the rights live in modules of their own; everything is
//! re-exported here, so users name it `crate::crd::…`.

use kube::core::crd::CustomResourceExt;

mod resource;
mod rights;
mod spec;
mod status;

pub(crate) use resource::quay_resource;
pub use rights::{Right, scopes_of};
pub use spec::{ApiToken, ApiTokenSpec, ClientIdFrom, SecretRef};
pub(crate) use status::kind_status;
pub use status::{ApiTokenStatus, Condition, PendingMint, TokenRecord};

/// API group of the resource.
pub const GROUP: &str = "quay.herve4m.github.io";
/// Finalizer that holds deletion until the token is revoked.
pub const FINALIZER: &str = "quay.herve4m.github.io/finalizer";
/// Annotation whose every new value asks for one replacement token.
pub const ROTATE_ANNOTATION: &str = "quay.herve4m.github.io/rotate";
/// Annotation that, set to "true" on an ApiToken or Application being deleted, releases it
/// without revoking or deleting anything in Quay (see `crate::release`).
pub const RELEASE_ANNOTATION: &str = "quay.herve4m.github.io/release-without-revoke";

/// The CRD as YAML, as `crds/` holds it and the `crd` subcommand prints it.
pub fn crd_yaml() -> Result<String, serde_yaml_ng::Error> {
    serde_yaml_ng::to_string(&ApiToken::crd()).map(|y| format!("---\n{y}"))
}

/// File name of the generated CRD in `crds/`.
pub const CRD_FILE: &str = "crds/quay.herve4m.github.io_apitokens.yaml";
