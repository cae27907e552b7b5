//! The chart as an install meets it: `helm lint`, values refused at install time, generated
//! copies in step with their sources, and metadata that names only this project.

use std::process::Command;

use crate::render::{
    IMAGE_REPOSITORY, KUBE_VERSION, args, chart, helm, objects, render, root, run_helm, template,
};

/// `helm lint` is what chart repositories run; both modes must pass it.
#[test]
fn chart_passes_helm_lint_in_both_modes() {
    let chart = chart();
    let chart = chart.to_str().expect("utf-8 path");
    for extra in [&[][..], &["--set", "watchNamespaces={team-a,team-b}"][..]] {
        let image = format!("image.repository={IMAGE_REPOSITORY}");
        let mut args = vec![
            "lint",
            chart,
            "--strict",
            "--kube-version",
            KUBE_VERSION,
            "--set",
            &image,
            "--set",
            "metrics.prometheusRule.enabled=true",
        ];
        args.extend_from_slice(extra);
        let output = run_helm(&args);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "helm lint {extra:?}: {stdout}");
        assert!(stdout.contains("0 chart(s) failed"), "{stdout}");
    }
}

/// Settings that would break the operator are refused at install time, naming the value.
#[test]
fn unsafe_or_invalid_values_are_refused() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["leaderElection.enabled=false"],
            "replicaCount > 1 needs leaderElection.enabled=true",
        ),
        (
            &["leaderElection.renewDeadlineSeconds=20"],
            "renewDeadlineSeconds must be less than",
        ),
        (&["crossNamespaceRefs=maybe"], "/crossNamespaceRefs"),
        (&["watchNamespaces={Team_A}"], "/watchNamespaces/0"),
        (&["logging.format=xml"], "/logging/format"),
        (&["concurrency=0"], "/concurrency"),
        (
            &["image.repository=registry.example.com/operator:1.0"],
            "/image/repository",
        ),
        (
            &["metrics.prometheusRule.quayErrorRatio=2"],
            "/metrics/prometheusRule/quayErrorRatio",
        ),
        (
            &["metrics.prometheusRule.notReadyFor=ten"],
            "/metrics/prometheusRule/notReadyFor",
        ),
    ];
    for (sets, message) in cases {
        let output = template(sets);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{sets:?} was accepted");
        assert!(stderr.contains(message), "{sets:?}: {stderr}");
    }
    // A single replica without election is a legitimate choice.
    let docs = render(&["leaderElection.enabled=false", "replicaCount=1"]);
    assert!(args(&docs).contains(&"--leader-elect=false".to_owned()));
    assert!(
        objects(&docs, "Role").is_empty(),
        "no leases access without election"
    );
}

/// The chart's CRD copy and the plain manifests are generated; they must match their sources.
#[test]
fn generated_manifests_are_up_to_date() {
    let output = Command::new("bash")
        .arg(root().join("hack/render-manifests.sh"))
        .arg("--check")
        .env("HELM", helm())
        .output()
        .expect("run hack/render-manifests.sh");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest =
        std::fs::read_to_string(root().join("deploy/manifests/quay-apitoken-operator.yaml"))
            .expect("manifest committed");
    assert!(
        manifest.contains("kind: CustomResourceDefinition"),
        "manifests carry the CRD"
    );
    assert!(manifest.contains("pod-security.kubernetes.io/enforce: restricted"));
}

/// The chart names only this project: no home, sources or image under someone else's account.
#[test]
fn chart_metadata_points_nowhere_else() {
    let chart_yaml = std::fs::read_to_string(chart().join("Chart.yaml")).expect("Chart.yaml");
    let values = std::fs::read_to_string(chart().join("values.yaml")).expect("values.yaml");
    for (file, text) in [("Chart.yaml", &chart_yaml), ("values.yaml", &values)] {
        for forbidden in ["github.com/", "ghcr.io/", "docker.io/", "quay.io/"] {
            assert!(
                !text.contains(forbidden),
                "{file} points at {forbidden}…, which is not this project's"
            );
        }
    }
    assert!(!chart_yaml.contains("\nhome:") && !chart_yaml.contains("\nsources:"));
}
