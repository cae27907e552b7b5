//! A ServiceAccount identity for the operator process: a token minted with the TokenRequest API
//! and a kubeconfig that uses it, trusting the harness's CA like a pod trusts its cluster's.

use std::path::PathBuf;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::Api;
use kube::api::PostParams;
use kube::config::Kubeconfig;
use serde_json::json;

/// A kubeconfig file for a ServiceAccount; the file goes when this is dropped.
pub struct SaKubeconfig {
    dir: tempfile::TempDir,
}

impl SaKubeconfig {
    /// Path of the kubeconfig file.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// A client acting as the ServiceAccount.
    pub async fn client(&self) -> kube::Client {
        quay_testenv::client_from_kubeconfig(&self.path())
            .await
            .unwrap_or_else(|e| panic!("cannot build a client for the ServiceAccount: {e}"))
    }
}

/// Mints a one-hour token for `namespace/name` and writes a kubeconfig with the admin
/// kubeconfig's server and CA but no client certificate.
pub async fn service_account_kubeconfig(
    admin: &kube::Client,
    namespace: &str,
    name: &str,
) -> SaKubeconfig {
    service_account_kubeconfig_on(crate::support::kubeconfig(), admin, namespace, name).await
}

/// [`service_account_kubeconfig`] on the control plane of `admin_kubeconfig` (`admin` is a
/// client of it).
pub async fn service_account_kubeconfig_on(
    admin_kubeconfig: &std::path::Path,
    admin: &kube::Client,
    namespace: &str,
    name: &str,
) -> SaKubeconfig {
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            expiration_seconds: Some(3600),
            ..Default::default()
        }),
        ..Default::default()
    };
    let minted = Api::<ServiceAccount>::namespaced(admin.clone(), namespace)
        .create_token_request(name, &PostParams::default(), &request)
        .await
        .unwrap_or_else(|e| panic!("TokenRequest for {namespace}/{name} failed: {e}"));
    let token = minted
        .status
        .and_then(|s| s.token)
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| panic!("the TokenRequest returned no token"));

    let admin_config = Kubeconfig::read_from(admin_kubeconfig)
        .unwrap_or_else(|e| panic!("cannot read the admin kubeconfig: {e}"));
    let cluster = admin_config
        .clusters
        .first()
        .and_then(|c| c.cluster.clone())
        .unwrap_or_else(|| panic!("the admin kubeconfig names no cluster"));
    let server = cluster.server.unwrap_or_default();
    let ca = cluster
        .certificate_authority_data
        .unwrap_or_else(|| panic!("the admin kubeconfig carries no CA data"));
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "testenv", "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": "sa", "context": {"cluster": "testenv", "user": name, "namespace": namespace}}],
        "current-context": "sa",
    });
    let dir = tempfile::Builder::new()
        .prefix("qao-sa-")
        .tempdir()
        .unwrap_or_else(|e| panic!("tempdir: {e}"));
    let config = SaKubeconfig { dir };
    let yaml = serde_yaml_ng::to_string(&doc).unwrap_or_else(|e| panic!("kubeconfig YAML: {e}"));
    std::fs::write(config.path(), yaml).unwrap_or_else(|e| panic!("write kubeconfig: {e}"));
    config
}
