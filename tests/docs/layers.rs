//! docs/architecture.md's rule, checked: modules depend downward only. Each row of the module
//! map gives the top-level modules of `src/` named in its module cell a rank (modules on one row
//! share it). Every `crate::<module>` that a source file names outside its tests must be on the
//! file's own row or a lower one, no two modules may reach each other, and every top-level
//! module must be on the map.

use super::root;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The rank of each top-level module named in the module cell of the module map's rows.
fn ranks() -> BTreeMap<String, usize> {
    let page = std::fs::read_to_string(root().join("docs/architecture.md")).expect("page");
    ranks_in(&page)
}

fn ranks_in(page: &str) -> BTreeMap<String, usize> {
    let table = page
        .split("## Module map")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a section `## Module map`");
    let mut ranks = BTreeMap::new();
    for (row, line) in table.lines().filter(|l| l.starts_with('|')).enumerate() {
        // `| layer | module | its one job |`: only the module cell places a module; the job
        // cell may mention modules above or below.
        let Some(cell) = line.split('|').nth(2) else {
            continue;
        };
        for (at, _) in cell.match_indices("`src/") {
            let name = ident(&cell[at + 5..]);
            if !name.is_empty() {
                ranks.entry(name).or_insert(row);
            }
        }
    }
    ranks
}

fn ident(s: &str) -> String {
    s.trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The source of `file` without its test code and comments: nothing for a file that is a test
/// module as a whole, else the lines before the first `#[cfg(test)]` (test modules come last
/// here) that are not comments.
fn production_source(file: &Path) -> Option<String> {
    let name = file.file_name()?.to_str()?;
    let in_tests_dir = file.components().any(|c| c.as_os_str() == "tests");
    if in_tests_dir || name == "tests.rs" || name.ends_with("_tests.rs") || name == "proptests.rs" {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let end = text.find("#[cfg(test)]").unwrap_or(text.len());
    let code: Vec<&str> = text[..end]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect();
    Some(code.join("\n"))
}

/// The top-level modules `text` names through `crate::`, `crate::{a, b::c}` included.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + 7..];
        let Some(group) = rest.strip_prefix('{') else {
            found.insert(ident(rest));
            continue;
        };
        let mut depth = 0usize;
        let mut item = String::new();
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    found.insert(ident(&item));
                    item.clear();
                    continue;
                }
                _ => {}
            }
            item.push(c);
        }
        found.insert(ident(&item));
    }
    found.retain(|n| !n.is_empty() && n != "self");
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// Every top-level module of `src/`, and which top-level modules each names, with the first
/// file (relative to `src/`) that names it.
type Graph = BTreeMap<String, BTreeMap<String, String>>;

fn imports() -> Graph {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut graph = Graph::new();
    for file in files {
        let rel = file.strip_prefix(&src).expect("under src");
        let module = ident(&rel.to_string_lossy());
        if module == "lib" || module == "main" {
            continue;
        }
        let named = graph.entry(module.clone()).or_default();
        let Some(text) = production_source(&file) else {
            continue;
        };
        for other in named_modules(&text) {
            if other != module {
                named
                    .entry(other)
                    .or_insert_with(|| rel.display().to_string());
            }
        }
    }
    graph
}

#[test]
fn crate_paths_are_read_whole() {
    let named = named_modules(
        "use crate::{clock::now, quay::{Pace, Error}, self};\nuse crate::crd::ApiToken;\n\
         let x = crate::duration::parse(s);",
    );
    let expected: BTreeSet<String> = ["clock", "crd", "duration", "quay"]
        .map(String::from)
        .into();
    assert_eq!(named, expected);
}

#[test]
fn only_the_module_cell_places_a_module() {
    let page = "## Module map\n\n| layer | module | its one job |\n|---|---|---|\n\
        | top | `src/main.rs` | wires `src/low.rs` |\n\
        | | `src/mid/a.rs`, `src/mid/b.rs`, `src/side.rs` | both |\n\
        | base | `src/low.rs` | last |\n\n## Next\n| | `src/later.rs` | not the map |\n";
    let ranks: Vec<(String, usize)> = ranks_in(page).into_iter().collect();
    let expected = [("low", 4), ("main", 2), ("mid", 3), ("side", 3)];
    assert_eq!(ranks, expected.map(|(m, r)| (m.to_string(), r)));
}

/// No module names one above it in the module map, and none is named by what it names.
#[test]
fn modules_depend_downward_only() {
    let ranks = ranks();
    let graph = imports();
    assert!(
        ranks.len() > 20,
        "only {} modules in the module map",
        ranks.len()
    );
    let mut wrong = Vec::new();
    for module in graph.keys() {
        if !ranks.contains_key(module) {
            wrong.push(format!("`src/{module}` is missing from the module map"));
        }
    }
    for (module, named) in &graph {
        let Some(own) = ranks.get(module) else {
            continue;
        };
        for (other, file) in named {
            match ranks.get(other) {
                None if !graph.contains_key(other) => wrong.push(format!(
                    "src/{file} names crate::{other}, which is not a module"
                )),
                Some(rank) if rank < own => {
                    wrong.push(format!("src/{file} names crate::{other}, above `{module}`"))
                }
                _ => {}
            }
        }
    }
    for (module, named) in &graph {
        for (other, file) in named {
            if module < other && reaches(&graph, other, module) {
                wrong.push(format!(
                    "`{module}` and `{other}` reach each other (src/{file} names crate::{other})"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/architecture.md's rule is broken:\n{}",
        wrong.join("\n")
    );
}

fn reaches(graph: &Graph, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(module) = todo.pop() {
        if module == to {
            return true;
        }
        if seen.insert(module.clone()) {
            todo.extend(
                graph
                    .get(&module)
                    .into_iter()
                    .flat_map(|n| n.keys().cloned()),
            );
        }
    }
    false
}
