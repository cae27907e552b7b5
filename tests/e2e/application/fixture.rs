//! What every Application test uses: the fixture, the Application's spec and status, waits.

use crate::env::*;
use crate::support::wait_for;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use quay_apitoken_operator::application::{AppRecord, Application};
use serde_json::{Value, json};
use std::time::Duration;

/// Quay's endpoint that creates an application.
pub const CREATE: &str = "POST /api/v1/organization/{org}/applications";
/// Quay's endpoint that replaces an application.
pub const UPDATE: &str = "PUT /api/v1/organization/{org}/applications/{client_id}";
/// Quay's sign-in endpoint.
pub const SIGNIN: &str = "POST /api/v1/signin";
/// The metric counting Application reconciles.
pub const RECONCILES: &str = "quay_apitoken_application_reconciles_total";

/// A fixture whose operator knows the Application CRD (every test namespace installs it
/// before its operator starts: a watch that began on a missing CRD would first back off).
pub async fn start(prefix: &str, options: Options) -> Env {
    crate::capture::install();
    Env::start_with(prefix, options).await
}

/// Checks Quay every 2 s, for the drift tests.
pub fn fast() -> Options {
    Options {
        verify_interval: Duration::from_secs(2),
        ..Options::default()
    }
}

/// The Applications of the test namespace.
pub fn apps(env: &Env) -> Api<Application> {
    env.ns.api()
}

/// Creates an Application from a spec.
pub async fn create_app(env: &Env, name: &str, spec: Value) -> Application {
    let app: Application = serde_json::from_value(json!({
        "apiVersion": "quay.herve4m.github.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name}, "spec": spec,
    }))
    .unwrap();
    apps(env)
        .create(&PostParams::default(), &app)
        .await
        .unwrap()
}

/// The usual spec: the default connection Secret, organization `production`.
pub fn spec(name: &str, secret: &str) -> Value {
    json!({
        "connSecretRef": {"name": "quay-credentials"},
        "organization": ORG,
        "name": name,
        "retSecretRef": {"name": secret},
    })
}

/// Merges `spec` into the Application's spec.
pub async fn patch_spec(env: &Env, name: &str, spec: Value) {
    apps(env)
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(&json!({ "spec": spec })),
        )
        .await
        .unwrap();
}

/// The Ready condition: (True, reason).
pub fn condition(app: &Application) -> Option<(bool, String)> {
    let c = app
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")?;
    Some((c.status == "True", c.reason.clone()))
}

/// The status message, empty before the first status.
pub fn app_message(app: &Application) -> String {
    app.status
        .as_ref()
        .map(|s| s.message.clone())
        .unwrap_or_default()
}

/// The application the status records; panics if none is.
pub fn record(app: &Application) -> AppRecord {
    app.status
        .as_ref()
        .and_then(|s| s.application.clone())
        .unwrap_or_else(|| panic!("no application recorded: {:?}", app.status))
}

/// Waits until `check` accepts the Application; a timeout shows it and the namespace's events.
pub async fn wait_app(
    env: &Env,
    name: &str,
    what: &str,
    check: impl Fn(&Application) -> bool,
) -> Application {
    env.ns
        .wait_for(name, PATIENCE, what, |a: Option<Application>| {
            a.filter(|a| check(a))
        })
        .await
}

/// Ready for its current generation.
pub async fn wait_app_ready(env: &Env, name: &str) -> Application {
    wait_app(env, name, "Ready", |a| {
        condition(a).is_some_and(|(ready, _)| ready)
            && a.status.as_ref().and_then(|s| s.observed_generation) == a.metadata.generation
    })
    .await
}

/// Waits until the Application is not Ready with `reason`.
pub async fn wait_app_reason(env: &Env, name: &str, reason: &str) -> Application {
    wait_app(env, name, &format!("not Ready with reason {reason}"), |a| {
        condition(a).is_some_and(|(ready, r)| !ready && r == reason)
    })
    .await
}

/// Deletes an Application and waits until it is gone.
pub async fn delete_app_and_wait(env: &Env, name: &str) {
    apps(env)
        .delete(name, &DeleteParams::default())
        .await
        .unwrap();
    env.ns
        .wait_for(name, PATIENCE, "deleted", |a: Option<Application>| {
            a.is_none().then_some(())
        })
        .await;
}

/// Application reconciles counted so far.
pub fn app_reconciles(env: &Env) -> u64 {
    env.operator().counter(RECONCILES)
}

/// Waits until the operator has reconciled Applications `more` times since `since`.
pub async fn wait_reconciles(env: &Env, since: u64, more: u64) {
    wait_for(PATIENCE, "more Application reconciles", || async {
        (app_reconciles(env) >= since + more).then_some(())
    })
    .await;
}

/// An ApiToken minting for the Application's Secret (clientIdFrom, default key).
pub fn token_for(name: &str, secret: &str, rights: &[&str]) -> ApiTokenFixture {
    ApiTokenFixture::new(name)
        .client_id_from(secret)
        .rights(rights.iter().copied())
}

/// An ApiToken of the fixture's application whose result Secret `secret` holds a token with
/// `right`: a connection for an Application.
pub fn token_connection(env: &Env, name: &str, right: &str, secret: &str) -> ApiTokenFixture {
    env.apitoken(name).rights([right]).secret(secret)
}
