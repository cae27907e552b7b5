//! The Helm chart as an installer would use it: `helm template` in both modes, accepted by the
//! real API server (server-side dry run), and its RBAC objects applied for the binary tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::TestNs;

/// The Kubernetes version the chart is rendered for (the harness's API server is 1.37).
pub const KUBE_VERSION: &str = "1.37.0";
const CHART_NAME: &str = "quay-apitoken-operator";

/// Kinds that make up the chart's identity and permissions.
pub const RBAC_KINDS: &[&str] = &[
    "ServiceAccount",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
];

fn chart_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/helm/quay-apitoken-operator")
}

fn tool(name: &str) -> PathBuf {
    quay_testenv::bin_dir()
        .unwrap_or_else(|e| panic!("{e}"))
        .join(name)
}

/// A unique release name, so cluster-scoped objects (ClusterRole) of two tests never clash.
pub fn release_name(prefix: &str) -> String {
    format!("{prefix}-{:06x}", rand::random::<u32>() & 0xff_ffff)
}

/// The release's full name, as the chart's helper computes it (release never contains the chart name here).
pub fn fullname(release: &str) -> String {
    format!("{release}-{CHART_NAME}")
}

/// Renders the chart into `namespace` with `--set` overrides; returns the YAML text.
pub fn template(release: &str, namespace: &str, sets: &[String], crds: bool) -> String {
    let chart = chart_dir();
    let mut cmd = Command::new(tool("helm"));
    cmd.args(["template", release]).arg(&chart).args([
        "--namespace",
        namespace,
        "--kube-version",
        KUBE_VERSION,
    ]);
    if crds {
        cmd.arg("--include-crds");
    }
    // No public image exists; the chart refuses to render without one (a server dry run and
    // RBAC need only a name).
    cmd.args([
        "--set",
        "image.repository=registry.example.com/quay-apitoken-operator",
    ]);
    for set in sets {
        cmd.args(["--set", set]);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run helm: {e}"));
    assert!(
        out.status.success(),
        "helm template failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("helm output: {e}"))
}

/// The YAML documents of a rendered chart as JSON values (empty documents dropped).
pub fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(yaml)
        .map(|doc| {
            let value: serde_yaml_ng::Value = serde::Deserialize::deserialize(doc)
                .unwrap_or_else(|e| panic!("helm rendered invalid YAML: {e}"));
            serde_json::to_value(value).unwrap_or_else(|e| panic!("YAML to JSON: {e}"))
        })
        .filter(|doc| !doc.is_null())
        .collect()
}

/// Runs the harness's kubectl (admin kubeconfig) with `input` on stdin: (success, stdout, stderr).
pub fn kubectl_stdin(args: &[&str], input: &str) -> (bool, String, String) {
    kubectl_on(crate::support::kubeconfig(), args, input)
}

/// Runs kubectl with `kubeconfig` and `input` on stdin: (success, stdout, stderr).
pub fn kubectl_on(kubeconfig: &Path, args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new(tool("kubectl"))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run kubectl: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .unwrap_or_else(|e| panic!("kubectl stdin: {e}"));
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("kubectl: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Renders the chart and applies only its ServiceAccount and RBAC objects; returns them.
pub fn apply_rbac(release: &str, namespace: &str, sets: &[String]) -> Vec<Value> {
    let rbac: Vec<Value> = documents(&template(release, namespace, sets, false))
        .into_iter()
        .filter(|d| RBAC_KINDS.iter().any(|k| d["kind"] == *k))
        .collect();
    let yaml: Vec<String> = rbac
        .iter()
        .map(|d| serde_yaml_ng::to_string(d).unwrap_or_else(|e| panic!("to YAML: {e}")))
        .collect();
    let (ok, stdout, stderr) = kubectl_stdin(&["apply", "-f", "-"], &yaml.join("---\n"));
    assert!(ok, "applying the chart's RBAC failed: {stderr}\n{stdout}");
    rbac
}

/// `name` of every rendered object of `kind`.
fn names_of(docs: &[Value], kind: &str) -> Vec<String> {
    docs.iter()
        .filter(|d| d["kind"] == kind)
        .filter_map(|d| d["metadata"]["name"].as_str().map(str::to_owned))
        .collect()
}

/// Server-side dry run of the whole rendered chart; checks every object was accepted and none
/// was actually created.
fn dry_run(release: &str, namespace: &str, sets: &[String]) -> Vec<Value> {
    let yaml = template(release, namespace, sets, true);
    let docs = documents(&yaml);
    let (ok, stdout, stderr) = kubectl_stdin(&["apply", "--dry-run=server", "-f", "-"], &yaml);
    assert!(ok, "the API server refused the chart: {stderr}\n{stdout}");
    let accepted = stdout
        .lines()
        .filter(|l| l.ends_with("(server dry run)"))
        .count();
    assert_eq!(
        accepted,
        docs.len(),
        "every rendered object is accepted:\n{stdout}"
    );
    let sa = names_of(&docs, "ServiceAccount");
    assert_eq!(sa, vec![fullname(release)]);
    let (found, _, _) =
        crate::support::kubectl(&["get", "serviceaccount", &sa[0], "-n", namespace]);
    assert!(!found, "a dry run must not create the ServiceAccount");
    docs
}

/// Cluster mode (the default values) and namespaced mode both pass the API server's validation,
/// with the CRD, the PodDisruptionBudget and the metrics Service included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_passes_server_side_dry_run_in_both_modes() {
    let ns = TestNs::new("bin-chart").await;
    let watched = quay_testenv::create_namespace(&ns.client, "bin-chart-w")
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let release = release_name("clu");
    let docs = dry_run(&release, &ns.name, &[]);
    for kind in ["Deployment", "Service", "PodDisruptionBudget"] {
        assert_eq!(names_of(&docs, kind).len(), 1, "one {kind} in cluster mode");
    }
    let mut crds = names_of(&docs, "CustomResourceDefinition");
    crds.sort();
    assert_eq!(
        crds,
        vec![
            "apitokens.quay.herve4m.github.io".to_owned(),
            "applications.quay.herve4m.github.io".to_owned()
        ],
        "both CRDs in cluster mode"
    );
    assert_eq!(names_of(&docs, "ClusterRole"), vec![fullname(&release)]);

    let release = release_name("nsd");
    let watch = format!("watchNamespaces={{{},{watched}}}", ns.name);
    let docs = dry_run(&release, &ns.name, &[watch]);
    assert!(
        names_of(&docs, "ClusterRole").is_empty(),
        "no ClusterRole in namespaced mode"
    );
    let role_namespaces: Vec<&str> = docs
        .iter()
        .filter(|d| d["kind"] == "Role" && d["metadata"]["name"] == fullname(&release).as_str())
        .filter_map(|d| d["metadata"]["namespace"].as_str())
        .collect();
    assert_eq!(role_namespaces, vec![ns.name.as_str(), watched.as_str()]);

    // The optional production pieces: the NetworkPolicy, OpenShift's platform-assigned uid and
    // an image pinned by digest are accepted too.
    let release = release_name("opt");
    let docs = dry_run(
        &release,
        &ns.name,
        &[
            "networkPolicy.enabled=true".to_owned(),
            "networkPolicy.apiServer.cidrs={10.0.0.1/32}".to_owned(),
            "networkPolicy.quay.cidrs={192.0.2.0/24,198.51.100.7/32}".to_owned(),
            "openshift=true".to_owned(),
            format!("image.digest=sha256:{}", "ab".repeat(32)),
        ],
    );
    assert_eq!(names_of(&docs, "NetworkPolicy"), vec![fullname(&release)]);
}
