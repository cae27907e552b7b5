//! `pprint.pformat(width=72)`, which jsonschema uses to quote schemas and instances.

use serde_json::Value;

use super::reprs::{repr, str_repr};
use super::text::{len, split_lines, word_parts};

/// The width jsonschema passes to `pprint.pformat`.
const WIDTH: usize = 72;

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
