//! The bench's objects on the API server (CRD, Secrets, ApiTokens) and the controller it runs
//! in this process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client, CustomResourceExt};
use quay_apitoken_operator::context::{Context, CrossNamespacePolicy, Settings};
use quay_apitoken_operator::crd::ApiToken;
use quay_apitoken_operator::metrics::Metrics;
use serde_json::json;

use crate::plan::{CONCURRENCY, PATIENCE, Result};

/// The controller of the binary, in this process, scoped to the bench's namespace.
pub fn start_controller(
    client: Client,
    ns: &str,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let settings = Settings {
        cross_namespace: CrossNamespacePolicy::Allow,
        verify_interval: Duration::from_secs(300),
        quay_hosts: Default::default(),
    };
    let ctx = Arc::new(Context::new(client, Arc::new(Metrics::new()), settings));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = futures::FutureExt::shared(async move {
        let _ = stopped.await;
    });
    let handle = tokio::spawn(quay_apitoken_operator::controllers::run(
        ctx,
        Some(vec![ns.to_string()]),
        CONCURRENCY,
        shutdown,
        || {},
    ));
    (stop, handle)
}

/// Applies the ApiToken CRD and waits until it is Established.
pub async fn install_crd(client: &Client) -> Result<()> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = ApiToken::crd();
    let name = crd.metadata.name.clone().unwrap_or_default();
    crds.patch(
        &name,
        &PatchParams::apply("quay-apitoken-operator-bench").force(),
        &Patch::Apply(&crd),
    )
    .await?;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let established = crds.get(&name).await?.status.and_then(|s| s.conditions);
        if established
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("the ApiToken CRD never became Established".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates a Secret from string data.
pub async fn put_secret(api: &Api<Secret>, name: &str, data: serde_json::Value) -> Result<()> {
    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name}, "stringData": data,
    }))?;
    api.create(&PostParams::default(), &secret).await?;
    Ok(())
}

/// Creates the documentation's example under `name`, with a result Secret of its own.
pub async fn create(api: &Api<ApiToken>, name: &str) -> Result<()> {
    let token: ApiToken = serde_json::from_value(json!({
        "apiVersion": "quay.herve4m.github.io/v1alpha1", "kind": "ApiToken",
        "metadata": {"name": name},
        "spec": {
            "connSecretRef": {"name": "quay-credentials"},
            "clientIdFrom": {"name": "application-secret", "key": "clientId"},
            "rights": ["all"],
            "retSecretRef": {"name": format!("{name}-token")},
        },
    }))?;
    api.create(&PostParams::default(), &token).await?;
    Ok(())
}
