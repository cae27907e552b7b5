//! Rendering the chart with helm, and picking objects out of what it renders.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// Release name of every render.
pub const RELEASE: &str = "qao";
/// Namespace the chart is rendered into (the operator's own).
pub const NAMESPACE: &str = "operators";
/// The name the chart gives its objects for [`RELEASE`].
pub const FULLNAME: &str = "qao-quay-apitoken-operator";
/// Kubernetes version the chart is rendered for (the harness's).
pub const KUBE_VERSION: &str = "1.37.0";
/// No public image exists: every render names one, as every install must.
pub const IMAGE_REPOSITORY: &str = "registry.example.com/platform/quay-apitoken-operator";

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The chart's directory.
pub fn chart() -> PathBuf {
    root().join("deploy/helm/quay-apitoken-operator")
}

/// The helm binary, found once per test binary.
pub fn helm() -> &'static Path {
    static HELM: OnceLock<PathBuf> = OnceLock::new();
    HELM.get_or_init(|| {
        if let Some(bin) = std::env::var_os("QAO_CONTROL_PLANE_BIN").filter(|b| !b.is_empty()) {
            return PathBuf::from(bin).join("helm");
        }
        let output = Command::new("bash")
            .arg(root().join("hack/build-control-plane.sh"))
            .output()
            .expect("run hack/build-control-plane.sh");
        assert!(
            output.status.success(),
            "build-control-plane.sh failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let bin = stdout.lines().last().expect("bin dir on the last line");
        let helm = Path::new(bin.trim()).join("helm");
        assert!(helm.is_file(), "no helm at {}", helm.display());
        helm
    })
}

/// Runs helm with `args`; its output, whatever the exit status.
pub fn run_helm(args: &[&str]) -> Output {
    Command::new(helm()).args(args).output().expect("run helm")
}

/// Renders the chart with `--set` overrides; fails the test on a render error.
pub fn render(sets: &[&str]) -> Vec<Value> {
    let output = template(sets);
    assert!(
        output.status.success(),
        "helm template failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8 manifests");
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| {
            let value: serde_yaml_ng::Value =
                serde::Deserialize::deserialize(doc).expect("valid YAML document");
            serde_json::to_value(value).expect("YAML maps to JSON")
        })
        .filter(|doc| !doc.is_null())
        .collect()
}

/// `helm template` with the image and `--set` overrides; the output, failed or not.
pub fn template(sets: &[&str]) -> Output {
    let chart = chart();
    let mut args = vec![
        "template",
        RELEASE,
        chart.to_str().expect("utf-8 path"),
        "--namespace",
        NAMESPACE,
        "--kube-version",
        KUBE_VERSION,
    ];
    let image = format!("image.repository={IMAGE_REPOSITORY}");
    args.extend(["--set", image.as_str()]);
    for set in sets {
        args.extend(["--set", set]);
    }
    run_helm(&args)
}

/// The rendered objects of one kind.
pub fn objects<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

/// The only rendered object of a kind; fails the test unless there is exactly one.
pub fn one<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let found = objects(docs, kind);
    assert_eq!(found.len(), 1, "expected one {kind}, found {}", found.len());
    found[0]
}

/// The operator's container in the Deployment.
pub fn container(docs: &[Value]) -> &Value {
    &one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
}

/// The operator container's arguments.
pub fn args(docs: &[Value]) -> Vec<String> {
    container(docs)["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string arg").to_owned())
        .collect()
}
