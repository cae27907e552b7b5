//! The CRDs in `crds/` are what the Rust types generate; a change to the types must regenerate them.

use std::path::Path;

fn assert_fresh(generated: &str, file: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        generated == on_disk,
        "{} is stale: run `make crd`",
        path.display()
    );
}

/// `crds/` must never drift from the types: users install that file.
#[test]
fn crd_file_matches_the_types() {
    assert_fresh(
        &quay_apitoken_operator::crd::crd_yaml().unwrap(),
        quay_apitoken_operator::crd::CRD_FILE,
    );
}

/// The Application CRD, likewise.
#[test]
fn application_crd_file_matches_the_types() {
    assert_fresh(
        &quay_apitoken_operator::application::crd_yaml().unwrap(),
        quay_apitoken_operator::application::CRD_FILE,
    );
}

/// `make crd` splits what the `crd` subcommand prints into these files, in this order.
#[test]
fn the_crd_subcommand_prints_both_files() {
    let apitoken = quay_apitoken_operator::crd::crd_yaml().unwrap();
    let both = quay_apitoken_operator::application::append_crd(apitoken.clone()).unwrap();
    let application = quay_apitoken_operator::application::crd_yaml().unwrap();
    assert_eq!(both, format!("{apitoken}{application}"));
    assert_eq!(both.matches("\n---\n").count() + 1, 2, "two documents");
}
