//! The Application resource: an OAuth application of a Quay organization declared in
//! Kubernetes, and the ApiTokens that mint for it through its Secret. On the real API server
//! and the Quay emulator, like every e2e test.

use crate::env::*;
use crate::support::wait_for;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use kube::{Api, CustomResourceExt, Resource};
use quay_apitoken_operator::application::{AppRecord, Application};
use quay_emulator::AppUpdate;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::OnceCell;

const CREATE: &str = "POST /api/v1/organization/{org}/applications";
const UPDATE: &str = "PUT /api/v1/organization/{org}/applications/{client_id}";
const SIGNIN: &str = "POST /api/v1/signin";
const RECONCILES: &str = "quay_apitoken_application_reconciles_total";

static CRD_READY: OnceCell<()> = OnceCell::const_new();

/// Installs the Application CRD once per binary, before any operator of these tests starts
/// (a watch that began on a missing CRD would first back off).
async fn install_crd() {
    CRD_READY
        .get_or_init(|| async {
            let client = crate::support::client().await;
            let crds: Api<CustomResourceDefinition> = Api::all(client);
            let crd = Application::crd();
            let name = crd.metadata.name.clone().unwrap_or_default();
            crds.patch(
                &name,
                &PatchParams::apply("quay-apitoken-operator-tests").force(),
                &Patch::Apply(&crd),
            )
            .await
            .unwrap_or_else(|e| panic!("Application CRD apply failed: {e}"));
            wait_for(PATIENCE, "Application CRD Established", || {
                let crds = crds.clone();
                let name = name.clone();
                async move {
                    let conditions = crds.get(&name).await.ok()?.status?.conditions?;
                    conditions
                        .iter()
                        .any(|c| c.type_ == "Established" && c.status == "True")
                        .then_some(())
                }
            })
            .await;
        })
        .await;
}

/// A fixture whose operator knows the Application CRD.
async fn start(prefix: &str, options: Options) -> Env {
    crate::capture::install();
    install_crd().await;
    Env::start_with(prefix, options).await
}

/// Checks Quay every 2 s, for the drift tests.
fn fast() -> Options {
    Options {
        verify_interval: Duration::from_secs(2),
        ..Options::default()
    }
}

fn apps(env: &Env) -> Api<Application> {
    env.ns.api()
}

async fn create_app(env: &Env, name: &str, spec: Value) -> Application {
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
fn spec(name: &str, secret: &str) -> Value {
    json!({
        "connSecretRef": {"name": "quay-credentials"},
        "organization": ORG,
        "name": name,
        "retSecretRef": {"name": secret},
    })
}

async fn patch_spec(env: &Env, name: &str, spec: Value) {
    apps(env)
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(&json!({ "spec": spec })),
        )
        .await
        .unwrap();
}

fn condition(app: &Application) -> Option<(bool, String)> {
    let c = app
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")?;
    Some((c.status == "True", c.reason.clone()))
}

fn app_message(app: &Application) -> String {
    app.status
        .as_ref()
        .map(|s| s.message.clone())
        .unwrap_or_default()
}

fn record(app: &Application) -> AppRecord {
    app.status
        .as_ref()
        .and_then(|s| s.application.clone())
        .unwrap_or_else(|| panic!("no application recorded: {:?}", app.status))
}

async fn wait_app(
    env: &Env,
    name: &str,
    what: &str,
    check: impl Fn(&Application) -> bool,
) -> Application {
    let api = apps(env);
    let last = std::sync::Mutex::new(String::new());
    let found = crate::support::try_wait_for(PATIENCE, || {
        let api = api.clone();
        let check = &check;
        let last = &last;
        async move {
            let app = api.get_opt(name).await.ok().flatten()?;
            *last.lock().unwrap() = format!("{:?}: {}", condition(&app), app_message(&app));
            check(&app).then_some(app)
        }
    })
    .await;
    found.unwrap_or_else(|| panic!("{name}: never {what}; last seen {}", last.lock().unwrap()))
}

/// Ready for its current generation.
async fn wait_app_ready(env: &Env, name: &str) -> Application {
    wait_app(env, name, "Ready", |a| {
        condition(a).is_some_and(|(ready, _)| ready)
            && a.status.as_ref().and_then(|s| s.observed_generation) == a.metadata.generation
    })
    .await
}

async fn wait_app_reason(env: &Env, name: &str, reason: &str) -> Application {
    wait_app(env, name, reason, |a| {
        condition(a).is_some_and(|(ready, r)| !ready && r == reason)
    })
    .await
}

async fn delete_app_and_wait(env: &Env, name: &str) {
    apps(env)
        .delete(name, &DeleteParams::default())
        .await
        .unwrap();
    let api = apps(env);
    wait_for(PATIENCE, &format!("{name} deleted"), || {
        let api = api.clone();
        async move { api.get_opt(name).await.unwrap().is_none().then_some(()) }
    })
    .await;
}

/// Application reconciles counted so far.
fn app_reconciles(env: &Env) -> u64 {
    env.operator().counter(RECONCILES)
}

/// Waits until the operator has reconciled Applications `more` times since `since`.
async fn wait_reconciles(env: &Env, since: u64, more: u64) {
    wait_for(PATIENCE, "more Application reconciles", || async {
        (app_reconciles(env) >= since + more).then_some(())
    })
    .await;
}

/// An ApiToken minting for the Application's Secret (clientIdFrom, default key).
fn token_for(secret: &str, rights: &[&str]) -> Value {
    json!({
        "connSecretRef": {"name": "quay-credentials"},
        "clientIdFrom": {"name": secret},
        "rights": rights,
    })
}

/// Applied together, in the order of a `kubectl apply -f` that lists the ApiToken first:
/// both end Ready without a manual step, and the ApiToken's token is a live token of the
/// application the Application created.
async fn applied_together(token_api: bool) {
    let prefix = if token_api {
        "e2e-app-both"
    } else {
        "e2e-app-both-wf"
    };
    let env = start(
        prefix,
        Options {
            token_api,
            ..Options::default()
        },
    )
    .await;
    env.create("tok", token_for("extapp-secret", &["repo:read"]))
        .await;
    create_app(&env, "extapp", spec("extapp", "extapp-secret")).await;
    let app = wait_app_ready(&env, "extapp").await;
    let client_id = record(&app).client_id;
    let in_quay = env.quay.app(&client_id).expect("created in Quay");
    assert_eq!(
        (in_quay.org.as_str(), in_quay.name.as_str()),
        (ORG, "extapp")
    );
    let data = env
        .secret_data(&env.ns.name, "extapp-secret")
        .await
        .unwrap();
    assert_eq!(data["clientId"], client_id);
    assert_eq!(data["clientSecret"], in_quay.client_secret);
    assert_eq!(data["name"], "extapp");
    assert_eq!(
        app.status.as_ref().unwrap().secret_name.as_deref(),
        Some(format!("{}/extapp-secret", env.ns.name).as_str())
    );
    let token = env.wait_ready("tok").await;
    let id = token_id(&token).unwrap();
    let value = env.wait_delivered("tok", &id).await;
    let live = env
        .quay
        .tokens()
        .into_iter()
        .find(|t| t.token == value)
        .unwrap();
    assert_eq!(
        live.client_id, client_id,
        "the token is one of the new application"
    );
    assert_eq!(env.quay.app_count(ORG, "extapp"), 1);
}

#[tokio::test]
async fn application_and_apitoken_applied_together_are_both_ready() {
    applied_together(true).await;
}

/// The web flow (Quay before 3.18) mints for a new application too: Quay accepts its own
/// /oauth/localapp for any application, so no redirectUri is needed.
#[tokio::test]
async fn application_and_apitoken_applied_together_on_the_web_flow() {
    applied_together(false).await;
}

/// A restart forgets everything but the status: the recorded client ID is looked up, nothing
/// is created.
#[tokio::test]
async fn restart_creates_no_second_application() {
    let mut env = start("e2e-app-restart", Options::default()).await;
    create_app(&env, "extapp", spec("extapp", "extapp-secret")).await;
    let client_id = record(&wait_app_ready(&env, "extapp").await).client_id;
    assert_eq!(env.quay.request_count(CREATE), 1);
    env.stop_operator().await;
    env.quay.reset_counters();
    env.start_operator().await;
    wait_reconciles(&env, 0, 1).await;
    let get = "GET /api/v1/organization/{org}/applications/{client_id}";
    assert!(
        env.quay.request_count(get) >= 1,
        "it looked its application up"
    );
    assert_eq!(env.quay.request_count(CREATE), 0, "nothing created");
    assert_eq!(env.quay.app_count(ORG, "extapp"), 1);
    let app = wait_app_ready(&env, "extapp").await;
    assert_eq!(record(&app).client_id, client_id);
}

/// A crash between Quay's answer to a create and its record in status: the intent is there,
/// and so is the application it made, beside an older one of the same name. The restarted
/// operator records the new one (found by the intent) instead of creating a third, and takes
/// over neither the older one nor a second.
#[tokio::test]
async fn an_interrupted_create_is_recovered_not_repeated() {
    let mut env = start("e2e-app-crash", Options::default()).await;
    env.stop_operator().await;
    let older = env.quay.add_app(ORG, "extapp", None);
    create_app(&env, "extapp", spec("extapp", "extapp-secret")).await;
    let intent = json!({"status": {"pendingCreate": {
        "host": env.quay.url(), "organization": ORG, "name": "extapp",
        "knownClientIds": [older.client_id], "startedAt": "2026-01-01T00:00:00Z",
    }}});
    apps(&env)
        .patch_status("extapp", &PatchParams::default(), &Patch::Merge(&intent))
        .await
        .unwrap();
    let made = env.quay.add_app(ORG, "extapp", None);
    env.quay.reset_counters();
    env.start_operator().await;
    let app = wait_app_ready(&env, "extapp").await;
    let recorded = record(&app);
    assert_eq!(recorded.client_id, made.client_id);
    assert_eq!(recorded.origin.as_deref(), Some("Recovered"));
    assert!(app.status.as_ref().unwrap().pending_create.is_none());
    assert_eq!(env.quay.request_count(CREATE), 0, "no create repeated");
    assert_eq!(env.quay.app_count(ORG, "extapp"), 2);
    let data = env
        .secret_data(&env.ns.name, "extapp-secret")
        .await
        .unwrap();
    assert_eq!(data["clientId"], made.client_id);
    let events = env.events("extapp").await;
    assert!(
        events
            .iter()
            .any(|(_, r, n)| r == "CreateRecovered" && n.contains(&made.client_id)),
        "{events:?}"
    );
}

/// A changed description costs exactly one replacing PUT, and a reconcile with nothing to
/// change costs none.
#[tokio::test]
async fn a_changed_description_is_one_put() {
    let env = start("e2e-app-put", Options::default()).await;
    let mut s = spec("extapp", "extapp-secret");
    s["description"] = json!("first");
    s["redirectUri"] = json!("http://redirect.example.com");
    create_app(&env, "extapp", s).await;
    let client_id = record(&wait_app_ready(&env, "extapp").await).client_id;
    assert_eq!(
        env.quay.request_count(UPDATE),
        0,
        "created as the spec says"
    );
    patch_spec(&env, "extapp", json!({"description": "changed"})).await;
    wait_app(&env, "extapp", "Ready for generation 2", |a| {
        condition(a).is_some_and(|(r, _)| r)
            && a.status.as_ref().and_then(|s| s.observed_generation) == Some(2)
    })
    .await;
    assert_eq!(env.quay.request_count(UPDATE), 1);
    let in_quay = env.quay.app(&client_id).unwrap();
    assert_eq!(in_quay.description, "changed");
    assert_eq!(
        in_quay.redirect_uri, "http://redirect.example.com",
        "a PUT replaces: the other fields were sent as they were"
    );
    let before = app_reconciles(&env);
    let touch = json!({"metadata": {"annotations": {"example.com/touch": "1"}}});
    apps(&env)
        .patch("extapp", &PatchParams::default(), &Patch::Merge(&touch))
        .await
        .unwrap();
    wait_reconciles(&env, before, 1).await;
    assert_eq!(
        env.quay.request_count(UPDATE),
        1,
        "nothing differed: no PUT"
    );
    let events = env.events("extapp").await;
    assert!(
        events
            .iter()
            .any(|(t, r, n)| t == "Normal" && r == "Updated" && n.contains("description")),
        "{events:?}"
    );
}

/// newName renames the application; its client ID, and so every ApiToken's, stays.
#[tokio::test]
async fn new_name_renames_and_keeps_the_client_id() {
    let env = start("e2e-app-rename", Options::default()).await;
    create_app(&env, "app", spec("oldname", "app-secret")).await;
    let client_id = record(&wait_app_ready(&env, "app").await).client_id;
    patch_spec(&env, "app", json!({"newName": "newname"})).await;
    let app = wait_app(&env, "app", "renamed", |a| {
        condition(a).is_some_and(|(r, _)| r)
            && a.status.as_ref().and_then(|s| s.observed_generation) == Some(2)
    })
    .await;
    assert_eq!(record(&app).client_id, client_id);
    assert_eq!(env.quay.app(&client_id).unwrap().name, "newname");
    assert_eq!(env.quay.app_count(ORG, "oldname"), 0);
    assert_eq!(env.quay.apps(ORG).len(), 2, "the fixture's and this one");
    let data = env.secret_data(&env.ns.name, "app-secret").await.unwrap();
    assert_eq!(
        (data["clientId"].as_str(), data["name"].as_str()),
        (client_id.as_str(), "newname")
    );
}

/// Deleted in Quay behind the operator's back: the Application creates it again on its next
/// check and writes the new client ID; the ApiToken, whose token died with the application
/// (protocol §14), mints for the new one and is Ready again.
#[tokio::test]
async fn an_application_deleted_in_quay_is_recreated_and_its_apitoken_recovers() {
    let env = start("e2e-app-gone", fast()).await;
    create_app(&env, "extapp", spec("extapp", "extapp-secret")).await;
    env.create("tok", token_for("extapp-secret", &["repo:read"]))
        .await;
    let old = record(&wait_app_ready(&env, "extapp").await).client_id;
    let old_token = token_id(&env.wait_ready("tok").await).unwrap();
    assert!(env.quay.delete_app(&old));
    let app = wait_app(&env, "extapp", "recreated", |a| {
        condition(a).is_some_and(|(r, _)| r)
            && a.status
                .as_ref()
                .and_then(|s| s.application.as_ref())
                .is_some_and(|r| r.client_id != old)
    })
    .await;
    let new = record(&app).client_id;
    assert_eq!(env.quay.app(&new).unwrap().name, "extapp");
    assert_eq!(env.quay.app_count(ORG, "extapp"), 1);
    wait_for(PATIENCE, "the Secret holds the new client ID", || async {
        let data = env.secret_data(&env.ns.name, "extapp-secret").await?;
        (data.get("clientId") == Some(&new)).then_some(())
    })
    .await;
    let token = env
        .wait_token("tok", "Ready for the new application", |t| {
            ready(t) == Some(true)
                && t.status
                    .as_ref()
                    .and_then(|s| s.token.as_ref())
                    .is_some_and(|r| r.client_id == new)
        })
        .await;
    let id = token_id(&token).unwrap();
    assert_ne!(id, old_token);
    let value = env.wait_delivered("tok", &id).await;
    let live = env
        .quay
        .tokens()
        .into_iter()
        .find(|t| t.token == value)
        .unwrap();
    assert_eq!(live.client_id, new);
    let events = env.events("extapp").await;
    assert!(
        events
            .iter()
            .any(|(t, r, n)| t == "Warning" && r == "Recreated" && n.contains(&old)),
        "{events:?}"
    );
}

/// Edits in Quay's UI and a deleted result Secret are repaired; a client secret reset in
/// Quay reaches the Secret.
#[tokio::test]
async fn drift_in_quay_and_in_the_secret_is_repaired() {
    let env = start("e2e-app-drift", fast()).await;
    let mut s = spec("extapp", "extapp-secret");
    s["description"] = json!("declared");
    create_app(&env, "extapp", s).await;
    let client_id = record(&wait_app_ready(&env, "extapp").await).client_id;
    assert!(env.quay.update_app(
        &client_id,
        AppUpdate {
            description: Some("edited in the UI".into()),
            client_secret: Some("RESETSECRET0123456789RESETSECRET01234567".into()),
            ..AppUpdate::default()
        }
    ));
    wait_for(PATIENCE, "the description repaired", || async {
        (env.quay.app(&client_id)?.description == "declared").then_some(())
    })
    .await;
    wait_for(PATIENCE, "the reset client secret delivered", || async {
        let data = env.secret_data(&env.ns.name, "extapp-secret").await?;
        (data.get("clientSecret").map(String::as_str)
            == Some("RESETSECRET0123456789RESETSECRET01234567"))
        .then_some(())
    })
    .await;
    env.secrets_in(&env.ns.name)
        .delete("extapp-secret", &DeleteParams::default())
        .await
        .unwrap();
    wait_for(PATIENCE, "the Secret written again", || async {
        let data = env.secret_data(&env.ns.name, "extapp-secret").await?;
        (data.get("clientId") == Some(&client_id)).then_some(())
    })
    .await;
    assert_eq!(
        env.quay.request_count(CREATE),
        1,
        "nothing created on the way"
    );
}

/// A second Application with the same organization and name is refused with a message naming
/// the first one; Quay keeps one application.
#[tokio::test]
async fn a_second_application_of_the_same_name_is_a_conflict() {
    let env = start("e2e-app-twice", Options::default()).await;
    create_app(&env, "first", spec("extapp", "first-secret")).await;
    let client_id = record(&wait_app_ready(&env, "first").await).client_id;
    create_app(&env, "second", spec("extapp", "second-secret")).await;
    let second = wait_app_reason(&env, "second", "ApplicationConflict").await;
    let message = app_message(&second);
    assert!(
        message.starts_with("spec.name:")
            && message.contains(&format!("{}/first", env.ns.name))
            && message.contains(&client_id),
        "{message}"
    );
    assert_eq!(env.quay.app_count(ORG, "extapp"), 1);
    assert_eq!(env.quay.request_count(CREATE), 1);
    assert!(
        env.secret_data(&env.ns.name, "second-secret")
            .await
            .is_none()
    );
    let events = env.events("second").await;
    assert!(
        events
            .iter()
            .any(|(t, r, _)| t == "Warning" && r == "ApplicationConflict"),
        "{events:?}"
    );
    // Once the first goes (and its application with it), the second may have the name.
    delete_app_and_wait(&env, "first").await;
    let second = wait_app_ready(&env, "second").await;
    assert_ne!(record(&second).client_id, client_id);
    assert_eq!(env.quay.app_count(ORG, "extapp"), 1);
}

/// Two Applications of one name applied at once: one creates it, the other is refused.
#[tokio::test]
async fn two_applications_of_one_name_at_once_make_one_application() {
    let env = start("e2e-app-race", Options::default()).await;
    let (a, b) = tokio::join!(
        create_app(&env, "one", spec("extapp", "one-secret")),
        create_app(&env, "two", spec("extapp", "two-secret")),
    );
    drop((a, b));
    wait_for(PATIENCE, "one Ready and the other refused", || async {
        let one = apps(&env).get("one").await.ok()?;
        let two = apps(&env).get("two").await.ok()?;
        let states = [condition(&one)?, condition(&two)?];
        let ready = states.iter().filter(|(r, _)| *r).count();
        let refused = states
            .iter()
            .filter(|(r, reason)| !r && reason == "ApplicationConflict")
            .count();
        (ready == 1 && refused == 1).then_some(())
    })
    .await;
    assert_eq!(env.quay.app_count(ORG, "extapp"), 1);
    assert_eq!(env.quay.request_count(CREATE), 1);
}

/// An ApiToken's result Secret (a token with org:admin) works as the connection: the
/// application is created with the token, without any sign-in.
#[tokio::test]
async fn a_token_connection_secret_works() {
    let env = start("e2e-app-bytoken", Options::default()).await;
    env.create(
        "admin-token",
        json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": env.app.client_id,
               "rights": ["org:admin"], "retSecretRef": {"name": "admin-token-secret"}}),
    )
    .await;
    env.wait_ready("admin-token").await;
    let signins = env.quay.request_count(SIGNIN);
    let mut s = spec("extapp", "extapp-secret");
    s["connSecretRef"] = json!({"name": "admin-token-secret"});
    create_app(&env, "extapp", s).await;
    let client_id = record(&wait_app_ready(&env, "extapp").await).client_id;
    assert!(env.quay.app(&client_id).is_some());
    assert_eq!(
        env.quay.request_count(SIGNIN),
        signins,
        "the token, not a session"
    );
}

/// A token without org:admin: a message naming the missing scope, nothing created.
#[tokio::test]
async fn a_token_without_org_admin_names_the_scope() {
    let env = start("e2e-app-noscope", Options::default()).await;
    env.create(
        "read-token",
        json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": env.app.client_id,
               "rights": ["repo:read"], "retSecretRef": {"name": "read-token-secret"}}),
    )
    .await;
    env.wait_ready("read-token").await;
    let mut s = spec("extapp", "extapp-secret");
    s["connSecretRef"] = json!({"name": "read-token-secret"});
    create_app(&env, "extapp", s).await;
    let app = wait_app_reason(&env, "extapp", "TokenScopeMissing").await;
    assert!(
        app_message(&app).contains("org:admin"),
        "{}",
        app_message(&app)
    );
    assert_eq!(env.quay.app_count(ORG, "extapp"), 0);
}

/// preserve false: gone in Quay, and the Secret gone.
#[tokio::test]
async fn deletion_deletes_the_application_and_its_secret() {
    let env = start("e2e-app-del", Options::default()).await;
    create_app(&env, "extapp", spec("extapp", "extapp-secret")).await;
    let client_id = record(&wait_app_ready(&env, "extapp").await).client_id;
    delete_app_and_wait(&env, "extapp").await;
    assert!(env.quay.app(&client_id).is_none(), "deleted in Quay");
    assert!(
        env.secret_data(&env.ns.name, "extapp-secret")
            .await
            .is_none()
    );
}

/// preserve true: kept in Quay; the Secret still goes.
#[tokio::test]
async fn preserve_keeps_the_application_in_quay() {
    let env = start("e2e-app-keep", Options::default()).await;
    let mut s = spec("extapp", "extapp-secret");
    s["preserveInQuayOnDeletion"] = json!(true);
    create_app(&env, "extapp", s).await;
    let client_id = record(&wait_app_ready(&env, "extapp").await).client_id;
    delete_app_and_wait(&env, "extapp").await;
    assert!(env.quay.app(&client_id).is_some(), "kept in Quay");
    assert!(
        env.secret_data(&env.ns.name, "extapp-secret")
            .await
            .is_none()
    );
}

/// With the connection Secret gone, deletion goes on and a Warning names what stays in Quay.
#[tokio::test]
async fn deletion_never_hangs_when_the_credentials_are_gone() {
    let env = start("e2e-app-orphan", Options::default()).await;
    env.put_secret(
        &env.ns.name,
        "own-credentials",
        env.conn_data(ADMIN, ADMIN_PASSWORD),
    )
    .await;
    let mut s = spec("extapp", "extapp-secret");
    s["connSecretRef"] = json!({"name": "own-credentials"});
    create_app(&env, "extapp", s).await;
    let client_id = record(&wait_app_ready(&env, "extapp").await).client_id;
    env.secrets_in(&env.ns.name)
        .delete("own-credentials", &DeleteParams::default())
        .await
        .unwrap();
    delete_app_and_wait(&env, "extapp").await;
    let events = env.events("extapp").await;
    assert!(
        events
            .iter()
            .any(|(t, r, n)| t == "Warning" && r == "LeftInQuay" && n.contains(&client_id)),
        "{events:?}"
    );
    assert!(
        env.quay.app(&client_id).is_some(),
        "it could not be deleted"
    );
    assert!(
        env.secret_data(&env.ns.name, "extapp-secret")
            .await
            .is_none()
    );
}

/// The API server refuses what the schema can tell: a missing organization, a one-character
/// name; each refusal names the field.
#[tokio::test]
async fn the_api_server_refuses_a_missing_organization_and_a_short_name() {
    let env = start("e2e-app-schema", Options::default()).await;
    let resource = ApiResource::erase::<Application>(&());
    let api: Api<DynamicObject> =
        Api::namespaced_with(env.ns.client.clone(), &env.ns.name, &resource);
    let cases = [
        (
            "no-org",
            json!({"connSecretRef": {"name": "quay-credentials"}, "name": "extapp"}),
            "spec.organization",
        ),
        (
            "short",
            json!({"connSecretRef": {"name": "quay-credentials"}, "organization": ORG, "name": "x"}),
            "spec.name",
        ),
        (
            "short-new",
            json!({"connSecretRef": {"name": "quay-credentials"}, "organization": ORG,
                   "name": "xy", "newName": "z"}),
            "spec.newName",
        ),
    ];
    for (name, spec, field) in cases {
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": Application::api_version(&()), "kind": "Application",
            "metadata": {"name": name}, "spec": spec,
        }))
        .unwrap();
        let err = api
            .create(&PostParams::default(), &object)
            .await
            .expect_err(name);
        let text = match err {
            kube::Error::Api(s) => s.message,
            other => other.to_string(),
        };
        assert!(text.contains(field), "{name}: {text}");
    }
    assert!(env.quay.apps(ORG).len() == 1, "nothing reached Quay");
}

/// Inputs only Quay or the operator can judge: each ends Ready False with its reason, a
/// message naming the field or key, a Warning event, and nothing created in Quay.
#[tokio::test]
async fn bad_inputs_are_named_and_create_nothing() {
    let env = start("e2e-app-badin", Options::default()).await;
    let ns = env.ns.name.clone();
    env.put_secret(&ns, "outsider", env.conn_data(OTHER_USER, OTHER_PASSWORD))
        .await;
    env.put_secret(
        &ns,
        "no-credentials",
        BTreeMap::from([("host".to_string(), env.quay.url())]),
    )
    .await;
    let with = |conn: &str, org: &str| json!({"connSecretRef": {"name": conn}, "organization": org, "name": "extapp"});
    let cases = [
        (
            "unknown-org",
            with("quay-credentials", "nosuchorg"),
            "UnknownOrganization",
            vec!["spec.organization", "nosuchorg"],
        ),
        (
            "not-admin",
            with("outsider", ORG),
            "NotOrganizationAdmin",
            vec!["spec.organization", OTHER_USER],
        ),
        (
            "no-conn",
            with("missing", ORG),
            "ConnectionSecretMissing",
            vec!["connSecretRef", "missing"],
        ),
        (
            "no-creds",
            with("no-credentials", ORG),
            "InvalidConnectionSecret",
            vec!["connSecretRef", "`token`", "`username`"],
        ),
        (
            "foreign-secret",
            json!({"connSecretRef": {"name": "quay-credentials"}, "organization": ORG,
                   "name": "extapp", "retSecretRef": {"name": "quay-credentials"}}),
            "SecretConflict",
            vec!["retSecretRef", "connection Secret"],
        ),
    ];
    for (name, spec, _, _) in &cases {
        create_app(&env, name, spec.clone()).await;
    }
    for (name, _, reason, texts) in &cases {
        let app = wait_app_reason(&env, name, reason).await;
        let message = app_message(&app);
        for text in texts {
            assert!(message.contains(text), "{name}: {message}");
        }
        let events = env.events(name).await;
        assert!(
            events.iter().any(|(t, r, _)| t == "Warning" && r == reason),
            "{name}: {events:?}"
        );
    }
    assert_eq!(env.quay.request_count(CREATE), 0, "nothing was created");
    assert_eq!(
        env.secret_data(&ns, "quay-credentials").await.unwrap(),
        env.conn_data(ADMIN, ADMIN_PASSWORD),
        "the connection Secret is untouched"
    );
}

/// The client secret, the password and the token never reach logs, events or status.
#[tokio::test]
async fn no_secret_value_in_logs_events_or_status() {
    let env = start("e2e-app-secrecy", Options::default()).await;
    env.create(
        "admin-token",
        json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": env.app.client_id,
               "rights": ["org:admin"], "retSecretRef": {"name": "admin-token-secret"}}),
    )
    .await;
    env.wait_ready("admin-token").await;
    create_app(&env, "by-password", spec("extapp", "a-secret")).await;
    let mut s = spec("other", "b-secret");
    s["connSecretRef"] = json!({"name": "admin-token-secret"});
    create_app(&env, "by-token", s).await;
    wait_app_ready(&env, "by-password").await;
    wait_app_ready(&env, "by-token").await;
    let mut secrets: Vec<String> = env
        .quay
        .apps(ORG)
        .into_iter()
        .map(|a| a.client_secret)
        .collect();
    delete_app_and_wait(&env, "by-password").await;
    secrets.extend(env.live_token_values());
    secrets.push(ADMIN_PASSWORD.to_owned());
    let statuses =
        serde_json::to_string(&apps(&env).list(&Default::default()).await.unwrap().items).unwrap();
    let mut events = env.events("by-password").await;
    events.extend(env.events("by-token").await);
    let events = format!("{events:?}");
    let logs = crate::capture::logs();
    for secret in &secrets {
        assert!(!statuses.contains(secret), "a secret value in a status");
        assert!(!events.contains(secret), "a secret value in an event");
        assert!(!logs.contains(secret), "a secret value in the logs");
    }
}
