//! The end-to-end fixture: a namespace on the real API server, a Quay emulator seeded like the
//! captured Quay, and the operator's controller running in-process on that namespace.

pub use crate::support::{ADMIN, ADMIN_PASSWORD, ORG};
use crate::support::{TestNs, wait_for};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use quay_apitoken_operator::clock::Clock;
use quay_apitoken_operator::context::{Context, CrossNamespacePolicy, Settings};
use quay_apitoken_operator::crd::ApiToken;
use quay_apitoken_operator::metrics::Metrics;
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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            token_api: true,
            tls: false,
            extra_namespaces: 0,
            policy: CrossNamespacePolicy::Allow,
            verify_interval: Duration::from_secs(300),
        }
    }
}

/// The controller running in this process, scoped to the fixture's namespaces.
pub struct Operator {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<()>,
    pub metrics: Arc<Metrics>,
}

impl Operator {
    pub async fn start(client: Client, namespaces: Vec<String>, settings: Settings) -> Operator {
        Operator::start_on(client, namespaces, settings, Arc::new(Clock::system())).await
    }

    /// Like [`Operator::start`], reading lifetimes from `clock`.
    pub async fn start_on(
        client: Client,
        namespaces: Vec<String>,
        settings: Settings,
        clock: Arc<Clock>,
    ) -> Operator {
        let metrics = Arc::new(Metrics::new());
        let ctx = Arc::new(Context::new(client, metrics.clone(), settings).with_clock(clock));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = futures::FutureExt::shared(async move {
            let _ = stopped.await;
        });
        let handle = tokio::spawn(quay_apitoken_operator::controller::run(
            ctx,
            Some(namespaces),
            4,
            shutdown,
            || {},
        ));
        Operator {
            stop: Some(stop),
            handle,
            metrics,
        }
    }

    /// Stops the controller and waits until it has.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(20), &mut self.handle).await;
    }

    /// Reconciles counted so far, all results.
    pub fn reconciles(&self) -> u64 {
        self.counter("quay_apitoken_reconciles_total")
    }

    /// The sum of a counter's series (every label set).
    pub fn counter(&self, name: &str) -> u64 {
        self.metrics
            .encode()
            .lines()
            .filter(|l| l.split(['{', ' ']).next() == Some(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.handle.abort();
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
        let token: ApiToken = serde_json::from_value(json!({
            "apiVersion": "quay.herve4m.github.io/v1alpha1", "kind": "ApiToken",
            "metadata": {"name": name}, "spec": spec,
        }))
        .unwrap();
        self.tokens()
            .create(&PostParams::default(), &token)
            .await
            .unwrap()
    }

    /// The seed's usage example, in this namespace.
    pub async fn create_seed_example(&self, name: &str, ret: &str) -> ApiToken {
        self.create(
            name,
            json!({
                "connSecretRef": {"name": "quay-credentials"},
                "clientIdFrom": {"name": "application-secret", "key": "clientId"},
                "rights": ["all"],
                "retSecretRef": {"name": ret},
            }),
        )
        .await
    }

    /// Waits until `check` accepts the ApiToken.
    pub async fn wait_token(
        &self,
        name: &str,
        what: &str,
        check: impl Fn(&ApiToken) -> bool,
    ) -> ApiToken {
        let api = self.tokens();
        wait_for(PATIENCE, &format!("{name}: {what}"), || {
            let api = api.clone();
            let check = &check;
            async move { api.get_opt(name).await.ok().flatten().filter(|t| check(t)) }
        })
        .await
    }

    /// Waits until the ApiToken is Ready for its current generation.
    pub async fn wait_ready(&self, name: &str) -> ApiToken {
        self.wait_token(name, "Ready", |t| {
            ready(t) == Some(true) && observed(t) == t.metadata.generation
        })
        .await
    }

    /// Waits until the ApiToken is not Ready with `reason`.
    pub async fn wait_reason(&self, name: &str, reason: &str) -> ApiToken {
        let last = std::sync::Mutex::new(String::new());
        let check = |t: &ApiToken| {
            *last.lock().unwrap() = format!("{:?}: {}", ready_reason(t), message(t));
            ready(t) == Some(false) && ready_reason(t).as_deref() == Some(reason)
        };
        let api = self.tokens();
        let found = crate::support::try_wait_for(PATIENCE, || {
            let api = api.clone();
            let check = &check;
            async move { api.get_opt(name).await.ok().flatten().filter(|t| check(t)) }
        })
        .await;
        found
            .unwrap_or_else(|| panic!("{name}: never {reason}; last seen {}", last.lock().unwrap()))
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

    /// The default account's connection settings, as the operator reads them.
    pub fn admin_settings(&self) -> quay_apitoken_operator::quay::ConnectionSettings {
        let data: BTreeMap<String, Vec<u8>> = self
            .conn_data(ADMIN, ADMIN_PASSWORD)
            .into_iter()
            .map(|(k, v)| (k, v.into_bytes()))
            .collect();
        quay_apitoken_operator::quay::ConnectionSettings::from_secret_data(&data).unwrap()
    }

    /// Mints a `repo:read` token for the app behind the operator's back, as a crashed mint
    /// leaves one (`name` on the token API; the web flow has none).
    pub async fn mint_directly(&self, name: &str) -> quay_apitoken_operator::quay::MintedToken {
        quay_apitoken_operator::quay::QuayClient::new(None)
            .mint(
                &self.admin_settings(),
                quay_apitoken_operator::quay::MintRequest {
                    client_id: self.app.client_id.clone(),
                    scopes: vec!["repo:read".into()],
                    name: name.to_owned(),
                    expiration: None,
                },
            )
            .await
            .unwrap()
    }

    /// Live tokens at the emulator, by secret value.
    pub fn live_token_values(&self) -> Vec<String> {
        self.quay.tokens().into_iter().map(|t| t.token).collect()
    }

    /// Waits until the result Secret `secret` holds the live token `id`, and returns its value.
    /// A new token is recorded a moment before the Secret holds it (crash safety), so a test
    /// that saw a new id in status waits for this before reading the Secret.
    pub async fn wait_delivered(&self, secret: &str, id: &str) -> String {
        wait_for(
            PATIENCE,
            &format!("Secret {secret} holds token {id}"),
            || async {
                let live = self.quay.tokens().into_iter().find(|t| t.uuid == id)?;
                let data = self.secret_data(&self.ns.name, secret).await?;
                (data.get("accessToken") == Some(&live.token)).then_some(live.token)
            },
        )
        .await
    }

    /// Waits until Quay holds exactly one live token, `id` (a replaced token is revoked just
    /// after its successor is recorded), and returns it.
    pub async fn wait_only_live(&self, id: &str) -> quay_emulator::TokenInfo {
        wait_for(PATIENCE, &format!("only token {id} live"), || async {
            let live = self.quay.tokens();
            (live.len() == 1 && live[0].uuid == id).then(|| live[0].clone())
        })
        .await
    }

    /// Makes Quay answer 503 to everything (`true`), or heals it.
    pub fn set_quay_down(&self, down: bool) {
        let rules = if down {
            vec![quay_emulator::FaultRule {
                endpoint: None,
                latency_ms: None,
                random_latency_ms: None,
                error_rate: Some(1.0),
                drop_rate: None,
                hang: false,
                hang_rate: None,
                answer: None,
            }]
        } else {
            Vec::new()
        };
        self.quay.set_faults(quay_emulator::Faults { rules });
    }

    /// Deletes an ApiToken and waits until it is gone.
    pub async fn delete_and_wait(&self, name: &str) {
        self.tokens()
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
        let api = self.tokens();
        wait_for(PATIENCE, &format!("{name} deleted"), || {
            let api = api.clone();
            async move { api.get_opt(name).await.unwrap().is_none().then_some(()) }
        })
        .await;
    }

    /// Events recorded about an ApiToken: (type, reason, note).
    /// The events about `name`, oldest first (by their microsecond event time).
    pub async fn events(&self, name: &str) -> Vec<(String, String, String)> {
        let api: Api<k8s_openapi::api::events::v1::Event> =
            Api::namespaced(self.ns.client.clone(), &self.ns.name);
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

pub fn ready(t: &ApiToken) -> Option<bool> {
    let c = t
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")?;
    Some(c.status == "True")
}

pub fn ready_reason(t: &ApiToken) -> Option<String> {
    Some(
        t.status
            .as_ref()?
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")?
            .reason
            .clone(),
    )
}

pub fn observed(t: &ApiToken) -> Option<i64> {
    t.status.as_ref()?.observed_generation
}

pub fn message(t: &ApiToken) -> String {
    t.status
        .as_ref()
        .map(|s| s.message.clone())
        .unwrap_or_default()
}

pub fn token_id(t: &ApiToken) -> Option<String> {
    t.status.as_ref()?.token.as_ref()?.id.clone()
}
