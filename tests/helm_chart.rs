//! The Helm chart renders what the contract promises: least-privilege RBAC, a restricted pod,
//! flags the binary accepts, and a per-namespace mode without cluster-wide Secret access.
//!
//! Uses the helm in `$QAO_CONTROL_PLANE_BIN` (set by CI), else the one built by
//! `hack/build-control-plane.sh` (a no-op once built).
#![allow(clippy::expect_used)] // a test failing loudly on a broken fixture is the point

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

use quay_apitoken_operator::cli::{Cli, Command as CliCommand};
use serde::Deserialize;
use serde_json::{Value, json};

const RELEASE: &str = "qao";
const NAMESPACE: &str = "operators";
const FULLNAME: &str = "qao-quay-apitoken-operator";
const KUBE_VERSION: &str = "1.37.0";
/// No public image exists: every render names one, as every install must.
const IMAGE_REPOSITORY: &str = "registry.example.com/platform/quay-apitoken-operator";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn chart() -> PathBuf {
    root().join("deploy/helm/quay-apitoken-operator")
}

fn helm() -> &'static Path {
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

fn run_helm(args: &[&str]) -> Output {
    Command::new(helm()).args(args).output().expect("run helm")
}

/// Renders the chart with `--set` overrides; fails the test on a render error.
fn render(sets: &[&str]) -> Vec<Value> {
    let output = template(sets);
    assert!(
        output.status.success(),
        "helm template failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8 manifests");
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| {
            let value: serde_yaml::Value =
                serde::Deserialize::deserialize(doc).expect("valid YAML document");
            serde_json::to_value(value).expect("YAML maps to JSON")
        })
        .filter(|doc| !doc.is_null())
        .collect()
}

fn template(sets: &[&str]) -> Output {
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

fn objects<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn one<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let found = objects(docs, kind);
    assert_eq!(found.len(), 1, "expected one {kind}, found {}", found.len());
    found[0]
}

/// (apiGroup, resource, sorted verbs, resourceNames) per rule, so comparisons ignore order.
fn rules(role: &Value) -> BTreeSet<(String, String, Vec<String>, Vec<String>)> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = BTreeSet::new();
    for rule in role["rules"].as_array().expect("rules") {
        let mut verbs = strings(&rule["verbs"]);
        verbs.sort();
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                out.insert((
                    group.clone(),
                    resource,
                    verbs.clone(),
                    strings(&rule["resourceNames"]),
                ));
            }
        }
    }
    out
}

fn rule(group: &str, resource: &str, verbs: &[&str]) -> (String, String, Vec<String>, Vec<String>) {
    let mut verbs: Vec<String> = verbs.iter().map(|v| (*v).to_owned()).collect();
    verbs.sort();
    (group.to_owned(), resource.to_owned(), verbs, Vec::new())
}

fn operator_rules() -> BTreeSet<(String, String, Vec<String>, Vec<String>)> {
    [
        rule(
            "quay.herve4m.github.io",
            "apitokens",
            &["get", "list", "watch", "patch", "update"],
        ),
        rule(
            "quay.herve4m.github.io",
            "apitokens/status",
            &["get", "patch", "update"],
        ),
        rule(
            "quay.herve4m.github.io",
            "apitokens/finalizers",
            &["update"],
        ),
        rule(
            "quay.herve4m.github.io",
            "applications",
            &["get", "list", "watch", "patch", "update"],
        ),
        rule(
            "quay.herve4m.github.io",
            "applications/status",
            &["get", "patch", "update"],
        ),
        rule(
            "quay.herve4m.github.io",
            "applications/finalizers",
            &["update"],
        ),
        rule(
            "",
            "secrets",
            &[
                "get", "list", "watch", "create", "patch", "update", "delete",
            ],
        ),
        rule("events.k8s.io", "events", &["create", "patch"]),
        rule("", "events", &["create", "patch"]),
    ]
    .into_iter()
    .collect()
}

fn container(docs: &[Value]) -> &Value {
    &one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
}

fn args(docs: &[Value]) -> Vec<String> {
    container(docs)["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string arg").to_owned())
        .collect()
}

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

/// The pod meets the `restricted` Pod Security Standard, so it runs in locked-down namespaces.
#[test]
fn pod_runs_restricted() {
    let docs = render(&[]);
    let pod = &one(&docs, "Deployment")["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let security = &container(&docs)["securityContext"];
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["runAsUser"], 65532);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
}

/// Two replicas with leader election, probes on the named port, identity from the downward API.
#[test]
fn deployment_runs_two_replicas_with_leader_election_and_probes() {
    let docs = render(&[]);
    let deployment = one(&docs, "Deployment");
    assert_eq!(deployment["metadata"]["namespace"], NAMESPACE);
    assert_eq!(deployment["spec"]["replicas"], 2);
    let container = container(&docs);
    let args = args(&docs);
    assert_eq!(args[0], "run");
    assert!(args.contains(&"--leader-elect=true".to_owned()), "{args:?}");
    assert!(
        args.contains(&format!("--lease-name={FULLNAME}")),
        "{args:?}"
    );
    assert!(
        !args.iter().any(|a| a.starts_with("--namespaces")),
        "all namespaces by default"
    );
    assert_eq!(
        container["ports"],
        json!([{"name": "http-metrics", "containerPort": 8080, "protocol": "TCP"}])
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"],
        json!({"path": "/healthz", "port": "http-metrics"})
    );
    assert_eq!(
        container["readinessProbe"]["httpGet"],
        json!({"path": "/readyz", "port": "http-metrics"})
    );
    let env = container["env"].as_array().expect("env");
    for (name, path) in [
        ("POD_NAMESPACE", "metadata.namespace"),
        ("POD_NAME", "metadata.name"),
    ] {
        let var = env
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(var["valueFrom"]["fieldRef"]["fieldPath"], path);
    }
    assert!(container["resources"]["requests"]["memory"].is_string());
    assert!(container["resources"]["limits"]["memory"].is_string());
}

/// Every flag the chart passes is one the binary accepts, with the values the chart meant.
#[test]
fn rendered_args_parse_with_the_operator_cli() {
    for sets in [
        &[][..],
        &[
            "watchNamespaces={team-b,team-a}",
            "crossNamespaceRefs=deny",
            "concurrency=7",
        ][..],
    ] {
        let docs = render(sets);
        let argv = std::iter::once("quay-apitoken-operator".to_owned()).chain(args(&docs));
        let command = Cli::try_parse_command(argv).unwrap_or_else(|e| panic!("{sets:?}: {e}"));
        let CliCommand::Run(run) = command else {
            panic!("chart must start the controller");
        };
        assert!(run.leader_elect);
        assert_eq!(run.lease_name, FULLNAME);
        assert_eq!(run.metrics_addr.port(), 8080);
        if sets.is_empty() {
            assert_eq!(run.watch_namespaces(), None);
            assert_eq!(run.concurrency, 4);
        } else {
            assert_eq!(
                run.watch_namespaces(),
                Some(&["team-a".to_owned(), "team-b".to_owned()][..])
            );
            assert_eq!(run.concurrency, 7);
            assert_eq!(format!("{:?}", run.cross_namespace_refs), "Deny");
        }
    }
}

/// Cluster-wide mode: one ClusterRole with exactly the verbs the controller needs.
#[test]
fn cluster_role_grants_exactly_the_needed_verbs() {
    let docs = render(&[]);
    let role = one(&docs, "ClusterRole");
    assert_eq!(rules(role), operator_rules());
    let binding = one(&docs, "ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}])
    );
    assert_eq!(one(&docs, "ServiceAccount")["metadata"]["name"], FULLNAME);
}

/// Leases are reachable only in the release namespace, and only our own Lease can be updated.
#[test]
fn leader_election_role_is_limited_to_our_lease() {
    let docs = render(&[]);
    let roles = objects(&docs, "Role");
    assert_eq!(
        roles.len(),
        1,
        "only the leader-election Role in cluster-wide mode"
    );
    let role = roles[0];
    assert_eq!(role["metadata"]["namespace"], NAMESPACE);
    let expected: BTreeSet<_> = [
        rule("coordination.k8s.io", "leases", &["create"]),
        (
            "coordination.k8s.io".to_owned(),
            "leases".to_owned(),
            vec!["get".to_owned(), "update".to_owned()],
            vec![FULLNAME.to_owned()],
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(rules(role), expected);
    let binding = one(&docs, "RoleBinding");
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    assert_eq!(binding["metadata"]["namespace"], NAMESPACE);
    // No other object may touch leases.
    let cluster_rules = rules(one(&docs, "ClusterRole"));
    assert!(
        cluster_rules
            .iter()
            .all(|(_, resource, _, _)| resource != "leases")
    );
}

/// Namespaced mode: a Role per watched namespace and no cluster-wide grant at all.
#[test]
fn namespaced_mode_grants_per_namespace_only() {
    let docs = render(&["watchNamespaces={team-a,team-b}"]);
    assert!(
        objects(&docs, "ClusterRole").is_empty(),
        "no ClusterRole in namespaced mode"
    );
    assert!(
        objects(&docs, "ClusterRoleBinding").is_empty(),
        "no ClusterRoleBinding in namespaced mode"
    );
    let operator_roles: Vec<&Value> = objects(&docs, "Role")
        .into_iter()
        .filter(|r| r["metadata"]["name"] == FULLNAME)
        .collect();
    let namespaces: BTreeSet<&str> = operator_roles
        .iter()
        .map(|r| r["metadata"]["namespace"].as_str().expect("namespace"))
        .collect();
    assert_eq!(namespaces, BTreeSet::from(["team-a", "team-b"]));
    for role in &operator_roles {
        assert_eq!(rules(role), operator_rules());
    }
    for namespace in ["team-a", "team-b"] {
        let binding = objects(&docs, "RoleBinding")
            .into_iter()
            .find(|b| b["metadata"]["namespace"] == namespace)
            .unwrap_or_else(|| panic!("no RoleBinding in {namespace}"));
        assert_eq!(
            binding["roleRef"],
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": FULLNAME})
        );
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}])
        );
    }
    // Secrets are granted only inside the watched namespaces.
    for doc in &docs {
        let kind = doc["kind"].as_str().unwrap_or_default();
        if kind == "Role" || kind == "ClusterRole" {
            let grants_secrets = rules(doc)
                .iter()
                .any(|(_, resource, _, _)| resource == "secrets");
            let namespace = doc["metadata"]["namespace"].as_str();
            assert!(
                !grants_secrets || matches!(namespace, Some("team-a" | "team-b")),
                "{kind} {:?} grants secrets outside the watched namespaces",
                doc["metadata"]["name"]
            );
        }
    }
    assert!(args(&docs).contains(&"--namespaces=team-a,team-b".to_owned()));
}

/// ServiceMonitor and PodDisruptionBudget are opt-in, and point at the operator's pods.
#[test]
fn optional_monitoring_and_disruption_budget() {
    let docs = render(&[]);
    assert!(objects(&docs, "ServiceMonitor").is_empty());
    assert!(objects(&docs, "PodDisruptionBudget").is_empty());
    let service = one(&docs, "Service");
    assert_eq!(service["spec"]["ports"][0]["targetPort"], "http-metrics");

    let docs = render(&[
        "metrics.serviceMonitor.enabled=true",
        "podDisruptionBudget.enabled=true",
    ]);
    let selector = json!({"app.kubernetes.io/name": "quay-apitoken-operator", "app.kubernetes.io/instance": RELEASE});
    let monitor = one(&docs, "ServiceMonitor");
    assert_eq!(monitor["spec"]["selector"]["matchLabels"], selector);
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "http-metrics");
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");
    let budget = one(&docs, "PodDisruptionBudget");
    assert_eq!(budget["spec"]["minAvailable"], 1);
    assert_eq!(budget["spec"]["selector"]["matchLabels"], selector);
    assert_eq!(
        one(&docs, "Service")["metadata"]["labels"]["app.kubernetes.io/instance"],
        RELEASE
    );
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

/// No public image exists, so the chart names none: without `image.repository` it refuses
/// to render and says how to get an image; with one, that is what the pods run.
#[test]
fn the_image_repository_is_the_users_to_set() {
    let chart = chart();
    let output = run_helm(&[
        "template",
        RELEASE,
        chart.to_str().expect("utf-8 path"),
        "--kube-version",
        KUBE_VERSION,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "rendered without an image");
    for words in [
        "image.repository is not set",
        "Dockerfile",
        "--set image.repository=",
    ] {
        assert!(stderr.contains(words), "{words:?} not in: {stderr}");
    }
    let docs = render(&[]);
    assert_eq!(
        container(&docs)["image"],
        format!("{IMAGE_REPOSITORY}:0.1.0")
    );
    let docs = render(&["image.tag=dev-1"]);
    assert_eq!(
        container(&docs)["image"],
        format!("{IMAGE_REPOSITORY}:dev-1")
    );
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

/// Metric names in a PromQL expression (identifiers starting with `quay_apitoken_`).
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("quay_apitoken_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        names.push(name);
    }
    names
}

/// The PrometheusRule is opt-in; its four alerts select this release's series by the job the
/// ServiceMonitor gives them, take their thresholds from the values, and use only metrics the
/// operator exports (with their OpenMetrics suffixes).
#[test]
fn prometheus_rule_is_opt_in_and_uses_exported_metrics() {
    assert!(objects(&render(&[]), "PrometheusRule").is_empty());
    let docs = render(&["metrics.prometheusRule.enabled=true"]);
    let rule = one(&docs, "PrometheusRule");
    assert_eq!(rule["metadata"]["namespace"], NAMESPACE);
    let rules = rule["spec"]["groups"][0]["rules"]
        .as_array()
        .expect("rules");
    let alerts: Vec<&str> = rules.iter().filter_map(|r| r["alert"].as_str()).collect();
    assert_eq!(
        alerts,
        [
            "QuayApiTokenNotReady",
            "QuayApiTokenExpiringSoon",
            "QuayApiTokenQuayErrors",
            "QuayApiTokenNoLeader"
        ]
    );
    // One series of each family the alerts use, so that the exposition names every sample.
    let metrics = quay_apitoken_operator::metrics::Metrics::new();
    metrics.reconcile_finished("ok", Duration::from_millis(5));
    metrics.quay_request("GET /api/v1/discovery", Some(503), Duration::from_millis(5));
    metrics.set_apitokens_ready(1, 1);
    metrics.set_schedule("team-a", "robot", Some((2.0e9, 1.9e9)));
    metrics.set_leader(true);
    let exported = metrics.encode();
    let samples: BTreeSet<&str> = exported
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let job = format!("job=\"{FULLNAME}-metrics\"");
    for rule in rules {
        let expr = rule["expr"].as_str().expect("expr");
        assert!(expr.contains(&job), "{expr} does not select {job}");
        assert_eq!(rule["labels"]["severity"], "warning");
        assert!(rule["annotations"]["summary"].is_string());
        assert!(rule["annotations"]["description"].is_string());
        let names = metric_names(expr);
        assert!(!names.is_empty(), "{expr}");
        for name in names {
            assert!(
                samples.contains(name.as_str()),
                "{name} is not a series the operator exports: {samples:?}"
            );
        }
    }
    let by_name = |docs: &[Value], alert: &str| -> Value {
        one(docs, "PrometheusRule")["spec"]["groups"][0]["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .find(|r| r["alert"] == alert)
            .cloned()
            .unwrap_or_else(|| panic!("no {alert}"))
    };
    assert_eq!(by_name(&docs, "QuayApiTokenNotReady")["for"], "10m");
    assert!(
        by_name(&docs, "QuayApiTokenExpiringSoon")["expr"]
            .as_str()
            .is_some_and(|e| e.ends_with("< 7 * 86400"))
    );
    assert!(
        by_name(&docs, "QuayApiTokenQuayErrors")["expr"]
            .as_str()
            .is_some_and(|e| e.trim_end().ends_with("> 0.1"))
    );

    let docs = render(&[
        "metrics.prometheusRule.enabled=true",
        "metrics.prometheusRule.notReadyFor=30m",
        "metrics.prometheusRule.expiresWithinDays=14",
        "metrics.prometheusRule.selector=service=\"my-operator\"",
        "metrics.prometheusRule.alertLabels.severity=critical",
        "metrics.prometheusRule.labels.release=prom",
    ]);
    let not_ready = by_name(&docs, "QuayApiTokenNotReady");
    assert_eq!(not_ready["for"], "30m");
    assert_eq!(not_ready["labels"]["severity"], "critical");
    assert!(
        not_ready["expr"]
            .as_str()
            .is_some_and(|e| e.contains("service=\"my-operator\"") && !e.contains("job="))
    );
    assert!(
        by_name(&docs, "QuayApiTokenExpiringSoon")["expr"]
            .as_str()
            .is_some_and(|e| e.ends_with("< 14 * 86400"))
    );
    assert_eq!(
        one(&docs, "PrometheusRule")["metadata"]["labels"]["release"],
        "prom"
    );
}

/// The ServiceMonitor keeps the series' own labels, so a per-ApiToken series keeps the
/// ApiToken's namespace rather than the operator's.
#[test]
fn service_monitor_keeps_the_series_labels() {
    let docs = render(&["metrics.serviceMonitor.enabled=true"]);
    assert_eq!(
        one(&docs, "ServiceMonitor")["spec"]["endpoints"][0]["honorLabels"],
        true
    );
}

// ---- server-side dry run with the prometheus-operator kinds --------------------------------

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
        .map(|doc| serde_yaml::to_string(doc).expect("to YAML"))
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
    let rendered = serde_yaml::Deserializer::from_str(&yaml)
        .map(|doc| serde_yaml::Value::deserialize(doc).expect("valid YAML document"))
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
