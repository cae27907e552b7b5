//! The API reference is what `hack/gen-reference.sh` makes of `crds/`, and covers every field.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{helm, root};

/// Runs `hack/gen-reference.sh --check` from `dir` (a copy of the repository or the real one).
fn reference_check(dir: &Path) -> (bool, String) {
    gen_reference(dir, &["--check"])
}

/// Runs `hack/gen-reference.sh` with `args` from `dir`: (success, stdout and stderr).
fn gen_reference(dir: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new("bash")
        .arg(dir.join("hack/gen-reference.sh"))
        .args(args)
        .env("HELM", helm())
        .output()
        .expect("run hack/gen-reference.sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Every CRD document in `crds/`, as JSON.
fn crds() -> Vec<Value> {
    let mut docs = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("crds"))
        .expect("crds/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no CRD in crds/");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("CRD file");
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            let value: serde_yaml_ng::Value = serde::Deserialize::deserialize(doc).expect("YAML");
            if !value.is_null() {
                docs.push(serde_json::to_value(value).expect("YAML maps to JSON"));
            }
        }
    }
    docs
}

/// (path, description) of every field below `schema`, with the generator's path notation.
fn fields(schema: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
    let Some(properties) = schema["properties"].as_object() else {
        return;
    };
    for (name, child) in properties {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let description = child["description"].as_str().unwrap_or_default().to_owned();
        out.push((path.clone(), description));
        fields(child, &path, out);
        let (mut element, mut suffix) = (child, String::new());
        while let Some(items) = element.get("items") {
            suffix.push_str("[]");
            fields(items, &format!("{path}{suffix}"), out);
            element = items;
        }
    }
}

/// The reference pages are exactly what the generator makes of today's CRDs.
#[test]
fn reference_docs_match_the_crds() {
    let (ok, text) = reference_check(root());
    assert!(ok, "{text}");
}

/// Independently of the generator: every field of every CRD has its own section on its
/// kind's page, carrying its description, and the index links every page.
#[test]
fn reference_docs_cover_every_field_of_every_crd() {
    let index = std::fs::read_to_string(root().join("docs/reference/README.md")).expect("index");
    for crd in crds() {
        let kind = crd["spec"]["names"]["kind"].as_str().expect("kind");
        let page_name = format!("{}.md", kind.to_lowercase());
        assert!(
            index.contains(&format!("]({page_name})")),
            "the index does not link {page_name}"
        );
        let page = std::fs::read_to_string(root().join("docs/reference").join(&page_name))
            .unwrap_or_else(|e| panic!("docs/reference/{page_name}: {e}"));
        for version in crd["spec"]["versions"].as_array().expect("versions") {
            let mut all = Vec::new();
            fields(&version["schema"]["openAPIV3Schema"], "", &mut all);
            assert!(all.len() > 3, "{kind}: too few fields found");
            for (path, description) in all {
                let heading = format!("# `{path}`\n");
                let at = page
                    .find(&heading)
                    .unwrap_or_else(|| panic!("{page_name} has no section for {path}"));
                let section = &page[at..];
                let first_line = description.lines().next().unwrap_or_default();
                assert!(
                    section.contains(first_line),
                    "{page_name}: the section of {path} lacks its description"
                );
            }
        }
    }
}

/// The drift check fails when a CRD changes and the reference does not (run on a copy).
#[test]
fn reference_check_fails_on_a_changed_crd() {
    let copy = tempfile::tempdir().expect("tempdir");
    for dir in ["crds", "hack/gen-reference"] {
        std::fs::create_dir_all(copy.path().join(dir)).expect("mkdir");
        for entry in std::fs::read_dir(root().join(dir)).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                let target = copy.path().join(dir).join(path.file_name().expect("name"));
                std::fs::copy(&path, target).expect("copy");
            }
        }
    }
    std::fs::copy(
        root().join("hack/gen-reference.sh"),
        copy.path().join("hack/gen-reference.sh"),
    )
    .expect("copy script");
    // Fresh pages first, so that this test checks the check, whatever the state of the tree.
    let (ok, text) = gen_reference(copy.path(), &[]);
    assert!(ok, "the generator failed: {text}");
    let (ok, text) = reference_check(copy.path());
    assert!(ok, "freshly generated pages must pass: {text}");
    let crd = std::fs::read_dir(copy.path().join("crds"))
        .expect("crds")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "yaml"))
        .expect("a CRD");
    let yaml = std::fs::read_to_string(&crd).expect("read");
    let changed = yaml.replacen("description: ", "description: Changed. ", 1);
    assert_ne!(yaml, changed);
    std::fs::write(&crd, changed).expect("write");
    let (ok, text) = reference_check(copy.path());
    assert!(!ok, "a changed CRD must fail the check");
    assert!(text.contains("Changed."), "{text}");
}
