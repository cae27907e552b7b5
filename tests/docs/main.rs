//! The documentation keeps up with the code: the API reference is what `hack/gen-reference.sh`
//! makes of `crds/` (as `crds/` is what the binary makes of the Rust types), and
//! `docs/troubleshooting.md` has a section for every status and event reason the source can
//! emit, found by reading the source itself rather than a list kept by hand.
//!
//! Uses the helm in `$QAO_CONTROL_PLANE_BIN` (set by CI), else the one built by
//! `hack/build-control-plane.sh` (a no-op once built), and `go` for the generator.
#![allow(clippy::expect_used)] // a test failing loudly on a broken fixture is the point

mod layers;
mod protocol;
mod reasons;
mod reference;

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn helm() -> PathBuf {
    quay_testenv::bin_dir()
        .unwrap_or_else(|e| panic!("{e}"))
        .join("helm")
}

/// Every relative link between the documents points at a file that exists.
#[test]
fn relative_links_in_the_docs_resolve() {
    let mut pages: Vec<PathBuf> = vec![root().join("README.md")];
    for dir in ["docs", "docs/reference"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("docs") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|x| x == "md") {
                pages.push(path);
            }
        }
    }
    let mut checked = 0;
    for page in pages {
        let text = std::fs::read_to_string(&page).expect("page");
        let dir = page.parent().expect("dir");
        for (at, _) in text.match_indices("](") {
            let target: String = text[at + 2..].chars().take_while(|c| *c != ')').collect();
            let file = target.split('#').next().unwrap_or_default();
            if file.is_empty() || file.contains("://") || file.starts_with("mailto:") {
                continue;
            }
            assert!(
                dir.join(file).exists(),
                "{}: link to {target} does not resolve",
                page.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 10, "only {checked} links found");
}

/// The architecture page names files, not line numbers: every `src/…`, `tests/…` and other
/// repository path it names in backticks must exist, so a move that forgets the page fails here.
#[test]
fn architecture_names_only_files_that_exist() {
    let page =
        std::fs::read_to_string(root().join("docs/architecture.md")).expect("architecture.md");
    let mut named = 0;
    let mut missing = Vec::new();
    for quoted in page.split('`').skip(1).step_by(2) {
        let roots = [
            "src/",
            "tests/",
            "testenv/",
            "quay-emulator/",
            "hack/",
            "deploy/",
            "crds/",
        ];
        if !roots.iter().any(|r| quoted.starts_with(r)) || quoted.contains(' ') {
            continue;
        }
        named += 1;
        if !root().join(quoted.trim_end_matches('/')).exists() {
            missing.push(quoted.to_owned());
        }
    }
    assert!(
        named >= 30,
        "the page names only {named} files; did the check stop finding them?"
    );
    assert!(
        missing.is_empty(),
        "docs/architecture.md names files that do not exist: {missing:?}"
    );
}
