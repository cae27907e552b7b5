//! The Deployment: a restricted pod, leader election, probes, flags the binary accepts, and
//! the image the user names.

use quay_apitoken_operator::cli::{Cli, Command as CliCommand};
use serde_json::json;

use crate::render::{
    FULLNAME, IMAGE_REPOSITORY, KUBE_VERSION, NAMESPACE, RELEASE, args, chart, container, one,
    render, run_helm,
};

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
