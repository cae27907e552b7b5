//! Compares a live answer with the captured one: status, the headers that matter, body shape.

use serde_json::Value;

use super::parse::Transcript;
use super::raw::Resp;

/// Keys whose values must match exactly: they carry the error, not instance data.
const EXACT: [&str; 9] = [
    "error",
    "error_type",
    "error_message",
    "detail",
    "title",
    "type",
    "status",
    "message",
    "invalidCredentials",
];

/// JSON text as a client of Quay reads its messages: each string cut after its first line.
/// Quay's schema errors (jsonschema's `str(ValidationError)`) follow their first line with the
/// failing schema and instance in Python's `pprint` layout, which no client reads and the
/// emulator prints on one line; a cut string keeps a mark, so one line still differs from several.
fn first_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        out.push(c);
        match c {
            '"' => in_string = !in_string,
            '\\' if in_string => match chars.next() {
                Some('n') => {
                    out.push_str("n…\"");
                    in_string = false;
                    let mut escaped = false;
                    for rest in chars.by_ref() {
                        match rest {
                            _ if escaped => escaped = false,
                            '\\' => escaped = true,
                            '"' => break,
                            _ => {}
                        }
                    }
                }
                Some(other) => out.push(other),
                None => {}
            },
            _ => {}
        }
    }
    out
}

/// Replaces the live base URL with the capture's and masks minted secrets.
fn normalise(text: &str, base: &str) -> String {
    let mut s = text
        .replace(base, "http://HOST")
        .replace("http://localhost:8080", "http://HOST");
    s = s
        .replace("http://localhost:8081", "http://HOST")
        .replace("http://127.0.0.1:8080", "http://HOST");
    for key in ["access_token=", "code="] {
        if let Some(i) = s.find(key) {
            let start = i + key.len();
            let end = s[start..].find('&').map(|e| start + e).unwrap_or(s.len());
            s.replace_range(start..end, "<SECRET>");
        }
    }
    s
}

fn shape(expected: &Value, actual: &Value, path: &str, base: &str, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    None => out.push(format!("{path}.{k} missing")),
                    // Error fields are compared at the top level only; nested ones (scope titles)
                    // are data, and Quay's scope order is unspecified.
                    Some(av) if path == "body" && EXACT.contains(&k.as_str()) => {
                        let (en, an) = (
                            first_lines(&normalise(&ev.to_string(), base)),
                            first_lines(&normalise(&av.to_string(), base)),
                        );
                        if en != an {
                            out.push(format!("{path}.{k}: expected {en}, got {an}"));
                        }
                    }
                    Some(av) => shape(ev, av, &format!("{path}.{k}"), base, out),
                }
            }
            for k in a.keys().filter(|k| !e.contains_key(*k)) {
                out.push(format!("{path}.{k} unexpected"));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if let (Some(ef), Some(af)) = (e.first(), a.first()) {
                shape(ef, af, &format!("{path}[0]"), base, out);
            }
        }
        (e, a) if std::mem::discriminant(e) == std::mem::discriminant(a) => {}
        (Value::Number(_), Value::Number(_)) => {}
        (e, a) => out.push(format!("{path}: expected {e}, got {a}")),
    }
}

/// Lines of an HTML excerpt that identify the page.
fn markers(body: &str) -> Vec<String> {
    body.lines()
        .map(str::trim)
        .filter(|l| {
            l.starts_with("<title>")
                || l.starts_with("<h5>")
                || l.starts_with("{\"error\"")
                || l.starts_with("window.__error_code")
                || l.starts_with("<h1>")
        })
        .map(str::to_string)
        .collect()
}

/// Every difference between the capture and the live answer.
pub fn differences(t: &Transcript, r: &Resp, base: &str) -> Vec<String> {
    let mut out = Vec::new();
    if r.status != t.status() {
        out.push(format!("status: expected {}, got {}", t.status(), r.status));
    }
    let norm_ct = |s: &str| s.to_ascii_lowercase().replace(' ', "");
    for name in ["content-type", "location", "retry-after", "allow"] {
        let e = t.response.header(name).map(|v| normalise(v, base));
        let a = r.header(name).map(|v| normalise(v, base));
        let same = match (&e, &a) {
            (Some(e), Some(a)) if name == "content-type" => norm_ct(e) == norm_ct(a),
            _ => e == a,
        };
        if !same {
            out.push(format!("{name}: expected {e:?}, got {a:?}"));
        }
    }
    if t.response.header("x-next-csrf-token").is_some() != r.header("x-next-csrf-token").is_some() {
        out.push("X-Next-CSRF-Token presence differs".into());
    }
    if let Some(expected) = t.response.header("set-cookie") {
        match r.header("set-cookie") {
            None => out.push("Set-Cookie missing".into()),
            Some(a) => {
                if !a.starts_with("_csrf_token=") || !a.ends_with("HttpOnly; Path=/; SameSite=Lax")
                {
                    out.push(format!("Set-Cookie form: {a}"));
                }
                if expected.contains("Expires=") != a.contains("Expires=") {
                    out.push(format!("Set-Cookie Expires differs: {a}"));
                }
            }
        }
    }
    let expected = t.expected_body();
    let actual = r.text();
    if let Ok(ev) = serde_json::from_str::<Value>(&expected) {
        match serde_json::from_str::<Value>(&actual) {
            Ok(av) => shape(&ev, &av, "body", base, &mut out),
            Err(_) => out.push(format!("body: expected JSON, got {actual:.200}")),
        }
    } else if expected.trim_start().starts_with('<') || t.body_truncated() {
        for m in markers(&expected) {
            if !actual.contains(&m) {
                out.push(format!("body lacks {m}"));
            }
        }
        if expected.contains("window.__token = '") && !actual.contains("window.__token = '") {
            out.push("body lacks window.__token".into());
        }
    } else if t.body_cut_silently() {
        let (e, a) = (
            first_lines(&normalise(&expected, base)),
            first_lines(&normalise(&actual, base)),
        );
        if !a.starts_with(&e) {
            out.push(format!(
                "body does not start with the capture's {e:.300}, got {a:.300}"
            ));
        }
    } else if expected.trim() != actual.trim() {
        out.push(format!(
            "body: expected {:?}, got {:?}",
            expected.trim(),
            actual.trim()
        ));
    }
    out
}

/// A difference when the body's array `key` is not as long as the capture's (the shape
/// comparison looks at first elements only).
pub fn array_len(t: &Transcript, r: &Resp, key: &str) -> Option<String> {
    let count = |text: &str| {
        serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get(key).and_then(Value::as_array).map(Vec::len))
    };
    let (e, a) = (count(&t.expected_body()), count(&r.text()));
    (e != a).then(|| format!("body.{key}: expected {e:?} entries, got {a:?}"))
}

/// A difference when the body is not byte for byte the capture's (host names aside, and each
/// message read up to its first line).
pub fn exact_body(t: &Transcript, r: &Resp, base: &str) -> Option<String> {
    let (e, a) = (
        first_lines(&normalise(t.expected_body().trim(), base)),
        first_lines(&normalise(r.text().trim(), base)),
    );
    (e != a).then(|| format!("body bytes: expected {e:.300}, got {a:.300}"))
}

#[test]
fn messages_are_compared_up_to_their_first_line() {
    let quay = r#"{"detail": "'x' is too long\n\nFailed validating {'a': 'b\"'}", "status": 400}"#;
    let emulator =
        r#"{"detail": "'x' is too long\n\nFailed validating {\"a\":\"b\\\"\"}", "status": 400}"#;
    assert_eq!(first_lines(quay), first_lines(emulator));
    assert_eq!(
        first_lines(quay),
        r#"{"detail": "'x' is too long\n…", "status": 400}"#
    );
    // One line is not several, and another first line is another message.
    assert_ne!(
        first_lines(r#"{"detail": "'x' is too long"}"#),
        first_lines(quay)
    );
    assert_ne!(
        first_lines(r#"{"detail": "'x' is too short\n\nFailed"}"#),
        first_lines(quay)
    );
}
