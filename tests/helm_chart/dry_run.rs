//! Server-side dry run with the prometheus-operator kinds: the API server accepts every object
//! the chart renders with monitoring on.

use std::path::Path;
use std::process::Command;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::render::{FULLNAME, IMAGE_REPOSITORY, KUBE_VERSION, RELEASE, chart, run_helm};

/// Marks the stand-in CRDs this test installs, so it never replaces a real one.
const STAND_IN_LABEL: &str = "quay-apitoken-operator.test/stand-in";

/// Minimal structural CRDs for the two prometheus-operator kinds the chart can render, written
/// for this test: the fields the chart uses, typed, and unknown fields refused by kubectl's
/// strict validation, so the dry run checks the shape.
fn monitoring_crds() -> String {
    let crd = |plural: &str, kind: &str, spec: Value| {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {
                "name": format!("{plural}.monitoring.coreos.com"),
                "labels": {STAND_IN_LABEL: "true"},
            },
            "spec": {
                "group": "monitoring.coreos.com",
                "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase(), "listKind": format!("{kind}List")},
                "scope": "Namespaced",
                "versions": [{
                    "name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "properties": {"spec": spec},
                        "required": ["spec"],
                    }},
                }],
            },
        })
    };
    let strings = json!({"type": "object", "additionalProperties": {"type": "string"}});
    let rule = crd(
        "prometheusrules",
        "PrometheusRule",
        json!({
            "type": "object",
            "properties": {"groups": {"type": "array", "items": {
                "type": "object",
                "required": ["name", "rules"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "interval": {"type": "string"},
                    "rules": {"type": "array", "items": {
                        "type": "object",
                        "required": ["expr"],
                        "properties": {
                            "alert": {"type": "string"},
                            "record": {"type": "string"},
                            "expr": {"x-kubernetes-int-or-string": true},
                            "for": {"type": "string", "pattern": "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"},
                            "labels": strings,
                            "annotations": strings,
                        },
                    }},
                },
            }}},
        }),
    );
    let monitor = crd(
        "servicemonitors",
        "ServiceMonitor",
        json!({
            "type": "object",
            "required": ["selector"],
            "properties": {
                "selector": {"type": "object", "properties": {"matchLabels": strings}},
                "namespaceSelector": {"type": "object", "properties": {
                    "matchNames": {"type": "array", "items": {"type": "string"}},
                }},
                "endpoints": {"type": "array", "items": {"type": "object", "properties": {
                    "port": {"type": "string"},
                    "path": {"type": "string"},
                    "interval": {"type": "string"},
                    "scrapeTimeout": {"type": "string"},
                    "honorLabels": {"type": "boolean"},
                }}},
            },
        }),
    );
    [rule, monitor]
        .iter()
        .map(|doc| serde_yaml_ng::to_string(doc).expect("to YAML"))
        .collect::<Vec<_>>()
        .join("---\n")
}

/// Runs the test cluster's kubectl: (success, stdout, stderr).
fn kubectl(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write;
    let bin = quay_testenv::bin_dir().unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(bin.join("kubectl"))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run kubectl");
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.unwrap_or_default().as_bytes())
            .expect("kubectl stdin");
    }
    let out = child.wait_with_output().expect("kubectl");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Installs the stand-in CRDs unless a real prometheus-operator already provides the kinds
/// (an existing cluster named by QAO_TEST_KUBECONFIG); waits until they are Established.
fn ensure_monitoring_crds(kubeconfig: &Path) {
    for plural in ["prometheusrules", "servicemonitors"] {
        let name = format!("{plural}.monitoring.coreos.com");
        let (exists, labels, _) = kubectl(
            kubeconfig,
            &["get", "crd", &name, "-o", "jsonpath={.metadata.labels}"],
            None,
        );
        if exists && !labels.contains(STAND_IN_LABEL) {
            return; // the real CRDs: use them, never replace them
        }
    }
    let (ok, stdout, stderr) = kubectl(kubeconfig, &["apply", "-f", "-"], Some(&monitoring_crds()));
    assert!(
        ok,
        "installing the stand-in CRDs failed: {stderr}\n{stdout}"
    );
    let (ok, stdout, stderr) = kubectl(
        kubeconfig,
        &[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/prometheusrules.monitoring.coreos.com",
            "crd/servicemonitors.monitoring.coreos.com",
        ],
        None,
    );
    assert!(
        ok,
        "the stand-in CRDs were not Established: {stderr}\n{stdout}"
    );
    // Established is not yet served by discovery: kubectl maps a kind to its resource through
    // discovery, and a mapping it cannot find fails the apply ("ensure CRDs are installed").
    let started = std::time::Instant::now();
    loop {
        let (ok, stdout, _) = kubectl(
            kubeconfig,
            &[
                "api-resources",
                "--api-group=monitoring.coreos.com",
                "-o",
                "name",
            ],
            None,
        );
        if ok && stdout.contains("prometheusrules") && stdout.contains("servicemonitors") {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "discovery does not serve the stand-in CRDs after 60 s: {stdout}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// With the PrometheusRule and the ServiceMonitor enabled, the API server accepts every object
/// the chart renders (server-side dry run, strict field validation) and stores none.
#[test]
fn prometheus_rule_passes_the_server_side_dry_run() {
    let cluster = quay_testenv::shared(quay_testenv::Options::default());
    let kubeconfig = cluster.kubeconfig_path();
    ensure_monitoring_crds(kubeconfig);
    let namespace = format!("helm-rule-{:06x}", rand::random::<u32>() & 0xff_ffff);
    let (ok, _, stderr) = kubectl(kubeconfig, &["create", "namespace", &namespace], None);
    assert!(ok, "cannot create namespace {namespace}: {stderr}");

    let chart = chart();
    let image = format!("image.repository={IMAGE_REPOSITORY}");
    let output = run_helm(&[
        "template",
        RELEASE,
        chart.to_str().expect("utf-8 path"),
        "--namespace",
        &namespace,
        "--kube-version",
        KUBE_VERSION,
        "--include-crds",
        "--set",
        &image,
        "--set",
        "metrics.prometheusRule.enabled=true",
        "--set",
        "metrics.serviceMonitor.enabled=true",
    ]);
    assert!(
        output.status.success(),
        "helm template failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let yaml = String::from_utf8(output.stdout).expect("utf-8 manifests");
    let rendered = serde_yaml_ng::Deserializer::from_str(&yaml)
        .map(|doc| serde_yaml_ng::Value::deserialize(doc).expect("valid YAML document"))
        .filter(|doc| !doc.is_null())
        .count();
    let (ok, stdout, stderr) = kubectl(
        kubeconfig,
        &["apply", "--dry-run=server", "--validate=strict", "-f", "-"],
        Some(&yaml),
    );
    let (stored, _, _) = kubectl(
        kubeconfig,
        &["get", "prometheusrule", FULLNAME, "-n", &namespace],
        None,
    );
    let _ = kubectl(
        kubeconfig,
        &["delete", "namespace", &namespace, "--wait=false"],
        None,
    );
    assert!(ok, "the API server refused the chart: {stderr}\n{stdout}");
    let accepted: Vec<&str> = stdout
        .lines()
        .filter(|l| l.ends_with("(server dry run)"))
        .collect();
    assert_eq!(accepted.len(), rendered, "every object accepted:\n{stdout}");
    for kind in [
        "prometheusrule.monitoring.coreos.com",
        "servicemonitor.monitoring.coreos.com",
    ] {
        assert!(
            accepted
                .iter()
                .any(|l| l.starts_with(&format!("{kind}/{FULLNAME} "))),
            "{kind} not accepted:\n{stdout}"
        );
    }
    assert!(!stored, "a dry run must not create the PrometheusRule");

    // The check has teeth: a rule the schema does not allow is refused.
    let bad = json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "bad", "namespace": "default"},
        "spec": {"groups": [{"name": "g", "rules": [{"alert": "A", "expression": "up == 0"}]}]},
    });
    let (ok, _, stderr) = kubectl(
        kubeconfig,
        &["apply", "--dry-run=server", "--validate=strict", "-f", "-"],
        Some(&bad.to_string()),
    );
    assert!(!ok, "a rule without expr was accepted");
    assert!(
        stderr.contains("expr") || stderr.contains("expression"),
        "{stderr}"
    );
}
