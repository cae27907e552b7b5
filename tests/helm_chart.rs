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

use quay_apitoken_operator::cli::{Cli, Command as CliCommand};
use serde_json::{Value, json};

const RELEASE: &str = "qao";
const NAMESPACE: &str = "operators";
const FULLNAME: &str = "qao-quay-apitoken-operator";
const KUBE_VERSION: &str = "1.37.0";

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
        let mut args = vec!["lint", chart, "--strict", "--kube-version", KUBE_VERSION];
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
