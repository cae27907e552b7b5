//! The newcomer's path: `make demo` mints the documented example's token and leaves nothing
//! running, and every manifest in `examples/` is one the API server accepts.

#[path = "support/mod.rs"]
mod support;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams, ValidationDirective};
use quay_apitoken_operator::application::Application;
use quay_apitoken_operator::crd::ApiToken;
use quay_apitoken_operator::reference_grants::ReferenceGrant;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The value printed after `label` on the first line that starts with it (after indentation).
fn field<'a>(output: &'a str, label: &str) -> Option<&'a str> {
    output
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .map(str::trim)
}

/// Processes that belong to one demo run: their command line names its folders, or they
/// inherited its `QAO_DEMO_DIR` marker.
fn demo_processes(work: &str, plane: &str) -> Vec<String> {
    let marker = format!("QAO_DEMO_DIR={work}");
    quay_testenv::procs::processes_where(|cmdline, environ| {
        environ
            .split(|b| *b == 0)
            .any(|var| var == marker.as_bytes())
            || cmdline.contains(work)
            || cmdline.contains(plane)
    })
}

/// The demo is the first thing a newcomer runs: it must mint the seed example's token, show
/// every key of the result Secret, and stop everything it started.
#[test]
fn demo_mints_the_example_token_and_leaves_nothing_behind() {
    let started = Instant::now();
    let out = Command::new("bash")
        .arg("hack/demo.sh")
        .arg("--non-interactive")
        .current_dir(repo())
        .env_remove("DEMO_KEEP")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run hack/demo.sh: {e}"));
    let wall = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!(
        "{stdout}\nhack/demo.sh --non-interactive took {:.1}s",
        wall.as_secs_f64()
    );
    assert!(
        out.status.success(),
        "the demo failed ({}):\n{stdout}\n{stderr}",
        out.status
    );

    let ready_row = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|cols| cols.first() == Some(&"apitoken-sample"));
    let ready_row = ready_row.unwrap_or_else(|| panic!("no apitoken-sample row:\n{stdout}"));
    assert_eq!(
        ready_row.get(1),
        Some(&"True"),
        "READY column of {ready_row:?}"
    );
    assert_eq!(
        ready_row.get(2),
        Some(&"default/quay-credentials-secret"),
        "SECRET column of {ready_row:?}"
    );

    let quay_url = field(&stdout, "Quay ")
        .and_then(|v| v.split_whitespace().next())
        .unwrap_or_else(|| panic!("the demo did not print the emulator's URL:\n{stdout}"));
    let access = field(&stdout, "accessToken:").unwrap_or_default();
    assert!(
        access.len() >= 20 && access.chars().all(|c| c.is_ascii_alphanumeric()),
        "accessToken is not a Quay token: {access:?}\n{stdout}"
    );
    assert_eq!(
        field(&stdout, "token:"),
        Some(access),
        "token copies accessToken"
    );
    assert_eq!(field(&stdout, "host:"), Some(quay_url));
    assert_eq!(field(&stdout, "validateCerts:"), Some("false"));
    assert_eq!(field(&stdout, "timeout:"), Some("10"));
    assert!(
        stdout.contains("quay_apitoken_tokens_minted_total 1\n"),
        "the example must mint exactly one token:\n{stdout}"
    );

    let work = field(&stdout, "kubeconfig")
        .and_then(|p| p.strip_suffix("/kubeconfig"))
        .unwrap_or_else(|| panic!("the demo did not print its kubeconfig:\n{stdout}"))
        .to_owned();
    let plane = field(&stdout, "control plane dir")
        .unwrap_or_else(|| panic!("the demo did not print the control plane's folder:\n{stdout}"))
        .to_owned();
    assert!(work.contains("qao-demo.") && plane.contains("quay-testenv-"));
    // The script waits for its children; the grace is for the guards' 0.3 s polling.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = demo_processes(&work, &plane);
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the demo left processes behind: {left:#?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!Path::new(&work).exists(), "{work} was not removed");
    assert!(!Path::new(&plane).exists(), "{plane} was not removed");
}

fn example_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .unwrap_or_else(|e| panic!("cannot list examples/: {e}"))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

/// Every YAML document of a file, empty ones dropped.
fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    assert!(
        text.starts_with('#'),
        "{path:?} should open with a comment saying what it shows"
    );
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{path:?}: {e}")))
        .filter(|v| !v.is_null())
        .collect()
}

/// Examples rot silently; every one must pass the API server's schema and CEL rules with
/// strict field validation, so a typo in a field name fails here rather than for a user.
#[tokio::test]
async fn every_example_is_accepted_by_the_api_server() {
    let files = example_files();
    let names: Vec<String> = files
        .iter()
        .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
        .collect();
    for expected in [
        "apitoken-sample.yaml",
        "quay-credentials.yaml",
        "application-secret.yaml",
        "apitoken-inline-client-id.yaml",
        "apitoken-for-user.yaml",
        "apitoken-preserve.yaml",
        "apitoken-cross-namespace.yaml",
        "apitoken-rotate.yaml",
        "apitoken-lifetime.yaml",
        "application-sample.yaml",
        "application-with-apitoken.yaml",
        "application-token-connection.yaml",
        "referencegrant.yaml",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "examples/{expected} is missing"
        );
    }

    let ns = support::TestNs::new("examples").await;
    // Examples name namespaces of their own; each gets a unique stand-in so that the test
    // can run against a shared cluster.
    let mut stand_ins: BTreeMap<String, String> = BTreeMap::new();
    let params = PatchParams::apply("qao-examples-test")
        .dry_run()
        .validation(ValidationDirective::Strict);
    let (mut tokens, mut applications) = (0, 0);
    for file in &files {
        for mut doc in documents(file) {
            let kind = doc["kind"].as_str().unwrap_or_default().to_owned();
            let name = doc["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(!name.is_empty(), "{file:?}: a {kind} without a name");
            if kind == "Namespace" {
                let created = quay_testenv::create_namespace(&ns.client, &name)
                    .await
                    .unwrap_or_else(|e| panic!("{file:?}: namespace {name}: {e}"));
                stand_ins.insert(name, created);
                continue;
            }
            let grant_froms: Vec<String> = (0..doc["spec"]["from"].as_array().map_or(0, Vec::len))
                .map(|i| format!("/spec/from/{i}/namespace"))
                .collect();
            for path in [
                "/metadata/namespace",
                "/spec/connSecretRef/namespace",
                "/spec/clientIdFrom/namespace",
                "/spec/retSecretRef/namespace",
            ]
            .into_iter()
            .chain(grant_froms.iter().map(String::as_str))
            {
                if let Some(v) = doc.pointer_mut(path)
                    && let Some(original) = v.as_str()
                {
                    let mapped = stand_ins.get(original).unwrap_or_else(|| {
                        panic!("{file:?}: {path} names {original}, which no example creates")
                    });
                    *v = Value::String(mapped.clone());
                }
            }
            let target = doc["metadata"]["namespace"]
                .as_str()
                .unwrap_or(&ns.name)
                .to_owned();
            let result = match kind.as_str() {
                "ApiToken" => {
                    serde_json::from_value::<ApiToken>(doc.clone())
                        .unwrap_or_else(|e| panic!("{file:?}: not an ApiToken: {e}"));
                    tokens += 1;
                    Api::<ApiToken>::namespaced(ns.client.clone(), &target)
                        .patch(&name, &params, &Patch::Apply(&doc))
                        .await
                        .map(|_| ())
                }
                "Application" => {
                    serde_json::from_value::<Application>(doc.clone())
                        .unwrap_or_else(|e| panic!("{file:?}: not an Application: {e}"));
                    applications += 1;
                    Api::<Application>::namespaced(ns.client.clone(), &target)
                        .patch(&name, &params, &Patch::Apply(&doc))
                        .await
                        .map(|_| ())
                }
                "ReferenceGrant" => Api::<ReferenceGrant>::namespaced(ns.client.clone(), &target)
                    .patch(&name, &params, &Patch::Apply(&doc))
                    .await
                    .map(|_| ()),
                "Secret" => Api::<Secret>::namespaced(ns.client.clone(), &target)
                    .patch(&name, &params, &Patch::Apply(&doc))
                    .await
                    .map(|_| ()),
                other => panic!("{file:?}: unexpected kind {other}"),
            };
            if let Err(e) = result {
                panic!("{file:?}: the API server rejected {kind} {name}: {e}");
            }
        }
    }
    assert_eq!(
        tokens, 9,
        "one ApiToken per scenario file, and one beside two of the Applications"
    );
    assert_eq!(applications, 3, "one Application per application example");
}
