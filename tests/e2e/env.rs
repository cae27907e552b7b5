//! The end-to-end fixture: a namespace on the real API server, a Quay emulator seeded like the
//! captured Quay, and the operator's controller running in-process on that namespace.

// Spelled out: tests/malformed.rs mounts this file by `#[path]`, which would otherwise look
// for these beside it rather than in env/.
#[path = "env/operator.rs"]
mod operator;
#[path = "env/quay.rs"]
mod quay;
#[path = "env/status.rs"]
mod status;
#[path = "env/waits.rs"]
mod waits;

pub use crate::support::{ADMIN, ADMIN_PASSWORD, ApiTokenFixture, ORG};
pub use operator::Operator;
pub use status::*;

use crate::support::{TestNs, wait_for};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use quay_apitoken_operator::clock::Clock;
use quay_apitoken_operator::context::{CrossNamespacePolicy, Settings};
use quay_apitoken_operator::crd::ApiToken;
use quay_apitoken_operator::hosts::QuayHosts;
use quay_emulator::{AppInfo, Config, Emulator};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub const OTHER_USER: &str = "dwilde";
pub const OTHER_PASSWORD: &str = "Dw1ld3Passw0rd";
/// How long a test waits for the operator at most.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Options of one fixture.
pub struct Options {
    pub token_api: bool,
    pub tls: bool,
    pub extra_namespaces: usize,
    pub policy: CrossNamespacePolicy,
    pub verify_interval: Duration,
    /// The operator's `--quay-hosts`; empty allows any host.
    pub quay_hosts: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            token_api: true,
            tls: false,
            extra_namespaces: 0,
            policy: CrossNamespacePolicy::Allow,
            verify_interval: Duration::from_secs(300),
            quay_hosts: Vec::new(),
        }
    }
}

/// One test's world.
pub struct Env {
    pub ns: TestNs,
    pub extra: Vec<String>,
    pub quay: Emulator,
    pub app: AppInfo,
    pub operator: Option<Operator>,
    pub settings: Settings,
    /// The operator's clock; [`Env::advance_clock`] moves it with the emulator's.
    pub clock: Arc<Clock>,
}

impl Env {
    pub async fn start(prefix: &str) -> Env {
        Env::start_with(prefix, Options::default()).await
    }

    pub async fn start_with(prefix: &str, options: Options) -> Env {
        let ns = TestNs::new(prefix).await;
        let mut extra = Vec::new();
        for i in 0..options.extra_namespaces {
            extra.push(
                quay_testenv::create_namespace(&ns.client, &format!("{prefix}-x{i}"))
                    .await
                    .unwrap(),
            );
        }
        let config = Config {
            tls: options.tls,
            token_api: options.token_api,
            ..Config::default()
        };
        let quay = Emulator::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .unwrap();
        quay.add_user(ADMIN, ADMIN_PASSWORD);
        quay.add_user(OTHER_USER, OTHER_PASSWORD);
        quay.add_org(ORG, ADMIN);
        let app = quay.add_app(ORG, "quay-operator", None);
        let settings = Settings {
            cross_namespace: options.policy,
            verify_interval: options.verify_interval,
            quay_hosts: QuayHosts::parse(&options.quay_hosts).unwrap(),
        };
        let mut env = Env {
            ns,
            extra,
            quay,
            app,
            operator: None,
            settings,
            clock: Arc::new(Clock::system()),
        };
        env.put_secret(
            &env.ns.name.clone(),
            "quay-credentials",
            env.conn_data(ADMIN, ADMIN_PASSWORD),
        )
        .await;
        env.put_secret(
            &env.ns.name.clone(),
            "application-secret",
            BTreeMap::from([("clientId".into(), env.app.client_id.clone())]),
        )
        .await;
        env.start_operator().await;
        env
    }

    /// The connection Secret's keys for this emulator.
    pub fn conn_data(&self, user: &str, password: &str) -> BTreeMap<String, String> {
        let mut data = BTreeMap::from([
            ("host".to_string(), self.quay.url()),
            ("username".to_string(), user.to_string()),
            ("password".to_string(), password.to_string()),
            ("validateCerts".to_string(), "false".to_string()),
        ]);
        if self.quay.url().starts_with("http://") {
            data.remove("validateCerts");
        }
        data
    }

    pub async fn start_operator(&mut self) {
        let mut namespaces = vec![self.ns.name.clone()];
        namespaces.extend(self.extra.iter().cloned());
        self.operator = Some(
            Operator::start_on(
                self.ns.client.clone(),
                namespaces,
                self.settings.clone(),
                self.clock.clone(),
            )
            .await,
        );
    }

    /// Moves time forward for Quay and the operator alike (a stopped operator's clock too:
    /// the next one starts on it).
    pub fn advance_clock(&self, by: Duration) {
        self.quay.advance_clock(by);
        self.clock.advance(by);
    }

    pub async fn stop_operator(&mut self) {
        if let Some(op) = self.operator.take() {
            op.stop().await;
        }
    }

    pub fn operator(&self) -> &Operator {
        self.operator.as_ref().unwrap()
    }

    pub fn tokens(&self) -> Api<ApiToken> {
        self.ns.api()
    }

    pub fn secrets_in(&self, ns: &str) -> Api<Secret> {
        Api::namespaced(self.ns.client.clone(), ns)
    }

    /// The inputs of a cross-namespace ApiToken in `ns`: the connection Secret `creds` and the
    /// client ID under key `id` of Secret `app`.
    pub async fn put_inputs_in(&self, ns: &str) {
        self.put_secret(ns, "creds", self.conn_data(ADMIN, ADMIN_PASSWORD))
            .await;
        self.put_secret(
            ns,
            "app",
            BTreeMap::from([("id".to_string(), self.app.client_id.clone())]),
        )
        .await;
    }

    /// Creates or replaces a Secret with string data.
    pub async fn put_secret(&self, ns: &str, name: &str, data: BTreeMap<String, String>) {
        let secret: Secret = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": ns},
            "stringData": data,
        }))
        .unwrap();
        let api = self.secrets_in(ns);
        let _ = api.delete(name, &DeleteParams::default()).await;
        wait_for(PATIENCE, "old Secret gone", || async {
            api.get_opt(name).await.unwrap().is_none().then_some(())
        })
        .await;
        api.create(&PostParams::default(), &secret).await.unwrap();
    }

    /// Updates one key of a Secret in place.
    pub async fn patch_secret(&self, ns: &str, name: &str, key: &str, value: &str) {
        let patch = json!({"stringData": {key: value}});
        self.secrets_in(ns)
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
    }

    /// Creates an ApiToken from a spec.
    pub async fn create(&self, name: &str, spec: Value) -> ApiToken {
        self.create_token(ApiTokenFixture::from_spec(name, spec))
            .await
    }

    /// The usual ApiToken of this fixture: the default connection Secret, the fixture's
    /// application by inline client ID; the builder adds the rest.
    pub fn apitoken(&self, name: &str) -> ApiTokenFixture {
        ApiTokenFixture::new(name).client_id(&self.app.client_id)
    }

    /// Creates the ApiToken a fixture builder describes.
    pub async fn create_token(&self, token: ApiTokenFixture) -> ApiToken {
        self.tokens()
            .create(&PostParams::default(), &token.build())
            .await
            .unwrap()
    }

    /// The seed's usage example, in this namespace.
    pub async fn create_seed_example(&self, name: &str, ret: &str) -> ApiToken {
        let example = ApiTokenFixture::new(name)
            .client_id_from_key("application-secret", "clientId")
            .rights(["all"])
            .secret(ret);
        self.create_token(example).await
    }

    /// The string data of a Secret, if it exists.
    pub async fn secret_data(&self, ns: &str, name: &str) -> Option<BTreeMap<String, String>> {
        let secret = self.secrets_in(ns).get_opt(name).await.unwrap()?;
        Some(
            secret
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, String::from_utf8(v.0).unwrap()))
                .collect(),
        )
    }

    /// Waits until an event about `name` matches `wanted` (events are recorded after the
    /// status write that a test usually waits for), then gives all events about `name`.
    pub async fn wait_event(
        &self,
        name: &str,
        what: &str,
        wanted: impl Fn(&(String, String, String)) -> bool,
    ) -> Vec<(String, String, String)> {
        let wanted = &wanted;
        wait_for(PATIENCE, what, || async move {
            let events = self.events(name).await;
            events.iter().any(wanted).then_some(events)
        })
        .await
    }

    /// The events about `name`, oldest first (by their microsecond event time).
    pub async fn events(&self, name: &str) -> Vec<(String, String, String)> {
        self.events_in(&self.ns.name, name).await
    }

    /// The events about `name` in namespace `ns`, oldest first, as (type, reason, note).
    pub async fn events_in(&self, ns: &str, name: &str) -> Vec<(String, String, String)> {
        let api: Api<k8s_openapi::api::events::v1::Event> =
            Api::namespaced(self.ns.client.clone(), ns);
        let mut events: Vec<_> = api
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
            .collect();
        events.sort_by_key(|e| e.event_time.as_ref().map(|t| t.0));
        events
            .into_iter()
            .map(|e| {
                (
                    e.type_.unwrap_or_default(),
                    e.reason.unwrap_or_default(),
                    e.note.unwrap_or_default(),
                )
            })
            .collect()
    }
}
