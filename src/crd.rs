//! The `ApiToken` custom resource: spec, status and the generated CRD.
//!
//! The field descriptions come from the user's own description of the resource, so that
//! `kubectl explain` answers with the words users already know.

// kube's printcolumn(...) repeats `type_ = ...` by design.
#![allow(clippy::duplicated_attributes)]

use kube::core::crd::CustomResourceExt;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// API group of the resource.
pub const GROUP: &str = "quay.herve4m.github.io";
/// Finalizer that holds deletion until the token is revoked.
pub const FINALIZER: &str = "quay.herve4m.github.io/finalizer";
/// Annotation whose every new value asks for one replacement token.
pub const ROTATE_ANNOTATION: &str = "quay.herve4m.github.io/rotate";

/// Create OAuth access tokens for accessing the Quay Container Registry API.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "quay.herve4m.github.io",
    version = "v1alpha1",
    kind = "ApiToken",
    plural = "apitokens",
    namespaced,
    category = "quay",
    status = "ApiTokenStatus",
    doc = "ApiToken creates an OAuth access token for accessing the Quay Container Registry API and stores it in a Secret.",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#
    ),
    printcolumn(
        name = "Success",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Successful")].status"#,
        priority = "1"
    ),
    printcolumn(name = "Secret", type_ = "string", json_path = ".status.secretName"),
    printcolumn(name = "Message", type_ = "string", json_path = ".status.message"),
    printcolumn(
        name = "Expires",
        type_ = "date",
        json_path = ".status.expiresAt",
        priority = "1"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[x_kube(validation = Rule::new("has(self.clientId) != has(self.clientIdFrom)").message("exactly one of clientId and clientIdFrom must be set"))]
#[x_kube(validation = Rule::new("!has(self.renewBefore) || duration(self.renewBefore) < (has(self.expiration) ? duration(self.expiration) : duration('87600h'))").message("renewBefore must be shorter than expiration (10 years when expiration is not set)").field_path(".renewBefore"))]
#[serde(rename_all = "camelCase")]
pub struct ApiTokenSpec {
    /// Reference to the secret resource that stores the connection parameters to the Quay Container
    /// Registry API. The secret must include the host, username and password, and optionally the
    /// validateCerts keys (a token cannot be used to create another token).
    pub conn_secret_ref: SecretRef,

    /// The client ID associated with the OAuth application to use for generating the OAuth access
    /// token. See the Application resource to create an application object and to retrieve the
    /// associated client ID. Mutually exclusive with clientIdFrom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self != ''").message("clientId must not be empty"))]
    pub client_id: Option<String>,

    /// Reference to the secret resource that stores the client ID of the application. You specify
    /// the key that stores this client ID by using the key parameter. By default the operator looks
    /// for a clientId key in the secret. Mutually exclusive with clientId.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id_from: Option<ClientIdFrom>,

    /// List of permissions to grant to the user account. all means all the permissions.
    #[serde(default = "default_rights")]
    #[schemars(length(min = 1))]
    pub rights: Vec<Right>,

    /// The username to generate an OAuth access token for. The user receives a notification in the
    /// web interface, which enables the user to retrieve the token. When you use this option, the
    /// resource does not return the token. Requires Quay version 3.12 or later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self != ''").message("forUser must not be empty"))]
    pub for_user: Option<String>,

    /// Whether to preserve the corresponding Quay object when you delete the ApiToken resource.
    /// When set to false (the default), the object is deleted from Quay.
    #[serde(default)]
    pub preserve_in_quay_on_deletion: bool,

    /// RetSecretRef is the secret resource that the ApiToken resource creates. This secret will
    /// store the data that the resource generates: accessToken - the OAuth access token; token - the
    /// OAuth access token (copy); host - URL for accessing the Quay API; validateCerts - whether to
    /// allow insecure connections to the API. When omitted, the secret takes the name of the
    /// ApiToken resource (an extension: without it the token could never be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret_secret_ref: Option<SecretRef>,

    /// How long each minted token lives, as a duration such as 720h or 90m: at least 5m, at
    /// most 87600h (10 years). Quay 3.18 and later expire the token themselves; with older Quay
    /// the operator replaces it at its renewal time and revokes it at its expiry at the latest.
    /// When omitted, a token lives as long as Quay lets it (10 years) and is renewed before that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(crate::duration::PATTERN))]
    #[x_kube(validation = Rule::new("duration(self) >= duration('5m') && duration(self) <= duration('87600h')").message("expiration must be between 5m and 87600h (10 years)"))]
    pub expiration: Option<String>,

    /// How long before the token expires its replacement is minted, as a duration such as 240h.
    /// Defaults to a third of the lifetime; must be shorter than expiration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(crate::duration::PATTERN))]
    pub renew_before: Option<String>,

    /// How long a replaced token stays valid after the result Secret holds its successor, as a
    /// duration such as 2m, so that consumers that read the Secret from time to time (a mounted
    /// volume refreshes in about a minute) never hold a revoked token. Applies to every
    /// replacement unless the old token is known to be dead. Defaults to 0s: revoke at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(crate::duration::PATTERN))]
    #[x_kube(validation = Rule::new("duration(self) <= duration('87600h')").message("gracePeriod must be at most 87600h (10 years)"))]
    pub grace_period: Option<String>,
}

/// A Secret by name, in the ApiToken's namespace unless another is given.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SecretRef {
    /// Name of the secret resource.
    #[x_kube(validation = Rule::new("self != ''").message("name must not be empty"))]
    pub name: String,
    /// Namespace of the secret resource. By default, the secret resource is in the same namespace as
    /// the current ApiToken resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// The Secret key that holds the OAuth application's client ID.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ClientIdFrom {
    /// Name of the secret resource.
    #[x_kube(validation = Rule::new("self != ''").message("name must not be empty"))]
    pub name: String,
    /// In the secret resource, key that stores the client ID.
    #[serde(default = "default_client_id_key")]
    pub key: String,
    /// Namespace of the secret resource. By default, the secret resource is retrieved from the same
    /// namespace as the current ApiToken resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A permission the token grants; `all` stands for every one of them.
#[derive(
    JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
pub enum Right {
    /// Administer organizations.
    #[serde(rename = "org:admin")]
    OrgAdmin,
    /// Administer repositories.
    #[serde(rename = "repo:admin")]
    RepoAdmin,
    /// Create repositories.
    #[serde(rename = "repo:create")]
    RepoCreate,
    /// View and pull repositories.
    #[serde(rename = "repo:read")]
    RepoRead,
    /// Read and write repositories.
    #[serde(rename = "repo:write")]
    RepoWrite,
    /// Super user access.
    #[serde(rename = "super:user")]
    SuperUser,
    /// Administer the user.
    #[serde(rename = "user:admin")]
    UserAdmin,
    /// Read user information.
    #[serde(rename = "user:read")]
    UserRead,
    /// All the permissions above.
    #[serde(rename = "all")]
    All,
}

impl Right {
    /// The eight Quay scopes, in Quay's own order.
    pub const SCOPES: [Right; 8] = [
        Right::RepoRead,
        Right::RepoWrite,
        Right::RepoAdmin,
        Right::RepoCreate,
        Right::UserRead,
        Right::UserAdmin,
        Right::OrgAdmin,
        Right::SuperUser,
    ];

    /// The name users write in `rights`, which is also Quay's scope name.
    pub fn as_str(self) -> &'static str {
        match self {
            Right::OrgAdmin => "org:admin",
            Right::RepoAdmin => "repo:admin",
            Right::RepoCreate => "repo:create",
            Right::RepoRead => "repo:read",
            Right::RepoWrite => "repo:write",
            Right::SuperUser => "super:user",
            Right::UserAdmin => "user:admin",
            Right::UserRead => "user:read",
            Right::All => "all",
        }
    }
}

/// Expands `rights` into Quay scope names: `all` becomes the eight scopes, duplicates go.
pub fn scopes_of(rights: &[Right]) -> Vec<&'static str> {
    let wanted: Vec<Right> = if rights.contains(&Right::All) {
        Right::SCOPES.to_vec()
    } else {
        Right::SCOPES
            .iter()
            .copied()
            .filter(|r| rights.contains(r))
            .collect()
    };
    wanted.into_iter().map(Right::as_str).collect()
}

fn default_rights() -> Vec<Right> {
    vec![Right::RepoRead]
}

fn default_client_id_key() -> String {
    "clientId".to_string()
}

/// What the operator observed and recorded for one ApiToken.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApiTokenStatus {
    /// The generation of the spec that this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready (the Secret holds a live token for the current spec) and Successful (same status,
    /// kept for users of the earlier operator).
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// Empty when all is well, else the error in one sentence.
    #[serde(default)]
    pub message: String,
    /// True once a token exists in Quay for this resource.
    #[serde(default)]
    pub exist_in_quay: bool,
    /// Namespace and name of the result Secret ("namespace/name").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// The token that Quay holds for this resource, as far as needed to keep it and revoke it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenRecord>,
    /// A mint that was started and not yet recorded; kept so that a crash in between leaves no
    /// token that nothing tracks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_mint: Option<PendingMint>,
    /// The value of the rotate annotation that the current token answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<String>,
    /// Tokens replaced by the current one and not yet revoked. Recorded together with their
    /// successor, before the result Secret holds it, so that a crash in between leaves no
    /// token that nothing tracks; revoked once the Secret holds the successor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<TokenRecord>,
    /// A salted hash of connection settings that Quay rejected (wrong password, disabled
    /// user). The operator does not sign in with them again, after restarts too, until the
    /// connection Secret changes: every rejected sign-in lengthens Quay's login back-off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_credentials: Option<String>,
    /// When the current token expires (RFC 3339): Quay's expiry, or the end of spec.expiration
    /// where Quay cannot be told (before 3.18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// When the operator mints the current token's replacement (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_at: Option<String>,
}

/// One condition, in the shape of metav1.Condition, tolerant of the earlier operator's entries
/// (empty reasons, `ansibleResult`) so that taking over its objects never fails validation.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Type of condition, e.g. Ready.
    #[serde(rename = "type")]
    pub type_: String,
    /// True, False or Unknown.
    pub status: String,
    /// CamelCase reason for the last transition.
    #[serde(default)]
    pub reason: String,
    /// Human-readable details.
    #[serde(default)]
    pub message: String,
    /// When the status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    /// The generation this condition was computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Left by the earlier Ansible-based operator; accepted and dropped on the first update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form")]
    pub ansible_result: Option<serde_json::Value>,
}

/// The Quay token this resource owns.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TokenRecord {
    /// Quay's id (uuid) of the token; absent for a token adopted from the earlier operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// How the token was minted: TokenApi or WebFlow; decides how it is verified and revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavour: Option<String>,
    /// The Quay URL the token belongs to.
    pub host: String,
    /// The Quay account that owns (or, with forUser, assigned) the token.
    pub username: String,
    /// The OAuth application's client ID.
    pub client_id: String,
    /// The organization of the OAuth application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Hash of the inputs the token depends on (host, username, client ID, rights, forUser).
    pub input_hash: String,
    /// SHA-256 of the token value, to tell when the result Secret was edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_hash: Option<String>,
    /// When the token was minted (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minted_at: Option<String>,
    /// When Quay expires the token (RFC 3339), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// The user the token was assigned to, with forUser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    /// The scopes the token was minted with: those of `rights` that the account can hold
    /// (`all` leaves out `super:user` for an account that is not a Quay superuser).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// A replaced token in its grace period: when it is revoked (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_at: Option<String>,
}

/// A mint in flight, recorded before Quay is asked.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PendingMint {
    /// The name given to the token in Quay (token API), by which it can be found again.
    pub name: String,
    /// The Quay URL.
    pub host: String,
    /// The Quay account.
    pub username: String,
    /// The OAuth application's client ID.
    pub client_id: String,
    /// When the mint started (RFC 3339).
    pub started_at: String,
    /// How the token is minted (tokenApi or webFlow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavour: Option<String>,
    /// The scopes asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Web flow, where tokens have no names: the application's tokens of the account before
    /// this mint. A token of the application that is neither here nor tracked by an ApiToken
    /// afterwards is the one this mint made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_ids: Option<Vec<String>>,
}

fn free_form(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// The CRD as YAML, as `crds/` holds it and the `crd` subcommand prints it.
pub fn crd_yaml() -> Result<String, serde_yaml::Error> {
    serde_yaml::to_string(&ApiToken::crd()).map(|y| format!("---\n{y}"))
}

/// File name of the generated CRD in `crds/`.
pub const CRD_FILE: &str = "crds/quay.herve4m.github.io_apitokens.yaml";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_expands_to_the_eight_scopes() {
        assert_eq!(
            scopes_of(&[Right::All, Right::RepoRead]),
            vec![
                "repo:read",
                "repo:write",
                "repo:admin",
                "repo:create",
                "user:read",
                "user:admin",
                "org:admin",
                "super:user"
            ]
        );
    }

    #[test]
    fn scopes_are_deduplicated_in_a_stable_order() {
        assert_eq!(
            scopes_of(&[Right::OrgAdmin, Right::RepoRead, Right::OrgAdmin]),
            vec!["repo:read", "org:admin"]
        );
    }

    #[test]
    fn defaults_follow_the_seed() {
        let spec: ApiTokenSpec = serde_json::from_value(serde_json::json!({
            "connSecretRef": {"name": "quay-credentials"},
            "clientIdFrom": {"name": "application-secret"}
        }))
        .unwrap();
        assert_eq!(spec.rights, vec![Right::RepoRead]);
        assert!(!spec.preserve_in_quay_on_deletion);
        assert_eq!(spec.client_id_from.unwrap().key, "clientId");
    }

    #[test]
    fn legacy_ansible_conditions_deserialize() {
        let status: ApiTokenStatus = serde_json::from_value(serde_json::json!({
            "conditions": [
                {"type": "Running", "status": "False", "reason": "", "message": "",
                 "ansibleResult": {"changed": 1, "failures": 0, "ok": 3}},
                {"type": "Failure", "status": "True", "reason": "", "message": "boom"}
            ]
        }))
        .unwrap();
        assert_eq!(status.conditions.len(), 2);
        assert!(status.conditions[0].ansible_result.is_some());
    }
}
