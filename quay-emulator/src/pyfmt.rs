//! Python's `repr()` and `pprint.pformat(width=72)` of JSON values, which Quay's schema errors
//! (jsonschema 3.2's `str(ValidationError)`) quote. Covers what `json.loads` can produce.

use serde_json::{Number, Value};

/// The width jsonschema passes to `pprint.pformat`.
const WIDTH: usize = 72;

/// Python's `repr()` of a value as `json.loads` returns it (dicts in key order).
pub fn repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Number(n) => number_repr(n),
        Value::String(s) => str_repr(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", str_repr(k), repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// `repr()` of a JSON number: an int, or a float in Python's shortest round-trip form.
pub fn number_repr(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    float_repr(n.as_f64().unwrap_or(0.0))
}

/// Python's `repr(float)`: shortest digits; scientific below 1e-4 or from 1e16 on.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.2345e-7".
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let decpt = exp + 1;
    if -4 < decpt && decpt <= 16 {
        let n = digits.len() as i32;
        let body = if decpt <= 0 {
            format!("0.{}{digits}", "0".repeat((-decpt) as usize))
        } else if decpt >= n {
            format!("{digits}{}.0", "0".repeat((decpt - n) as usize))
        } else {
            let (int, frac) = digits.split_at(decpt as usize);
            format!("{int}.{frac}")
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{esign}{:02}", exp.abs())
    }
}

/// Whether Python's `str.isprintable()` holds for a character (close enough outside ASCII).
fn printable(c: char) -> bool {
    let u = c as u32;
    if u < 0x20 || u == 0x7f || (0x80..0xa0).contains(&u) {
        return false;
    }
    !matches!(
        u,
        0xa0 | 0xad
            | 0x1680
            | 0x2000..=0x200f
            | 0x2028..=0x202f
            | 0x205f..=0x2064
            | 0x3000
            | 0xfeff
            | 0xd800..=0xdfff
            | 0xe000..=0xf8ff
            | 0xfff9..=0xfffb
    )
}

/// Python's `repr(str)`: single quotes unless the text has `'` and no `"`.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if printable(c) => out.push(c),
            c => {
                let u = c as u32;
                if u < 0x100 {
                    out.push_str(&format!("\\x{u:02x}"));
                } else if u < 0x10000 {
                    out.push_str(&format!("\\u{u:04x}"));
                } else {
                    out.push_str(&format!("\\U{u:08x}"));
                }
            }
        }
    }
    out.push(quote);
    out
}

/// Python's `str.isspace()`.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.strip()`.
pub fn strip(s: &str) -> &str {
    s.trim_matches(py_space)
}

/// `len()` of a Python string: code points.
pub fn len(s: &str) -> usize {
    s.chars().count()
}

/// Python's `str.splitlines(keepends=True)`.
fn split_lines(s: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        current.push(c);
        let breaks = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if breaks {
            if c == '\r' && chars.peek() == Some(&'\n') {
                current.push('\n');
                chars.next();
            }
            lines.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// `re.findall(r'\S*\s*', line)` without its final empty match.
fn word_parts(line: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut in_space = false;
    for c in line.chars() {
        let space = py_space(c);
        if in_space && !space {
            parts.push(std::mem::take(&mut current));
            in_space = false;
        }
        if space {
            in_space = true;
        }
        current.push(c);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// Python's `_safe_repr` of pprint: like `repr`, with dict keys sorted.
fn safe_repr(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(safe_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let mut items: Vec<(&String, &Value)> = map.iter().collect();
            items.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = items
                .iter()
                .map(|(k, v)| format!("{}: {}", str_repr(k), safe_repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        other => repr(other),
    }
}

/// `pprint.pformat(value, width=72)`.
pub fn pformat(value: &Value) -> String {
    let mut out = String::new();
    format_value(value, &mut out, 0, 0, 0);
    out
}

/// pprint's `PrettyPrinter._format`.
fn format_value(value: &Value, out: &mut String, indent: usize, allowance: usize, level: usize) {
    let rep = safe_repr(value);
    let max_width = WIDTH as isize - indent as isize - allowance as isize;
    if len(&rep) as isize > max_width {
        match value {
            Value::Object(map) => return pprint_dict(map, out, indent, allowance, level + 1),
            Value::Array(items) => return pprint_list(items, out, indent, allowance, level + 1),
            Value::String(s) => return pprint_str(s, out, indent, allowance, level + 1),
            _ => {}
        }
    }
    out.push_str(&rep);
}

fn pprint_dict(
    map: &serde_json::Map<String, Value>,
    out: &mut String,
    indent: usize,
    allowance: usize,
    level: usize,
) {
    out.push('{');
    let mut items: Vec<(&String, &Value)> = map.iter().collect();
    items.sort_by(|a, b| a.0.cmp(b.0));
    let indent = indent + 1;
    let allowance = allowance + 1;
    let last_index = items.len().saturating_sub(1);
    for (i, (key, value)) in items.iter().enumerate() {
        let last = i == last_index;
        let rep = str_repr(key);
        out.push_str(&rep);
        out.push_str(": ");
        format_value(
            value,
            out,
            indent + len(&rep) + 2,
            if last { allowance } else { 1 },
            level,
        );
        if !last {
            out.push_str(",\n");
            out.push_str(&" ".repeat(indent));
        }
    }
    out.push('}');
}

fn pprint_list(items: &[Value], out: &mut String, indent: usize, allowance: usize, level: usize) {
    out.push('[');
    let indent = indent + 1;
    let allowance = allowance + 1;
    for (i, item) in items.iter().enumerate() {
        let last = i + 1 == items.len();
        if i > 0 {
            out.push_str(",\n");
            out.push_str(&" ".repeat(indent));
        }
        format_value(item, out, indent, if last { allowance } else { 1 }, level);
    }
    out.push(']');
}

fn pprint_str(s: &str, out: &mut String, indent: usize, allowance: usize, level: usize) {
    if s.is_empty() {
        out.push_str(&str_repr(s));
        return;
    }
    let (indent, allowance) = if level == 1 {
        (indent + 1, allowance + 1)
    } else {
        (indent, allowance)
    };
    let max_width = WIDTH as isize - indent as isize;
    let mut max_width1 = max_width;
    let lines = split_lines(s);
    let mut chunks: Vec<String> = Vec::new();
    let mut rep = String::new();
    for (i, line) in lines.iter().enumerate() {
        rep = str_repr(line);
        let last_line = i + 1 == lines.len();
        if last_line {
            max_width1 -= allowance as isize;
        }
        if len(&rep) as isize <= max_width1 {
            chunks.push(rep.clone());
            continue;
        }
        let parts = word_parts(line);
        let mut max_width2 = max_width;
        let mut current = String::new();
        for (j, part) in parts.iter().enumerate() {
            let candidate = format!("{current}{part}");
            if j + 1 == parts.len() && last_line {
                max_width2 -= allowance as isize;
            }
            if len(&str_repr(&candidate)) as isize > max_width2 {
                if !current.is_empty() {
                    chunks.push(str_repr(&current));
                }
                current = part.clone();
            } else {
                current = candidate;
            }
        }
        if !current.is_empty() {
            chunks.push(str_repr(&current));
        }
    }
    if chunks.len() == 1 {
        out.push_str(&rep);
        return;
    }
    if level == 1 {
        out.push('(');
    }
    for (i, chunk) in chunks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(chunk);
    }
    if level == 1 {
        out.push(')');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reprs_like_python() {
        assert_eq!(repr(&json!(-5)), "-5");
        assert_eq!(repr(&json!(-5.0)), "-5.0");
        assert_eq!(repr(&json!(0.5)), "0.5");
        assert_eq!(repr(&json!(1e16)), "1e+16");
        assert_eq!(repr(&json!(1e15)), "1000000000000000.0");
        assert_eq!(repr(&json!(0.0001)), "0.0001");
        assert_eq!(repr(&json!(0.00001)), "1e-05");
        assert_eq!(repr(&json!(-1.5e-300)), "-1.5e-300");
        assert_eq!(repr(&json!(123.456)), "123.456");
        assert_eq!(repr(&json!("3600")), "'3600'");
        assert_eq!(repr(&json!("it's")), "\"it's\"");
        assert_eq!(repr(&json!("a'b\"c")), "'a\\'b\"c'");
        assert_eq!(
            repr(&json!("tab\there\n\u{1}é\u{a0}")),
            "'tab\\there\\n\\x01é\\xa0'"
        );
        assert_eq!(repr(&json!(null)), "None");
        assert_eq!(repr(&json!([true, false])), "[True, False]");
        assert_eq!(repr(&json!({"b": 1})), "{'b': 1}");
    }

    #[test]
    fn pformats_like_python() {
        // Expected texts from Python 3.11's pprint.pformat(..., width=72).
        assert_eq!(
            pformat(&json!({"scope": "repo:read"})),
            "{'scope': 'repo:read'}"
        );
        let long = "word ".repeat(20);
        assert_eq!(
            pformat(&json!(long)),
            "('word word word word word word word word word word word word word '\n 'word word word word word word word ')"
        );
        let v = json!({"scope": "repo:read org:admin repo:write repo:admin user:read user:admin", "expiration": 5, "zz": [1, 2]});
        assert_eq!(
            pformat(&v),
            "{'expiration': 5,\n 'scope': 'repo:read org:admin repo:write repo:admin user:read '\n          'user:admin',\n 'zz': [1, 2]}"
        );
        let v = json!({"description": "Token lifetime in seconds. Must be positive and is capped at the maximum supported lifetime.", "minimum": 1, "type": "number"});
        assert_eq!(
            pformat(&v),
            "{'description': 'Token lifetime in seconds. Must be positive and is '\n                'capped at the maximum supported lifetime.',\n 'minimum': 1,\n 'type': 'number'}"
        );
        assert_eq!(
            pformat(&json!("n".repeat(100))),
            format!("'{}'", "n".repeat(100))
        );
    }
}
