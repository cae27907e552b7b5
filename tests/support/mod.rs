//! Shared test support: the real control plane of this test binary, the CRD, and one namespace per test.
#![allow(dead_code)]

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, CustomResourceExt};
use quay_apitoken_operator::application::Application;
use quay_apitoken_operator::crd::ApiToken;
use std::path::Path;
use std::time::Duration;
use tokio::sync::OnceCell;

pub mod dump;
pub mod fixtures;
pub mod hostile;
pub mod invariant;

// Each test binary mounts this module and uses a different part of it.
#[allow(unused_imports)]
pub use dump::wait_for_object;
#[allow(unused_imports)]
pub use fixtures::ApiTokenFixture;

/// The Quay account the tests use by default: an owner of ORG who is **not** a Quay
/// superuser, the account most teams give the operator (protocol §15).
pub const ADMIN: &str = "admin";
/// Its password.
pub const ADMIN_PASSWORD: &str = "Sup3r53cr3L";
/// The organization that owns the OAuth application; ADMIN administers it.
pub const ORG: &str = "production";

/// The cluster shared by the tests of this binary.
pub fn cluster() -> &'static quay_testenv::Cluster {
    quay_testenv::shared(quay_testenv::Options::default())
}

/// An admin client bound to the calling test's runtime.
pub async fn client() -> Client {
    cluster().client().await
}

/// Path of the admin kubeconfig, for kubectl.
pub fn kubeconfig() -> &'static Path {
    cluster().kubeconfig_path()
}

/// The real Gateway API ReferenceGrant CRD, as `hack/build-control-plane.sh` fetched it: the
/// `--cross-namespace-refs=grant` policy reads ReferenceGrants.
pub fn reference_grant_crd() -> CustomResourceDefinition {
    let path = quay_testenv::reference_grant_crd()
        .unwrap_or_else(|e| panic!("the ReferenceGrant CRD: {e}"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Installs the generated CRDs (ApiToken, Application) and the ReferenceGrant CRD (server-side
/// apply) and waits until they are Established.
pub async fn install_crd(client: &Client) {
    for crd in [ApiToken::crd(), Application::crd(), reference_grant_crd()] {
        apply_crd(client, crd).await;
    }
}

/// Applies one CRD (server-side) and waits until it is Established.
pub async fn apply_crd(client: &Client, mut crd: CustomResourceDefinition) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    // Server-side apply takes no status (the ReferenceGrant file has an empty one).
    crd.status = None;
    let name = crd.metadata.name.clone().unwrap_or_default();
    crds.patch(
        &name,
        &PatchParams::apply("quay-apitoken-operator-tests").force(),
        &Patch::Apply(&crd),
    )
    .await
    .unwrap_or_else(|e| panic!("CRD {name} apply failed: {e}"));
    wait_for(
        Duration::from_secs(30),
        &format!("CRD {name} Established"),
        || {
            let crds = crds.clone();
            let name = name.clone();
            async move {
                let crd = crds.get(&name).await.ok()?;
                let conds = crd.status?.conditions?;
                conds
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
                    .then_some(())
            }
        },
    )
    .await;
}

/// A namespace of its own for one test, with an admin client and the CRD installed.
pub struct TestNs {
    pub client: Client,
    pub name: String,
}

static CRD_READY: OnceCell<()> = OnceCell::const_new();

impl TestNs {
    /// Creates the namespace `<prefix>-<random>`.
    pub async fn new(prefix: &str) -> TestNs {
        let client = client().await;
        // Each test has its own runtime; the CRD is installed once per binary, but any test may
        // be first, so the one-time step uses a client of whichever runtime gets there.
        CRD_READY.get_or_init(|| install_crd(&client)).await;
        let name = quay_testenv::create_namespace(&client, prefix)
            .await
            .unwrap_or_else(|e| panic!("cannot create namespace: {e}"));
        TestNs { client, name }
    }

    /// A namespaced Api in this test's namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }

    /// Waits on the object `name` of this namespace; see [`wait_for_object`].
    pub async fn wait_for<K, T>(
        &self,
        name: &str,
        limit: Duration,
        what: &str,
        check: impl FnMut(Option<K>) -> Option<T>,
    ) -> T
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + std::fmt::Debug
            + serde::de::DeserializeOwned
            + serde::Serialize,
    {
        wait_for_object(&self.client, &self.name, name, limit, what, check).await
    }
}

/// Polls `check` until it returns Some or `limit` passes (then panics naming `what`). For
/// waits that are not about one Kubernetes object; those use [`wait_for_object`], whose
/// timeout shows the object and its namespace's events.
pub async fn wait_for<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = std::time::Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if started.elapsed() > limit {
            panic!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `check` until it returns Some, or gives None after `limit`.
pub async fn try_wait_for<T, F, Fut>(limit: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = std::time::Instant::now();
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if started.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs the control plane's kubectl against the test cluster and returns (success, stdout, stderr).
pub fn kubectl(args: &[&str]) -> (bool, String, String) {
    let bin = quay_testenv::bin_dir().unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new(bin.join("kubectl"))
        .arg("--kubeconfig")
        .arg(kubeconfig())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run kubectl: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
