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
