//! The few Python `str` methods the schema errors depend on.

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
pub(super) fn split_lines(s: &str) -> Vec<String> {
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
pub(super) fn word_parts(line: &str) -> Vec<String> {
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
