//! Builders for the ApiTokens tests declare, so that a test spells out only what its token has
//! that the usual one (the default connection Secret, the fixture's application) has not.

use quay_apitoken_operator::crd::ApiToken;
use serde_json::{Map, Value, json};

/// The connection Secret every test namespace holds.
pub const CONN_SECRET: &str = "quay-credentials";

/// An ApiToken under construction: a name and a spec.
#[derive(Clone, Debug)]
pub struct ApiTokenFixture {
    name: String,
    finalizers: Vec<String>,
    spec: Map<String, Value>,
}

impl ApiTokenFixture {
    /// An ApiToken `name` reading the connection Secret [`CONN_SECRET`]; it still needs a
    /// client ID ([`Self::client_id`] or [`Self::client_id_from`]).
    pub fn new(name: &str) -> Self {
        ApiTokenFixture::from_spec(name, json!({})).connection(CONN_SECRET)
    }

    /// Starts from a whole spec, for the shapes the builder has no method for.
    pub fn from_spec(name: &str, spec: Value) -> Self {
        let spec = match spec {
            Value::Object(spec) => spec,
            other => panic!("an ApiToken spec is an object, not {other}"),
        };
        ApiTokenFixture {
            name: name.to_owned(),
            finalizers: Vec::new(),
            spec,
        }
    }

    /// The connection Secret of the test namespace (`connSecretRef`).
    pub fn connection(self, secret: &str) -> Self {
        self.with("connSecretRef", json!({"name": secret}))
    }

    /// The connection Secret of another namespace.
    pub fn connection_in(self, secret: &str, namespace: &str) -> Self {
        self.with(
            "connSecretRef",
            json!({"name": secret, "namespace": namespace}),
        )
    }

    /// An inline client ID (`clientId`).
    pub fn client_id(self, id: &str) -> Self {
        self.with("clientId", json!(id))
    }

    /// The client ID from a Secret's default key (`clientIdFrom`).
    pub fn client_id_from(self, secret: &str) -> Self {
        self.with("clientIdFrom", json!({"name": secret}))
    }

    /// The client ID from one key of a Secret.
    pub fn client_id_from_key(self, secret: &str, key: &str) -> Self {
        self.with("clientIdFrom", json!({"name": secret, "key": key}))
    }

    /// The scopes (`rights`).
    pub fn rights<'a>(self, rights: impl IntoIterator<Item = &'a str>) -> Self {
        let rights: Vec<&str> = rights.into_iter().collect();
        self.with("rights", json!(rights))
    }

    /// A token for another Quay user (`forUser`).
    pub fn for_user(self, user: &str) -> Self {
        self.with("forUser", json!(user))
    }

    /// The result Secret's name in the ApiToken's namespace (`retSecretRef`).
    pub fn secret(self, name: &str) -> Self {
        self.with("retSecretRef", json!({"name": name}))
    }

    /// The result Secret in another namespace.
    pub fn secret_in(self, name: &str, namespace: &str) -> Self {
        self.with(
            "retSecretRef",
            json!({"name": name, "namespace": namespace}),
        )
    }

    /// Keeps the token in Quay when the ApiToken goes (`preserveInQuayOnDeletion`).
    pub fn preserve_in_quay(self) -> Self {
        self.with("preserveInQuayOnDeletion", json!(true))
    }

    /// Sets any spec field as given.
    pub fn with(mut self, field: &str, value: Value) -> Self {
        self.spec.insert(field.to_owned(), value);
        self
    }

    /// Created with this finalizer already on, as a crashed operator leaves it.
    pub fn finalizer(mut self, finalizer: &str) -> Self {
        self.finalizers.push(finalizer.to_owned());
        self
    }

    /// The ApiToken's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The spec as JSON.
    pub fn spec(&self) -> Value {
        Value::Object(self.spec.clone())
    }

    /// The ApiToken, ready to create.
    pub fn build(&self) -> ApiToken {
        let mut metadata = json!({"name": self.name});
        if !self.finalizers.is_empty() {
            metadata["finalizers"] = json!(self.finalizers);
        }
        serde_json::from_value(json!({
            "apiVersion": "quay.herve4m.github.io/v1alpha1", "kind": "ApiToken",
            "metadata": metadata, "spec": self.spec,
        }))
        .unwrap_or_else(|e| panic!("ApiToken {} does not deserialize: {e}", self.name))
    }
}
