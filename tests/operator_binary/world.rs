//! One test's world: its namespace on the shared API server, a Quay emulator seeded like the
//! captured Quay (admin, org `production`, one OAuth application), and the Secrets an ApiToken
//! needs (connection, client ID).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use quay_apitoken_operator::crd::ApiToken;
use quay_emulator::{AppInfo, Config, Emulator};
use serde_json::json;

pub use crate::support::{ADMIN, ADMIN_PASSWORD, ORG};
use crate::support::{ApiTokenFixture, TestNs};

/// Name of the connection Secret in the test namespace.
pub const CONN_SECRET: &str = "quay-credentials";
/// How long a test waits for the operator at most.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A namespace, a seeded emulator and the input Secrets.
pub struct World {
    pub ns: TestNs,
    pub quay: Emulator,
    pub app: AppInfo,
}

impl World {
    /// Creates the namespace `<prefix>-<random>`, starts the emulator and writes the Secrets.
    pub async fn start(prefix: &str) -> World {
        World::start_flavour(prefix, true).await
    }

    /// Like [`World::start`], with the token API (Quay ≥ 3.18) or the web flow only.
    pub async fn start_flavour(prefix: &str, token_api: bool) -> World {
        let ns = TestNs::new(prefix).await;
        let config = Config {
            token_api,
            ..Config::default()
        };
        let quay = Emulator::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .unwrap_or_else(|e| panic!("cannot start the Quay emulator: {e}"));
        quay.add_user(ADMIN, ADMIN_PASSWORD);
        quay.add_org(ORG, ADMIN);
        let app = quay.add_app(ORG, "quay-operator", None);
        let world = World { ns, quay, app };
        let conn = BTreeMap::from([
            ("host".to_owned(), world.quay.url()),
            ("username".to_owned(), ADMIN.to_owned()),
            ("password".to_owned(), ADMIN_PASSWORD.to_owned()),
        ]);
        world.put_secret(&world.ns.name, CONN_SECRET, conn).await;
        world
    }

    /// The admin kubeconfig of the shared control plane.
    pub fn admin_kubeconfig(&self) -> &'static Path {
        crate::support::kubeconfig()
    }

    /// Secrets of a namespace, through the admin client.
    pub fn secrets_in(&self, ns: &str) -> Api<Secret> {
        Api::namespaced(self.ns.client.clone(), ns)
    }

    /// ApiTokens of the test namespace, through the admin client.
    pub fn tokens(&self) -> Api<ApiToken> {
        self.ns.api()
    }

    /// Creates a Secret with string data.
    pub async fn put_secret(&self, ns: &str, name: &str, data: BTreeMap<String, String>) {
        let secret: Secret = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": ns},
            "stringData": data,
        }))
        .unwrap();
        self.secrets_in(ns)
            .create(&PostParams::default(), &secret)
            .await
            .unwrap_or_else(|e| panic!("cannot create Secret {ns}/{name}: {e}"));
    }

    /// Creates an ApiToken with the inline client ID; its result Secret takes its name.
    pub async fn create_token(&self, name: &str) {
        let token = ApiTokenFixture::new(name)
            .connection(CONN_SECRET)
            .client_id(&self.app.client_id)
            .build();
        self.tokens()
            .create(&PostParams::default(), &token)
            .await
            .unwrap_or_else(|e| panic!("cannot create ApiToken {name}: {e}"));
    }

    /// Waits until the ApiToken is Ready for its current generation; a timeout shows it and
    /// the namespace's events.
    pub async fn wait_ready(&self, name: &str, limit: Duration) -> ApiToken {
        self.ns
            .wait_for(name, limit, "Ready", |t: Option<ApiToken>| {
                t.filter(is_ready_now)
            })
            .await
    }

    /// How many ApiTokens of the test namespace are Ready for their current generation.
    pub async fn ready_count(&self) -> usize {
        match self.tokens().list(&Default::default()).await {
            Ok(list) => list.items.iter().filter(|t| is_ready_now(t)).count(),
            Err(_) => 0,
        }
    }

    /// Deletes an ApiToken and waits until it is gone (its finalizer released).
    pub async fn delete_and_wait(&self, name: &str) {
        self.tokens()
            .delete(name, &DeleteParams::default())
            .await
            .unwrap_or_else(|e| panic!("cannot delete ApiToken {name}: {e}"));
        self.ns
            .wait_for(name, PATIENCE, "gone", |t: Option<ApiToken>| {
                t.is_none().then_some(())
            })
            .await;
    }

    /// The `accessToken` of a result Secret in the test namespace, if the Secret exists.
    pub async fn access_token(&self, secret: &str) -> Option<String> {
        let found = self
            .secrets_in(&self.ns.name)
            .get_opt(secret)
            .await
            .ok()??;
        let value = found.data?.remove("accessToken")?;
        String::from_utf8(value.0).ok()
    }

    /// Whether the emulator holds a live token with this value.
    pub fn is_live_in_quay(&self, value: &str) -> bool {
        self.quay.tokens().iter().any(|t| t.token == value)
    }
}

/// Ready=True, written for the object's current generation.
pub fn is_ready_now(token: &ApiToken) -> bool {
    let Some(status) = token.status.as_ref() else {
        return false;
    };
    status.observed_generation == token.metadata.generation
        && status
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
}

/// The Quay id the status records for the minted token.
pub fn token_id(token: &ApiToken) -> Option<String> {
    token.status.as_ref()?.token.as_ref()?.id.clone()
}
