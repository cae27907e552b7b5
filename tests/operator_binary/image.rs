//! The operator's image, run as a restricted pod runs it. `hack/build-image.sh` builds it and
//! `.ci/run` names it in `QAO_OPERATOR_IMAGE`; the tests are ignored in a plain `cargo test`,
//! which has no image to run (`cargo test --test operator_binary image -- --ignored`).

use std::process::{Command, Output, Stdio};

use crate::process::{OperatorProcess, podman, ulimits};
use crate::world::{PATIENCE, World};

fn image() -> String {
    std::env::var("QAO_OPERATOR_IMAGE")
        .ok()
        .filter(|i| !i.is_empty())
        .unwrap_or_else(|| panic!("set QAO_OPERATOR_IMAGE (hack/build-image.sh prints it)"))
}

/// Runs the image once with `args`, restricted like the chart's pod, and returns its output.
fn run_once(args: &[&str]) -> Output {
    let mut command: Command = podman();
    command
        .args([
            "run",
            "--rm",
            "--network",
            "none",
            "--read-only",
            "--cap-drop",
            "ALL",
        ])
        .args([
            "--user",
            "65532:65532",
            "--security-opt",
            "no-new-privileges",
        ])
        .args(ulimits())
        .arg(image())
        .args(args)
        .stdin(Stdio::null());
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run podman: {e}"))
}

/// `--help` works in the image: the binary and its libraries are all there.
#[test]
#[ignore = "needs QAO_OPERATOR_IMAGE from hack/build-image.sh"]
fn the_image_prints_its_help() {
    let out = run_once(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "--help failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Usage:") && text.contains("run"), "{text}");
}

/// `crd` in the image prints exactly the files users install from `crds/`.
#[test]
#[ignore = "needs QAO_OPERATOR_IMAGE from hack/build-image.sh"]
fn the_image_prints_the_crds_of_the_repository() {
    let out = run_once(&["crd"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = [
        quay_apitoken_operator::crd::CRD_FILE,
        quay_apitoken_operator::application::CRD_FILE,
    ];
    let on_disk: String = files
        .iter()
        .map(|f| std::fs::read_to_string(root.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")))
        .collect();
    assert!(
        String::from_utf8_lossy(&out.stdout) == on_disk,
        "the image's `crd` differs from crds/"
    );
}

/// `run` in the image, read-only and without capabilities as uid 65532, mints a token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs QAO_OPERATOR_IMAGE from hack/build-image.sh"]
async fn the_image_runs_the_operator_until_an_apitoken_is_ready() {
    let world = World::start("image").await;
    let mut operator = OperatorProcess::start_image(
        "image",
        &image(),
        world.admin_kubeconfig(),
        &["--namespaces", &world.ns.name],
    );
    operator.wait_serving().await;
    operator.wait_ready().await;
    world.create_token("from-image").await;
    world.wait_ready("from-image", PATIENCE).await;
    let token = world.access_token("from-image").await;
    assert!(
        token.is_some_and(|t| world.is_live_in_quay(&t)),
        "the result Secret holds a live token"
    );
    world.delete_and_wait("from-image").await;
}
