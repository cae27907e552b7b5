//! Which processes are running, for tests that prove nothing was left behind.

/// Processes (as "pid: command line") for which `matches(command_line, environment)` holds;
/// the environment is the raw NUL-separated `/proc/<pid>/environ` (empty when unreadable).
pub fn processes_where(matches: impl Fn(&str, &[u8]) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if matches(&cmdline, &environ) {
            found.push(format!("{pid}: {cmdline}"));
        }
    }
    found
}
