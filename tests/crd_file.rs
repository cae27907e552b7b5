//! The CRD in `crds/` is what the Rust types generate; a change to the types must regenerate it.

/// `crds/` must never drift from the types: users install that file.
#[test]
fn crd_file_matches_the_types() {
    let generated = quay_apitoken_operator::crd::crd_yaml().unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(quay_apitoken_operator::crd::CRD_FILE);
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        generated == on_disk,
        "{} is stale: run `cargo run -- crd > {}`",
        path.display(),
        quay_apitoken_operator::crd::CRD_FILE
    );
}
