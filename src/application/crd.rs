//! The `Application` custom resource: an OAuth application of a Quay organization, the one an
//! ApiToken mints its tokens for. Field names and meanings are the earlier operator's, so that
//! its manifests keep working; `kubectl explain` answers with these descriptions.

use kube::KubeSchema;
use kube::core::crd::CustomResourceExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

crate::crd::quay_resource! {
    kind = "Application",
    plural = "applications",
    status = "ApplicationStatus",
    doc = "Application creates and keeps an OAuth application in a Quay organization, and stores its client ID and secret in a Secret that ApiTokens read through clientIdFrom.",
    lead = [
        printcolumn(
            name = "Client ID",
            type_ = "string",
            json_path = ".status.application.clientId"
        ),
    ],
    trail = [],
    /// Manage Quay Container Registry applications.
    #[serde(rename_all = "camelCase")]
    pub struct ApplicationSpec {
        /// Reference to the secret resource that stores the connection parameters to the Quay
        /// Container Registry API. The secret must include the host key and either a token key (an
        /// OAuth access token with the org:admin scope, such as the result Secret of an ApiToken) or
        /// the username and password keys of an administrator of the organization; token wins when
        /// both are given. validateCerts, timeout and caCert are optional.
        pub conn_secret_ref: AppSecretRef,

        /// Name of the organization in which to manage the application.
        #[schemars(length(min = 1))]
        pub organization: String,

        /// Name of the application to create, update, or delete. Application names must be at least
        /// two characters long. Quay does not keep names unique: the operator records the client ID
        /// of the application it created or took over, and looks for one by this name only when it
        /// has none recorded.
        #[schemars(length(min = 2, max = 255))]
        pub name: String,

        /// New name for the application. Setting this option changes the name of the application
        /// which current name is provided in name; its client ID stays the same.
        #[schemars(length(min = 2, max = 255))]
        pub new_name: Option<String>,

        /// Description for the application. When omitted, the description in Quay is left as it is.
        pub description: Option<String>,

        /// URL to the application home page. When omitted, the value in Quay is left as it is.
        pub application_uri: Option<String>,

        /// Prefix of the application's OAuth redirection/callback URLs. When omitted, the value in
        /// Quay is left as it is. ApiTokens need none: Quay always accepts its own /oauth/localapp.
        pub redirect_uri: Option<String>,

        /// Email address that represents the avatar for the application. When omitted, the value in
        /// Quay is left as it is.
        pub avatar_email: Option<String>,

        /// Whether to preserve the corresponding Quay object when you delete the Application
        /// resource. When set to false (the default), the object is deleted from Quay, and with it
        /// every OAuth access token minted for the application.
        #[serde(default)]
        pub preserve_in_quay_on_deletion: bool,

        /// Whether deleting the Application also deletes, in Quay, an application it took over
        /// (one of the same name that already existed, recorded as Adopted in
        /// status.application.origin) rather than created. When false (the default), such an
        /// application stays in Quay, with its tokens: someone else made it. Applications the
        /// operator created are deleted unless preserveInQuayOnDeletion is true, which wins over
        /// this field.
        #[serde(default)]
        pub delete_adopted_in_quay: bool,

        /// RetSecretRef is the secret resource that the Application resource creates. This secret
        /// will store the data that the resource generates: clientId - ID of the client associated
        /// with the application object (what an ApiToken's clientIdFrom reads by default);
        /// clientSecret - secret for the client associated with the application object; name -
        /// application name. When omitted, the secret takes the name of the Application resource.
        pub ret_secret_ref: Option<AppSecretRef>,
    }
}

/// A Secret by name, in the Application's namespace unless another is given.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AppSecretRef {
    /// Name of the secret resource.
    #[x_kube(validation = Rule::new("self != ''").message("name must not be empty"))]
    pub name: String,
    /// Namespace of the secret resource. By default, the secret resource is in the same
    /// namespace as the current Application resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

crate::crd::kind_status! {
/// What the operator observed and recorded for one Application.
pub struct ApplicationStatus {
    shared:
        /// Ready (the application exists in Quay as the spec says and the Secret holds its client
        /// ID and secret) and Successful (same status, kept for users of the earlier operator).
        ;
        /// True once the application exists in Quay for this resource.
        ;
        /// A salted hash of connection settings that Quay rejected (wrong password, dead token).
        /// The operator does not try them again, after restarts too, until the Secret changes.
        ;
    /// The application this resource manages in Quay, by client ID (names are not unique).
    pub application: Option<AppRecord>,
    /// A create that was started and not yet recorded; kept so that a crash in between never
    /// leads to a second application.
    pub pending_create: Option<PendingCreate>,
}
}

/// The Quay application of this resource.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AppRecord {
    /// The OAuth client ID: Quay's identity of the application.
    pub client_id: String,
    /// The Quay URL the application lives on.
    pub host: String,
    /// The organization that owns it.
    pub organization: String,
    /// How the application came to be this resource's: Created, Adopted (found by name) or
    /// Recovered (found after an interrupted create). Deletion deletes in Quay only Created and
    /// Recovered ones, unless deleteAdoptedInQuay is true; a record without origin counts as
    /// Adopted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// A create in flight, recorded before Quay is asked.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PendingCreate {
    /// The Quay URL.
    pub host: String,
    /// The organization.
    pub organization: String,
    /// The name the application is created with.
    pub name: String,
    /// Client IDs of the organization's applications of that name before the create: an
    /// application of that name that is neither here nor recorded by another Application
    /// afterwards is the one this create made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_client_ids: Vec<String>,
    /// When the create started (RFC 3339).
    pub started_at: String,
}

impl Application {
    /// The name the application should have in Quay: newName when set, else name.
    pub fn desired_name(&self) -> &str {
        self.spec.new_name.as_deref().unwrap_or(&self.spec.name)
    }
}

/// The CRD as YAML, as `crds/` holds it.
pub fn crd_yaml() -> Result<String, serde_yaml_ng::Error> {
    serde_yaml_ng::to_string(&Application::crd()).map(|y| format!("---\n{y}"))
}

/// `yaml` (the ApiToken CRD) followed by the Application CRD: what the `crd` subcommand prints.
pub fn append_crd(yaml: String) -> Result<String, serde_yaml_ng::Error> {
    Ok(yaml + &crd_yaml()?)
}

/// File name of the generated CRD in `crds/`.
pub const CRD_FILE: &str = "crds/quay.herve4m.github.io_applications.yaml";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The earlier operator's manifests deserialize unchanged, defaults as it had them.
    #[test]
    fn the_earlier_operators_manifest_reads_as_it_did() {
        let spec: ApplicationSpec = serde_json::from_value(json!({
            "connSecretRef": {"name": "quay-credentials"},
            "organization": "production",
            "name": "extapp",
            "description": "External application",
            "applicationUri": "http://applicationuri.example.com",
            "redirectUri": "http://redirecturi.example.com",
            "avatarEmail": "avatar@example.com",
            "retSecretRef": {"name": "application-secret"}
        }))
        .unwrap();
        assert!(!spec.preserve_in_quay_on_deletion);
        assert_eq!(spec.new_name, None);
        assert_eq!(spec.ret_secret_ref.unwrap().name, "application-secret");
    }

    /// The schema says what the API server can check: required fields and the name's length.
    #[test]
    fn the_schema_requires_and_bounds_what_quay_needs() {
        let crd = serde_json::to_value(Application::crd()).unwrap();
        let version = &crd["spec"]["versions"][0];
        let spec = &version["schema"]["openAPIV3Schema"]["properties"]["spec"];
        let required: Vec<&str> = spec["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(required, ["connSecretRef", "name", "organization"]);
        assert_eq!(spec["properties"]["name"]["minLength"], 2);
        assert_eq!(spec["properties"]["newName"]["minLength"], 2);
        assert_eq!(spec["properties"]["organization"]["minLength"], 1);
        assert_eq!(crd["spec"]["names"]["categories"], json!(["quay"]));
        let columns: Vec<&str> = version["additionalPrinterColumns"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(
            columns,
            ["Ready", "Success", "Client ID", "Secret", "Message", "Age"]
        );
        assert!(version["subresources"]["status"].is_object());
    }

    #[test]
    fn new_name_wins_as_the_desired_name() {
        let mut app = Application::new(
            "a",
            serde_json::from_value(json!({
                "connSecretRef": {"name": "c"}, "organization": "o", "name": "old"
            }))
            .unwrap(),
        );
        assert_eq!(app.desired_name(), "old");
        app.spec.new_name = Some("new".into());
        assert_eq!(app.desired_name(), "new");
    }
}
