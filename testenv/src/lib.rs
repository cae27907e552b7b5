//! A real Kubernetes control plane on loopback, the way controller-runtime's envtest does it:
//! etcd and kube-apiserver (RBAC authorization on), optionally kube-controller-manager, built
//! from their Go modules by `hack/build-control-plane.sh`, started on free ports, stopped when
//! dropped or when the process that started them exits.

mod certs;
mod process;
pub mod procs;

use base64::Engine;
use kube::config::{KubeConfigOptions, Kubeconfig};
use process::Guarded;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Environment variable naming an existing cluster's kubeconfig to use instead of starting one.
pub const EXISTING_KUBECONFIG_ENV: &str = "QAO_TEST_KUBECONFIG";
/// The audit log's file name in the control plane's folder.
const AUDIT_LOG: &str = "audit.log";
/// Environment variable naming a folder that already holds the control-plane binaries.
pub const BIN_DIR_ENV: &str = "QAO_CONTROL_PLANE_BIN";

/// What can go wrong while starting the control plane.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "building the control-plane binaries failed ({0}); run hack/build-control-plane.sh to see why"
    )]
    Build(String),
    #[error("cannot write the control plane's files: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot generate certificates: {0}")]
    Certs(#[from] rcgen::Error),
    #[error("cannot render the kubeconfig: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),
    #[error("cannot build a client from the kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("{0} exited early; its log is {1}")]
    Exited(String, PathBuf),
    #[error("the API server was not ready after {0:?}; logs are in {1}")]
    NotReady(Duration, PathBuf),
}

/// The audit policy of every control plane: one line per request of a ServiceAccount (the
/// operator run with a chart's rights), at Metadata level, so a test can list what the
/// operator asked for and what was refused. Other users (the tests' admin) are not logged.
const AUDIT_POLICY: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [\"RequestReceived\"]
rules:
  - level: Metadata
    userGroups: [\"system:serviceaccounts\"]
  - level: None
";

/// Which optional parts to start.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Start kube-controller-manager (namespace deletion, garbage collection).
    pub controller_manager: bool,
}

/// A running control plane; dropping it stops every process and removes its files.
pub struct ControlPlane {
    dir: tempfile::TempDir,
    kubeconfig_path: PathBuf,
    /// etcd, then kube-controller-manager when asked for.
    servers: Mutex<Vec<Guarded>>,
    /// Apart from the others so that a test can restart it under a running operator.
    apiserver: Mutex<Guarded>,
    apiserver_command: (PathBuf, Vec<String>),
    url: String,
}

/// Finds the control-plane binaries, building them on first use (a no-op once cached).
pub fn bin_dir() -> Result<PathBuf, Error> {
    if let Ok(dir) = std::env::var(BIN_DIR_ENV) {
        return Ok(PathBuf::from(dir));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hack/build-control-plane.sh");
    let out = Command::new("bash").arg(&script).output()?;
    if !out.status.success() {
        let tail = String::from_utf8_lossy(&out.stderr);
        let tail: String = tail.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
        return Err(Error::Build(tail));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let dir = stdout.lines().last().unwrap_or_default().trim().to_string();
    Ok(PathBuf::from(dir))
}

/// Where `hack/build-control-plane.sh` puts the Gateway API ReferenceGrant CRD (the real one,
/// from the sigs.k8s.io/gateway-api module at the version the script pins).
pub fn reference_grant_crd() -> Result<PathBuf, Error> {
    let path = bin_dir()?.join("referencegrants.crd.yaml");
    if path.is_file() {
        return Ok(path);
    }
    // A bin folder built before the script fetched it: the script adds it (no Go build).
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hack/build-control-plane.sh");
    let out = Command::new("bash").arg(&script).output()?;
    if !out.status.success() || !path.is_file() {
        let tail = String::from_utf8_lossy(&out.stderr);
        let tail: String = tail.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
        return Err(Error::Build(format!("no {}: {tail}", path.display())));
    }
    Ok(path)
}

fn free_port() -> Result<u16, Error> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl ControlPlane {
    /// Starts etcd and kube-apiserver (and kube-controller-manager if asked) and waits for `/readyz`.
    pub async fn start(options: Options) -> Result<ControlPlane, Error> {
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new().prefix("quay-testenv-").tempdir()?;
        let root = dir.path().to_path_buf();
        let pki = certs::generate()?;
        let write = |name: &str, body: &str| -> Result<String, Error> {
            let path = root.join(name);
            std::fs::write(&path, body)?;
            Ok(path.display().to_string())
        };
        let ca = write("ca.crt", &pki.ca_cert)?;
        let serving_cert = write("apiserver.crt", &pki.serving_cert)?;
        let serving_key = write("apiserver.key", &pki.serving_key)?;
        let sa_key = write("sa.key", &pki.sa_key)?;
        let sa_pub = write("sa.pub", &pki.sa_pub)?;
        let audit_policy = write("audit-policy.yaml", AUDIT_POLICY)?;

        let etcd_port = free_port()?;
        let peer_port = free_port()?;
        let api_port = free_port()?;
        let mut servers = Vec::new();
        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        servers.push(Guarded::spawn(
            "etcd",
            &bin.join("etcd"),
            &[
                format!("--data-dir={}", root.join("etcd").display()),
                format!("--listen-client-urls={etcd_url}"),
                format!("--advertise-client-urls={etcd_url}"),
                format!("--listen-peer-urls=http://127.0.0.1:{peer_port}"),
                format!("--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}"),
                format!("--initial-cluster=default=http://127.0.0.1:{peer_port}"),
                "--unsafe-no-fsync=true".into(),
                "--log-level=warn".into(),
            ],
            &root.join("etcd.log"),
        )?);
        let apiserver_args: Vec<String> = vec![
            format!("--etcd-servers={etcd_url}"),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            // No kubernetes Endpoints to maintain on a loopback-only plane (and 1.37
            // refuses a loopback advertise address for the reconciler).
            "--endpoint-reconciler-type=none".into(),
            format!("--secure-port={api_port}"),
            format!("--cert-dir={}", root.join("certs").display()),
            format!("--tls-cert-file={serving_cert}"),
            format!("--tls-private-key-file={serving_key}"),
            format!("--client-ca-file={ca}"),
            "--authorization-mode=RBAC".into(),
            "--service-cluster-ip-range=10.0.0.0/24".into(),
            "--service-account-issuer=https://kubernetes.default.svc".into(),
            format!("--service-account-key-file={sa_pub}"),
            format!("--service-account-signing-key-file={sa_key}"),
            "--allow-privileged=true".into(),
            "--enable-priority-and-fairness=false".into(),
            "--disable-admission-plugins=ServiceAccount".into(),
            // As on OpenShift: a ServiceAccount that sets ownerReferences (blockOwnerDeletion
            // above all) must hold the rights this checks, so a chart's rules are proven here.
            "--enable-admission-plugins=OwnerReferencesPermissionEnforcement".into(),
            format!("--audit-policy-file={audit_policy}"),
            format!("--audit-log-path={}", root.join(AUDIT_LOG).display()),
            "--v=1".into(),
        ];
        let apiserver_bin = bin.join("kube-apiserver");
        let apiserver = Guarded::spawn(
            "kube-apiserver",
            &apiserver_bin,
            &apiserver_args,
            &root.join("kube-apiserver.log"),
        )?;
        let url = format!("https://127.0.0.1:{api_port}");
        let kubeconfig_path = root.join("kubeconfig");
        std::fs::write(&kubeconfig_path, kubeconfig_yaml(&url, &pki)?)?;

        let mut plane = ControlPlane {
            dir,
            kubeconfig_path,
            servers: Mutex::new(servers),
            apiserver: Mutex::new(apiserver),
            apiserver_command: (apiserver_bin, apiserver_args),
            url,
        };
        if let Err(e) = plane.wait_ready(Duration::from_secs(120)).await {
            // Keep the logs the error points to.
            plane.stop();
            let _ = std::mem::replace(&mut plane.dir, tempfile::tempdir()?).keep();
            return Err(e);
        }
        if options.controller_manager {
            let kubeconfig = plane.kubeconfig_path.display().to_string();
            let kcm = Guarded::spawn(
                "kube-controller-manager",
                &bin.join("kube-controller-manager"),
                &[
                    format!("--kubeconfig={kubeconfig}"),
                    format!("--authentication-kubeconfig={kubeconfig}"),
                    format!("--authorization-kubeconfig={kubeconfig}"),
                    "--controllers=namespace,garbagecollector,serviceaccount".into(),
                    "--leader-elect=false".into(),
                    "--bind-address=127.0.0.1".into(),
                    format!("--secure-port={}", free_port()?),
                    format!(
                        "--cert-dir={}",
                        plane.dir.path().join("kcm-certs").display()
                    ),
                    format!("--service-account-private-key-file={sa_key}"),
                    format!("--root-ca-file={ca}"),
                ],
                &plane.dir.path().join("kube-controller-manager.log"),
            )?;
            plane
                .servers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(kcm);
        }
        Ok(plane)
    }

    /// The error for the first server that is no longer running, if any.
    fn exited(&self) -> Option<Error> {
        let mut apiserver = self.apiserver.lock().unwrap_or_else(|p| p.into_inner());
        let mut servers = self.servers.lock().unwrap_or_else(|p| p.into_inner());
        let server = std::iter::once(&mut *apiserver)
            .chain(servers.iter_mut())
            .find_map(|s| (!s.is_running()).then_some(s))?;
        // (A restarted API server logs to kube-apiserver.restarted.log beside this one.)
        let log = self.dir.path().join(format!("{}.log", server.name()));
        Some(Error::Exited(server.name().to_string(), log))
    }

    async fn wait_ready(&self, limit: Duration) -> Result<(), Error> {
        let started = Instant::now();
        let client = self.client().await?;
        loop {
            if let Some(exited) = self.exited() {
                return Err(exited);
            }
            if let Ok(req) = http::Request::get("/readyz").body(Vec::new())
                && let Ok(body) = client.request_text(req).await
                && body.trim() == "ok"
            {
                return Ok(());
            }
            if started.elapsed() > limit {
                return Err(Error::NotReady(limit, self.dir.path().to_path_buf()));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The API server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Path of an admin kubeconfig for this control plane.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig_path
    }

    /// The API server's audit log (JSON lines): every request of a ServiceAccount.
    pub fn audit_log_path(&self) -> PathBuf {
        self.dir.path().join(AUDIT_LOG)
    }

    /// The folder holding the certificates, data and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// An admin client (group system:masters).
    pub async fn client(&self) -> Result<kube::Client, Error> {
        client_from_kubeconfig(&self.kubeconfig_path).await
    }

    /// Stops every process; the files go when the value is dropped.
    pub fn stop(&mut self) {
        // Controller manager first, etcd last: each stops while what it talks to is up.
        let mut servers = self.servers.lock().unwrap_or_else(|p| p.into_inner());
        for server in servers.iter_mut().skip(1).rev() {
            server.stop();
        }
        self.apiserver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .stop();
        for server in servers.iter_mut().take(1) {
            server.stop();
        }
    }

    /// Stops kube-apiserver (SIGTERM, as a rolling control-plane upgrade does), leaves it down
    /// for `down`, starts it again on the same port with the same data, and waits for
    /// `/readyz`. Clients see their connections and watches end and must come back by
    /// themselves.
    pub async fn restart_apiserver(&self, down: Duration) -> Result<(), Error> {
        self.apiserver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .stop();
        tokio::time::sleep(down).await;
        let (bin, args) = &self.apiserver_command;
        let log = self.dir.path().join("kube-apiserver.restarted.log");
        let started = Guarded::spawn("kube-apiserver", bin, args, &log)?;
        *self.apiserver.lock().unwrap_or_else(|p| p.into_inner()) = started;
        self.wait_ready(Duration::from_secs(120)).await
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Picks ring as the process's TLS provider, the one stack of the whole workspace (kube, the
/// operator's Quay client and the emulator); done before any client is built.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Builds a client from a kubeconfig file.
pub async fn client_from_kubeconfig(path: &Path) -> Result<kube::Client, Error> {
    install_crypto_provider();
    let kubeconfig = Kubeconfig::read_from(path).map_err(|e| Error::Kubeconfig(e.to_string()))?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| Error::Kubeconfig(e.to_string()))?;
    kube::Client::try_from(config).map_err(|e| Error::Kubeconfig(e.to_string()))
}

fn kubeconfig_yaml(url: &str, pki: &certs::Pki) -> Result<String, Error> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    let doc = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "testenv", "cluster": {"server": url, "certificate-authority-data": b64(&pki.ca_cert)}}],
        "users": [{"name": "admin", "user": {"client-certificate-data": b64(&pki.admin_cert), "client-key-data": b64(&pki.admin_key)}}],
        "contexts": [{"name": "testenv", "context": {"cluster": "testenv", "user": "admin"}}],
        "current-context": "testenv",
    });
    Ok(serde_yaml_ng::to_string(&doc)?)
}

/// The cluster the tests of one test binary share.
pub enum Cluster {
    /// A control plane this process started.
    Local(ControlPlane),
    /// An existing cluster named by `QAO_TEST_KUBECONFIG`.
    Existing(PathBuf),
}

impl Cluster {
    /// The control plane this process started; `None` for an existing cluster.
    pub fn control_plane(&self) -> Option<&ControlPlane> {
        match self {
            Cluster::Local(plane) => Some(plane),
            Cluster::Existing(_) => None,
        }
    }

    /// Path of an admin kubeconfig.
    pub fn kubeconfig_path(&self) -> &Path {
        match self {
            Cluster::Local(plane) => plane.kubeconfig_path(),
            Cluster::Existing(path) => path,
        }
    }

    /// A fresh admin client, bound to the caller's runtime.
    pub async fn client(&self) -> kube::Client {
        match client_from_kubeconfig(self.kubeconfig_path()).await {
            Ok(client) => client,
            Err(e) => panic!("cannot connect to the test cluster: {e}"),
        }
    }
}

static SHARED: OnceLock<Cluster> = OnceLock::new();

/// Starts of the shared control plane tried before a test binary gives up.
const START_ATTEMPTS: u32 = 3;

/// The one cluster of this test binary: started on first use (on its own runtime, since each
/// `#[tokio::test]` has a runtime of its own), or the existing one named by `QAO_TEST_KUBECONFIG`.
pub fn shared(options: Options) -> &'static Cluster {
    SHARED.get_or_init(|| {
        if let Ok(path) = std::env::var(EXISTING_KUBECONFIG_ENV) {
            return Cluster::Existing(PathBuf::from(path));
        }
        let started = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            // Ports are picked free and bound a moment later by the servers; another process
            // can take one in between. A fresh attempt picks fresh ports.
            let mut attempt = 1;
            loop {
                match rt.block_on(ControlPlane::start(options.clone())) {
                    Ok(plane) => return Ok(plane),
                    Err(e) if attempt < START_ATTEMPTS => {
                        eprintln!(
                            "quay-testenv: start attempt {attempt} failed ({e}); trying again"
                        );
                        attempt += 1;
                    }
                    Err(e) => return Err(e),
                }
            }
        })
        .join();
        match started {
            Ok(Ok(plane)) => Cluster::Local(plane),
            Ok(Err(e)) => panic!("cannot start the test control plane: {e}"),
            Err(_) => panic!("the thread starting the test control plane panicked"),
        }
    })
}

/// Creates a namespace with a unique name that starts with `prefix`.
pub async fn create_namespace(client: &kube::Client, prefix: &str) -> Result<String, kube::Error> {
    use k8s_openapi::api::core::v1::Namespace;
    use rand::Rng;
    let suffix: u32 = rand::rng().random_range(0..0xff_ffff);
    let name = format!("{prefix}-{suffix:06x}");
    let ns = Namespace {
        metadata: kube::api::ObjectMeta {
            name: Some(name.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    kube::Api::<Namespace>::all(client.clone())
        .create(&Default::default(), &ns)
        .await?;
    Ok(name)
}
