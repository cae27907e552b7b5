//! The operator with the rights a pod of the chart's Deployment has, and nothing else: the
//! rendered chart (or the plain manifests) applied server-side, the binary started with the
//! Deployment's own args and env, authenticated as its ServiceAccount by a TokenRequest token.
//! ApiTokens and an Application go through their lives (converge, rotate, repair, fail and fail
//! again, delete); the Lease is taken in the release namespace. Then the API server's audit log
//! says what the ServiceAccount asked for: nothing refused, nothing outside the chart's rules,
//! and every right the chart grants used. The expectation is the run, not a list kept by hand.
//!
//! Each test starts a control plane of its own: with the chart's defaults the operator watches
//! every namespace, and must not reconcile the ApiTokens of this binary's other tests.

use std::collections::BTreeMap;
use std::path::Path;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use quay_apitoken_operator::application::Application;
use quay_apitoken_operator::crd::{ApiToken, ROTATE_ANNOTATION};
use quay_emulator::{Config, Emulator};
use serde_json::json;

use crate::audit::{grants_to, requests_of, verdict};
use crate::chart::{documents, kubectl_on, template};
use crate::identity::service_account_kubeconfig_on;
use crate::pod::from_deployment;
use crate::process::{OperatorProcess, free_port};
use crate::support::{ADMIN, ADMIN_PASSWORD, ApiTokenFixture, ORG, wait_for, wait_for_object};
use crate::world::{CONN_SECRET, PATIENCE, is_ready_now, token_id};

/// One of these tests at a time: each runs a control plane and an operator of its own.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Where the objects come from.
enum Install {
    /// `helm template` of the chart with these `--set` values; the tenants are appended as
    /// `watchNamespaces` when `namespaced`.
    Chart { namespaced: bool },
    /// deploy/manifests/quay-apitoken-operator.yaml, its image placeholder replaced.
    Manifests,
}

/// A control plane of the test's own, with its admin client.
struct Plane {
    plane: quay_testenv::ControlPlane,
    client: Client,
}

impl Plane {
    async fn start() -> Plane {
        let plane = quay_testenv::ControlPlane::start(quay_testenv::Options::default())
            .await
            .unwrap_or_else(|e| panic!("cannot start a control plane: {e}"));
        let client = plane
            .client()
            .await
            .unwrap_or_else(|e| panic!("admin client: {e}"));
        // The chart's default policy (grant) watches ReferenceGrants: the API must be there,
        // as on a cluster where the Gateway API's CRDs are installed.
        crate::support::apply_crd(&client, crate::support::reference_grant_crd()).await;
        Plane { plane, client }
    }

    fn kubeconfig(&self) -> &Path {
        self.plane.kubeconfig_path()
    }

    fn kubectl(&self, args: &[&str], input: &str) -> String {
        let (ok, stdout, stderr) = kubectl_on(self.kubeconfig(), args, input);
        assert!(ok, "kubectl {args:?} failed: {stderr}\n{stdout}");
        stdout
    }

    async fn namespace(&self, prefix: &str) -> String {
        quay_testenv::create_namespace(&self.client, prefix)
            .await
            .unwrap_or_else(|e| panic!("cannot create a namespace: {e}"))
    }

    async fn put_secret(&self, ns: &str, name: &str, data: &[(&str, &str)]) {
        let data: BTreeMap<&str, &str> = data.iter().copied().collect();
        let secret: Secret = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": ns},
            "stringData": data,
        }))
        .unwrap_or_else(|e| panic!("Secret: {e}"));
        Api::<Secret>::namespaced(self.client.clone(), ns)
            .create(&PostParams::default(), &secret)
            .await
            .unwrap_or_else(|e| panic!("cannot create Secret {ns}/{name}: {e}"));
    }

    async fn access_token(&self, ns: &str, name: &str) -> Option<String> {
        let secret = Api::<Secret>::namespaced(self.client.clone(), ns)
            .get_opt(name)
            .await
            .ok()??;
        String::from_utf8(secret.data?.remove("accessToken")?.0).ok()
    }
}

/// Renders or reads what is installed; returns its YAML and the release namespace.
fn objects(install: &Install, release_ns: &str, tenants: &[String]) -> String {
    match install {
        Install::Chart { namespaced } => {
            let mut sets = Vec::new();
            if *namespaced {
                sets.push(format!("watchNamespaces={{{}}}", tenants.join(",")));
            }
            template("qao", release_ns, &sets, true)
        }
        Install::Manifests => {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("deploy/manifests/quay-apitoken-operator.yaml");
            std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .replace(
                    "REGISTRY/quay-apitoken-operator",
                    "registry.example.com/quay-apitoken-operator",
                )
        }
    }
}

/// The namespace the manifests install into (a Namespace object of their own).
const MANIFESTS_NAMESPACE: &str = "quay-apitoken-operator";

async fn run_with_pod_rights(install: Install) {
    let _serial = ONE_AT_A_TIME.lock().await;
    let plane = Plane::start().await;
    let tokens_ns = plane.namespace("tenant-tokens").await;
    let apps_ns = plane.namespace("tenant-apps").await;
    let release_ns = match install {
        Install::Manifests => MANIFESTS_NAMESPACE.to_owned(),
        Install::Chart { .. } => plane.namespace("qao-system").await,
    };
    let yaml = objects(&install, &release_ns, &[tokens_ns.clone(), apps_ns.clone()]);
    let docs = documents(&yaml);
    let applied = plane.kubectl(
        &[
            "apply",
            "--server-side",
            "--field-manager=pod-rights",
            "-f",
            "-",
        ],
        &yaml,
    );
    assert_eq!(
        applied.lines().count(),
        docs.len(),
        "every object applied:\n{applied}"
    );
    plane.kubectl(
        &[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/apitokens.quay.herve4m.github.io",
            "crd/applications.quay.herve4m.github.io",
        ],
        "",
    );

    // The pod as the Deployment describes it, and its identity.
    let deployment = docs
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .unwrap_or_else(|| panic!("no Deployment rendered"));
    let pod = from_deployment(deployment, &format!("127.0.0.1:{}", free_port()));
    assert_eq!(pod.namespace, release_ns);
    let sa = service_account_kubeconfig_on(
        plane.kubeconfig(),
        &plane.client,
        &pod.namespace,
        &pod.service_account,
    )
    .await;
    let lease_name = pod
        .args
        .iter()
        .find_map(|a| a.strip_prefix("--lease-name="))
        .unwrap_or_else(|| panic!("leader election is on by default: {:?}", pod.args))
        .to_owned();

    // Quay, and the connection Secrets of both tenants.
    let quay = Emulator::start("127.0.0.1:0".parse().unwrap(), Config::default())
        .await
        .unwrap_or_else(|e| panic!("cannot start the Quay emulator: {e}"));
    quay.add_user(ADMIN, ADMIN_PASSWORD);
    quay.add_org(ORG, ADMIN);
    let app = quay.add_app(ORG, "quay-operator", None);
    let url = quay.url();
    let conn = [
        ("host", url.as_str()),
        ("username", ADMIN),
        ("password", ADMIN_PASSWORD),
    ];
    for ns in [&tokens_ns, &apps_ns] {
        plane.put_secret(ns, CONN_SECRET, &conn).await;
    }

    let mut operator = OperatorProcess::start_as_pod("pod-rights", &sa.path(), &pod.args, &pod.env);
    operator.wait_serving().await;
    wait_for(PATIENCE, "the operator leads", || async {
        operator.is_leader().await.filter(|l| *l)
    })
    .await;
    operator.wait_ready().await;
    let lease = Api::<Lease>::namespaced(plane.client.clone(), &release_ns)
        .get(&lease_name)
        .await
        .unwrap_or_else(|e| panic!("no Lease {release_ns}/{lease_name}: {e}"));
    assert_eq!(
        lease.spec.and_then(|s| s.holder_identity).as_deref(),
        Some(pod.pod_name.as_str()),
        "the Lease is taken in the release namespace by the pod's name"
    );

    apitoken_lifecycle(&plane, &quay, &tokens_ns, &app.client_id).await;
    repeated_failure(&plane, &tokens_ns, &app.client_id).await;
    application_lifecycle(&plane, &quay, &apps_ns).await;

    assert!(operator.is_running(), "the operator is still up");
    let log = operator.log_text();
    let lower = log.to_lowercase();
    assert!(
        !lower.contains("forbidden") && !lower.contains("code: 403"),
        "a request was refused:\n{log}"
    );

    // What the ServiceAccount asked for, against what the chart grants.
    let user = format!(
        "system:serviceaccount:{}:{}",
        pod.namespace, pod.service_account
    );
    let requests = requests_of(&plane.plane.audit_log_path(), &user);
    let grants = grants_to(&docs, &pod.namespace, &pod.service_account);
    let found = verdict(&requests, &grants);
    let used: std::collections::BTreeSet<String> = requests
        .iter()
        .map(|r| format!("{} {}/{} ({})", r.verb, r.group, r.resource, r.code))
        .collect();
    eprintln!(
        "pod-rights: {} requests; used:\n  {}",
        requests.len(),
        used.into_iter().collect::<Vec<_>>().join("\n  ")
    );
    assert!(found.refused.is_empty(), "refused: {:#?}", found.refused);
    assert!(
        found.uncovered.is_empty(),
        "allowed by something else than the chart's rules: {:#?}",
        found.uncovered
    );
    assert!(
        found.unused.is_empty(),
        "granted and never used (group, resource, verb, names): {:#?}",
        found.unused
    );
}

/// Converges, rotates, is repaired and is deleted, with the token revoked each time.
async fn apitoken_lifecycle(plane: &Plane, quay: &Emulator, ns: &str, client_id: &str) {
    let tokens: Api<ApiToken> = Api::namespaced(plane.client.clone(), ns);
    let token = ApiTokenFixture::new("tok")
        .connection(CONN_SECRET)
        .client_id(client_id)
        .build();
    tokens
        .create(&PostParams::default(), &token)
        .await
        .unwrap_or_else(|e| panic!("cannot create ApiToken tok: {e}"));
    let ready = wait_token(plane, ns, "tok", "Ready", is_ready_now).await;
    let first = token_id(&ready).unwrap_or_else(|| panic!("Ready without a token id"));
    let first_value = plane
        .access_token(ns, "tok")
        .await
        .unwrap_or_else(|| panic!("no result Secret"));
    let live = |value: &str| quay.tokens().iter().any(|t| t.token == value);
    assert!(live(&first_value), "the minted token is live");

    // Rotate on request.
    let annotate = json!({"metadata": {"annotations": {ROTATE_ANNOTATION: "pod-rights-1"}}});
    tokens
        .patch("tok", &PatchParams::default(), &Patch::Merge(&annotate))
        .await
        .unwrap_or_else(|e| panic!("cannot annotate: {e}"));
    let rotated = wait_token(plane, ns, "tok", "a rotated token", |t| {
        is_ready_now(t) && token_id(t).is_some_and(|id| id != first)
    })
    .await;
    let second = token_id(&rotated).unwrap_or_default();
    wait_for(PATIENCE, "the replaced token revoked", || async {
        (!live(&first_value)).then_some(())
    })
    .await;

    // Repair: a deleted result Secret comes back, holding a live token.
    Api::<Secret>::namespaced(plane.client.clone(), ns)
        .delete("tok", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("cannot delete the result Secret: {e}"));
    wait_for(PATIENCE, "the result Secret repaired", || async {
        let value = plane.access_token(ns, "tok").await?;
        live(&value).then_some(())
    })
    .await;
    wait_token(plane, ns, "tok", "Ready after the repair", |t| {
        is_ready_now(t) && token_id(t).is_some_and(|id| id != second)
    })
    .await;

    tokens
        .delete("tok", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("cannot delete ApiToken tok: {e}"));
    wait_for_object(
        &plane.client,
        ns,
        "tok",
        PATIENCE,
        "gone",
        |t: Option<ApiToken>| t.is_none().then_some(()),
    )
    .await;
    assert!(quay.tokens().is_empty(), "every token revoked");
}

/// The same failure twice, another in between: its Event is published, then patched as a
/// series (the `patch` on events the chart grants).
async fn repeated_failure(plane: &Plane, ns: &str, client_id: &str) {
    let tokens: Api<ApiToken> = Api::namespaced(plane.client.clone(), ns);
    let token = ApiTokenFixture::new("broken")
        .connection("late-credentials")
        .client_id(client_id)
        .build();
    tokens
        .create(&PostParams::default(), &token)
        .await
        .unwrap_or_else(|e| panic!("cannot create ApiToken broken: {e}"));
    let message = |t: &ApiToken| t.status.as_ref().map(|s| s.message.clone());
    let failing = |t: &ApiToken| {
        t.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "False")
        })
    };
    let missing = wait_token(plane, ns, "broken", "not Ready", failing).await;
    let first = message(&missing);
    plane
        .put_secret(ns, "late-credentials", &[("host", "https://quay.invalid")])
        .await;
    wait_token(plane, ns, "broken", "another failure", |t| {
        failing(t) && message(t) != first
    })
    .await;
    Api::<Secret>::namespaced(plane.client.clone(), ns)
        .delete("late-credentials", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("cannot delete Secret late-credentials: {e}"));
    let events: Api<Event> = Api::namespaced(plane.client.clone(), ns);
    wait_for(
        PATIENCE,
        "the first failure's Event counted twice",
        || async {
            let list = events.list(&ListParams::default()).await.ok()?;
            list.items
                .iter()
                .any(|e| {
                    e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("broken")
                        && e.series.as_ref().is_some_and(|s| s.count >= 2)
                })
                .then_some(())
        },
    )
    .await;
    tokens
        .delete("broken", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("cannot delete ApiToken broken: {e}"));
    wait_for_object(
        &plane.client,
        ns,
        "broken",
        PATIENCE,
        "gone",
        |t: Option<ApiToken>| t.is_none().then_some(()),
    )
    .await;
}

/// Creates its application in Quay, repairs its Secret, and deletes it from Quay.
async fn application_lifecycle(plane: &Plane, quay: &Emulator, ns: &str) {
    let apps: Api<Application> = Api::namespaced(plane.client.clone(), ns);
    let app: Application = serde_json::from_value(json!({
        "apiVersion": "quay.herve4m.github.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "pod-app"},
        "spec": {
            "connSecretRef": {"name": CONN_SECRET},
            "organization": ORG,
            "name": "pod-app",
            "retSecretRef": {"name": "pod-app-secret"},
        },
    }))
    .unwrap_or_else(|e| panic!("Application: {e}"));
    apps.create(&PostParams::default(), &app)
        .await
        .unwrap_or_else(|e| panic!("cannot create Application pod-app: {e}"));
    let ready = |a: &Application| {
        a.status.as_ref().is_some_and(|s| {
            s.observed_generation == a.metadata.generation
                && s.conditions
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
        })
    };
    wait_for_object(
        &plane.client,
        ns,
        "pod-app",
        PATIENCE,
        "Ready",
        |a: Option<Application>| a.filter(|a| ready(a)),
    )
    .await;
    assert_eq!(quay.app_count(ORG, "pod-app"), 1, "created in Quay");
    let secrets: Api<Secret> = Api::namespaced(plane.client.clone(), ns);
    secrets
        .delete("pod-app-secret", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("cannot delete the Application's Secret: {e}"));
    wait_for(PATIENCE, "the Application's Secret repaired", || async {
        secrets.get_opt("pod-app-secret").await.ok()?.map(|_| ())
    })
    .await;
    apps.delete("pod-app", &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("cannot delete Application pod-app: {e}"));
    wait_for_object(
        &plane.client,
        ns,
        "pod-app",
        PATIENCE,
        "gone",
        |a: Option<Application>| a.is_none().then_some(()),
    )
    .await;
    assert_eq!(quay.app_count(ORG, "pod-app"), 0, "deleted in Quay");
}

async fn wait_token(
    plane: &Plane,
    ns: &str,
    name: &str,
    what: &str,
    check: impl Fn(&ApiToken) -> bool,
) -> ApiToken {
    wait_for_object(
        &plane.client,
        ns,
        name,
        PATIENCE,
        what,
        |t: Option<ApiToken>| t.filter(|t| check(t)),
    )
    .await
}

/// The chart's default values: a ClusterRole, every namespace watched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_defaults_run_with_the_pods_rights_and_use_every_rule() {
    run_with_pod_rights(Install::Chart { namespaced: false }).await;
}

/// `watchNamespaces`: a Role per watched namespace, no ClusterRole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_watching_namespaces_runs_with_roles_and_uses_every_rule() {
    run_with_pod_rights(Install::Chart { namespaced: true }).await;
}

/// The plain manifests (kubectl users) are the chart's defaults: the same proof.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_manifests_run_with_the_pods_rights_and_use_every_rule() {
    run_with_pod_rights(Install::Manifests).await;
}
