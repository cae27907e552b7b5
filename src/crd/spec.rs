//! The ApiToken's spec, which is also what generates the CRD: its printer columns and CEL rules.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

use super::rights::Right;
use super::status::ApiTokenStatus;

super::resource::quay_resource! {
    kind = "ApiToken",
    plural = "apitokens",
    status = "ApiTokenStatus",
    doc = "ApiToken creates an OAuth access token for accessing the Quay Container Registry API and stores it in a Secret.",
    lead = [],
    trail = [
        printcolumn(
            name = "Expires",
            type_ = "date",
            json_path = ".status.expiresAt",
            priority = "1"
        ),
    ],
    /// Create OAuth access tokens for accessing the Quay Container Registry API.
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
        #[x_kube(validation = Rule::new("self != ''").message("clientId must not be empty"))]
        pub client_id: Option<String>,

        /// Reference to the secret resource that stores the client ID of the application. You specify
        /// the key that stores this client ID by using the key parameter. By default the operator looks
        /// for a clientId key in the secret. Mutually exclusive with clientId.
        pub client_id_from: Option<ClientIdFrom>,

        /// List of permissions to grant to the user account. all means all the permissions.
        #[serde(default = "default_rights")]
        #[schemars(length(min = 1))]
        pub rights: Vec<Right>,

        /// The username to generate an OAuth access token for. The user receives a notification in the
        /// web interface, which enables the user to retrieve the token. When you use this option, the
        /// resource does not return the token. Requires Quay version 3.12 or later.
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
        pub ret_secret_ref: Option<SecretRef>,

        /// How long each minted token lives, as a duration such as 720h or 90m: at least 5m, at
        /// most 87600h (10 years). Quay 3.18 and later expire the token themselves; with older Quay
        /// the operator replaces it at its renewal time and revokes it at its expiry at the latest.
        /// When omitted, a token lives as long as Quay lets it (10 years) and is renewed before that.
        #[schemars(pattern(crate::duration::PATTERN))]
        #[x_kube(validation = Rule::new("duration(self) >= duration('5m') && duration(self) <= duration('87600h')").message("expiration must be between 5m and 87600h (10 years)"))]
        pub expiration: Option<String>,

        /// How long before the token expires its replacement is minted, as a duration such as 240h.
        /// Defaults to a third of the lifetime; must be shorter than expiration.
        #[schemars(pattern(crate::duration::PATTERN))]
        pub renew_before: Option<String>,

        /// How long a replaced token stays valid after the result Secret holds its successor, as a
        /// duration such as 2m, so that consumers that read the Secret from time to time (a mounted
        /// volume refreshes in about a minute) never hold a revoked token. Applies to every
        /// replacement unless the old token is known to be dead. Defaults to 0s: revoke at once.
        #[schemars(pattern(crate::duration::PATTERN))]
        #[x_kube(validation = Rule::new("duration(self) <= duration('87600h')").message("gracePeriod must be at most 87600h (10 years)"))]
        pub grace_period: Option<String>,
    }
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

fn default_rights() -> Vec<Right> {
    vec![Right::RepoRead]
}

fn default_client_id_key() -> String {
    "clientId".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
