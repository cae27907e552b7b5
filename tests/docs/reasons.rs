//! `docs/troubleshooting.md` has a section for every status and event reason the source can
//! emit, found by reading the source itself rather than a list kept by hand.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::root;

/// Every `.rs` file under `src/`, with its test module (from `#[cfg(test)]` on) cut off.
fn sources() -> Vec<(PathBuf, String)> {
    fn visit(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                visit(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&path).expect("read source");
                let code = match text.find("#[cfg(test)]") {
                    Some(at) => text[..at].to_owned(),
                    None => text,
                };
                out.push((path, code));
            }
        }
    }
    let mut out = Vec::new();
    visit(&root().join("src"), &mut out);
    out.sort();
    out
}

/// Where a string literal, comment or char literal starting at `i` ends (exclusive), if one
/// starts there.
fn skip_token(bytes: &[u8], i: usize) -> Option<usize> {
    token_end(bytes, i).map(|end| end.min(bytes.len()))
}

fn token_end(bytes: &[u8], i: usize) -> Option<usize> {
    let at = |k: usize| bytes.get(k).copied().unwrap_or(0);
    match at(i) {
        b'/' if at(i + 1) == b'/' => Some(
            bytes[i..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(bytes.len(), |p| i + p),
        ),
        b'/' if at(i + 1) == b'*' => Some(
            bytes[i + 2..]
                .windows(2)
                .position(|w| w == b"*/")
                .map_or(bytes.len(), |p| i + 2 + p + 2),
        ),
        b'r' if (at(i + 1) == b'"' || at(i + 1) == b'#') && !is_ident(at(i.wrapping_sub(1))) => {
            let hashes = bytes[i + 1..].iter().take_while(|b| **b == b'#').count();
            if at(i + 1 + hashes) != b'"' {
                return None;
            }
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let body = i + 2 + hashes;
            Some(
                bytes[body..]
                    .windows(close.len())
                    .position(|w| w == close.as_slice())
                    .map_or(bytes.len(), |p| body + p + close.len()),
            )
        }
        b'"' => {
            let mut k = i + 1;
            while k < bytes.len() && bytes[k] != b'"' {
                k += if bytes[k] == b'\\' { 2 } else { 1 };
            }
            Some(k + 1)
        }
        b'\'' if at(i + 1) == b'\\' => bytes[i + 2..]
            .iter()
            .position(|b| *b == b'\'')
            .map(|p| i + 2 + p + 1),
        b'\'' if at(i + 2) == b'\'' => Some(i + 3),
        _ => None,
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The text from `open` (an opening bracket) to its matching close, strings and comments
/// skipped.
fn balanced(code: &str, open: usize) -> &str {
    let bytes = code.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        if let Some(end) = skip_token(bytes, i) {
            i = end;
            continue;
        }
        match bytes[i] {
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return &code[open..=i];
                }
            }
            _ => {}
        }
        i += 1;
    }
    &code[open..]
}

/// The string literals of `code` that are one CamelCase word, as reasons are.
fn camel_literals(code: &str) -> Vec<String> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match skip_token(bytes, i) {
            Some(end) => {
                if bytes[i] == b'"' {
                    let text = &code[i + 1..end.saturating_sub(1).max(i + 1)];
                    let camel = text.len() > 1
                        && text.starts_with(|c: char| c.is_ascii_uppercase())
                        && text.chars().all(|c| c.is_ascii_alphanumeric())
                        && text.chars().any(|c| c.is_ascii_lowercase());
                    if camel {
                        out.push(text.to_owned());
                    }
                }
                i = end;
            }
            None => i += 1,
        }
    }
    out
}

/// Each `start` of `needle` in `code` outside strings and comments.
fn occurrences(code: &str, needle: &str) -> Vec<usize> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(end) = skip_token(bytes, i) {
            i = end;
            continue;
        }
        if bytes[i..].starts_with(needle.as_bytes()) {
            out.push(i);
        }
        i += 1;
    }
    out
}

/// The reasons the source can put in a condition (status) and in an Event.
///
/// Status: the literals of every `fn reason(` (the error enums), every `reason: "…"` (a
/// verdict written directly), every `const REASON` and every `let …reason… = …;` binding.
/// Events: the CamelCase literal passed to each `publish(` call.
fn reasons_in_source() -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut status, mut events) = (BTreeSet::new(), BTreeSet::new());
    for (path, code) in sources() {
        for at in occurrences(&code, "fn reason(") {
            let body = code[at..].find('{').map(|b| balanced(&code, at + b));
            status.extend(camel_literals(body.unwrap_or_default()));
        }
        for at in occurrences(&code, "reason:") {
            let rest = code[at + "reason:".len()..].trim_start();
            if rest.starts_with('"') {
                let end = skip_token(rest.as_bytes(), 0).unwrap_or(rest.len());
                status.extend(camel_literals(&rest[..end]));
            }
        }
        for at in occurrences(&code, "REASON: &") {
            let end = code[at..].find(';').map_or(code.len(), |e| at + e);
            status.extend(camel_literals(&code[at..end]));
        }
        for at in occurrences(&code, "let ") {
            if at > 0 && is_ident(code.as_bytes()[at - 1]) {
                continue;
            }
            let name: String = code[at + 4..]
                .chars()
                .take_while(|c| is_ident(*c as u8))
                .collect();
            if name.contains("reason") {
                let end = code[at..].find(';').map_or(code.len(), |e| at + e);
                status.extend(camel_literals(&code[at..end]));
            }
        }
        for at in occurrences(&code, "publish(") {
            let declared = code[..at].trim_end().ends_with("fn");
            if declared {
                continue;
            }
            let call = balanced(&code, at + "publish".len());
            let found = camel_literals(call);
            assert!(
                found.len() <= 1,
                "{}: a publish call with several reason-like literals: {found:?}",
                path.display()
            );
            events.extend(found);
        }
    }
    (status, events)
}

/// `### \`Name\`` headings of the part of `doc` under `## {part}` (up to the next `## `).
fn sections(doc: &str, part: &str) -> Vec<(String, String)> {
    let start = doc
        .find(&format!("\n## {part}\n"))
        .unwrap_or_else(|| panic!("troubleshooting.md has no `## {part}` part"));
    let body = &doc[start + 1..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find("\n### `") {
        let heading_end = rest[at + 1..].find('\n').map_or(rest.len(), |e| at + 1 + e);
        let heading = &rest[at + 6..heading_end];
        let name = heading.split('`').next().unwrap_or_default().to_owned();
        let next = rest[heading_end..]
            .find("\n### ")
            .map_or(rest.len(), |e| heading_end + e);
        out.push((name, rest[heading_end..next].to_owned()));
        rest = &rest[next..];
    }
    out
}

/// The reason finder reads this source as it is meant to: the known reasons of each kind
/// are found, so a broken parser cannot pass the coverage test by finding nothing.
#[test]
fn reasons_are_found_in_the_source() {
    let (status, events) = reasons_in_source();
    for known in [
        "TokenReady",
        "Successful",
        "MalformedObject",
        "ConnectionSecretMissing",
        "InvalidCredentials",
        "QuayRejected",
        "TlsError",
    ] {
        assert!(status.contains(known), "{known} not found in {status:?}");
    }
    for known in ["ScopesLeftOut", "LeftInQuay", "Adopted"] {
        assert!(events.contains(known), "{known} not found in {events:?}");
    }
    assert!(
        !status.contains("Warning") && !events.contains("Normal"),
        "event types are not reasons: {status:?} {events:?}"
    );
}

/// Every status reason the operator can emit has its own section, saying what it means, how
/// to confirm it and how to fix it; no section describes a reason the code no longer has.
#[test]
fn every_status_reason_has_a_troubleshooting_section() {
    let doc = std::fs::read_to_string(root().join("docs/troubleshooting.md")).expect("doc");
    let (status, _) = reasons_in_source();
    let documented = sections(&doc, "Status reasons");
    let names: BTreeSet<String> = documented.iter().map(|(n, _)| n.clone()).collect();
    let missing: Vec<&String> = status.difference(&names).collect();
    assert!(
        missing.is_empty(),
        "docs/troubleshooting.md lacks a section for {missing:?}"
    );
    let stale: Vec<&String> = names.difference(&status).collect();
    assert!(
        stale.is_empty(),
        "docs/troubleshooting.md describes reasons the code no longer emits: {stale:?}"
    );
    for (name, body) in &documented {
        for part in ["**What it means.**", "**Confirm.**", "**Fix.**"] {
            assert!(body.contains(part), "section {name} lacks {part}");
        }
    }
}

/// Every Event reason has a section too (failures publish their status reason as an Event as
/// well; those are covered above).
#[test]
fn every_event_reason_has_a_troubleshooting_section() {
    let doc = std::fs::read_to_string(root().join("docs/troubleshooting.md")).expect("doc");
    let (_, events) = reasons_in_source();
    let documented = sections(&doc, "Event reasons");
    let names: BTreeSet<String> = documented.iter().map(|(n, _)| n.clone()).collect();
    let missing: Vec<&String> = events.difference(&names).collect();
    assert!(
        missing.is_empty(),
        "docs/troubleshooting.md lacks an event section for {missing:?}"
    );
    let stale: Vec<&String> = names.difference(&events).collect();
    assert!(
        stale.is_empty(),
        "docs/troubleshooting.md describes events the code no longer publishes: {stale:?}"
    );
    for (name, body) in &documented {
        assert!(
            body.trim().len() > 40,
            "the section of event {name} says nothing"
        );
    }
}
