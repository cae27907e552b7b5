//! Every "protocol §N" a source comment cites is a section of docs/quay-protocol.md, so that a
//! reader finds the Quay behaviour the code relies on inside the repository.

use std::collections::BTreeSet;
use std::path::Path;

use crate::root;

/// The page the citations point at.
const PAGE: &str = "docs/quay-protocol.md";
/// What a citation looks like in a comment.
const CITATION: &str = "protocol §";
/// Where sources live: the operator, the emulator, the harness, the tests and the benches.
const SOURCE_DIRS: &[&str] = &["src", "quay-emulator", "testenv", "tests", "benches"];

/// The section numbers of the page's headings (`## §8 …`, `### §4.2 …`).
fn sections(page: &str) -> BTreeSet<String> {
    page.lines()
        .filter(|l| l.starts_with('#'))
        .filter_map(|l| l.trim_start_matches('#').trim().strip_prefix('§'))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// The section numbers cited in `text` ("protocol §8", "protocol §8, §15"), each with its line.
fn citations(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for line in text.lines() {
        for (at, _) in line.match_indices(CITATION) {
            let mut rest = &line[at + CITATION.len()..];
            loop {
                let end = rest
                    .find(|c: char| !c.is_ascii_digit() && c != '.')
                    .unwrap_or(rest.len());
                let number = rest[..end].trim_end_matches('.');
                found.push((number.to_owned(), line.trim().to_owned()));
                match rest[end..].strip_prefix(", §") {
                    Some(next) => rest = next,
                    None => break,
                }
            }
        }
    }
    found
}

/// The files that may cite: Rust sources and YAML (the emulator's example seed).
fn source_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                source_files(&path, out);
            }
        } else if path.extension().is_some_and(|x| x == "rs" || x == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn every_cited_protocol_section_exists() {
    let page = std::fs::read_to_string(root().join(PAGE)).expect(PAGE);
    let known = sections(&page);
    let mut files = Vec::new();
    for dir in SOURCE_DIRS {
        source_files(&root().join(dir), &mut files);
    }
    let mut cited = 0;
    let mut missing = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source file");
        // This file names the pattern it looks for; it cites nothing.
        if file.ends_with("tests/docs/protocol.rs") {
            continue;
        }
        for (number, line) in citations(&text) {
            cited += 1;
            if !known.contains(&number) {
                let shown = file.strip_prefix(root()).unwrap_or(&file).display();
                missing.push(format!("{shown}: §{number} in `{line}`"));
            }
        }
    }
    assert!(cited >= 10, "only {cited} citations found");
    assert!(
        missing.is_empty(),
        "{PAGE} has no section for:\n{}",
        missing.join("\n")
    );
}

#[test]
fn sections_and_citations_are_read_as_written() {
    assert_eq!(
        sections("# Title\n## §4 Minting\n### §4.2 Refusals\ntext §9\n## §15 Owners"),
        BTreeSet::from(["4".to_owned(), "4.2".to_owned(), "15".to_owned()])
    );
    let found =
        citations("// Quay says so (protocol §14). And protocol §4.2, then protocol §8, §15.");
    let numbers: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(numbers, ["14", "4.2", "8", "15"]);
}
