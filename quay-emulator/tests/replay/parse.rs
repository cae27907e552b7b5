//! Parses a capture file: the request (line, headers, body) and the response (status, headers,
//! body excerpt), in both the marked (`=== REQUEST ===`) and the plain curl layouts.

/// One HTTP message as captured.
#[derive(Debug, Default, Clone)]
pub struct Message {
    /// Request line or status line.
    pub start: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Message {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A transcript: its file name, request and expected response.
#[derive(Debug, Clone)]
pub struct Transcript {
    pub name: String,
    pub request: Message,
    pub response: Message,
}

fn is_request_line(l: &str) -> bool {
    ["GET ", "POST ", "PUT ", "DELETE "]
        .iter()
        .any(|m| l.starts_with(m))
        && l.ends_with(" HTTP/1.1")
}

/// Lines the capture tool added (`[empty body]`, `[... 7 lines omitted ...]`, markers).
fn is_annotation(l: &str) -> bool {
    let t = l.trim();
    (t.starts_with('[')
        && t.ends_with(']')
        && (t.contains("body") || t.contains("omitted") || t.contains("truncated")))
        || t.starts_with("=== ")
        || t.starts_with("[... truncated")
}

fn headers_until_blank(lines: &[&str], i: &mut usize) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    while *i < lines.len() && !lines[*i].trim().is_empty() {
        if let Some((n, v)) = lines[*i].split_once(": ") {
            headers.push((n.to_string(), v.trim_end().to_string()));
        }
        *i += 1;
    }
    headers
}

/// The `--data-binary` argument of the curl command, when it is inline JSON.
fn command_body(command: &str) -> Option<String> {
    let rest = command.split_once("--data-binary ")?.1;
    if rest.starts_with('@') {
        return None;
    }
    let end = rest.find(" http://")?;
    Some(rest[..end].trim_matches('\'').to_string())
}

/// Parses the text of a capture file.
pub fn parse(name: &str, text: &str) -> Transcript {
    let command = text
        .lines()
        .find_map(|l| l.strip_prefix("# command: "))
        .unwrap_or("")
        .to_string();
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("# ")).collect();
    let mut i = lines
        .iter()
        .position(|l| is_request_line(l))
        .expect("request line");
    let mut request = Message {
        start: lines[i].to_string(),
        ..Message::default()
    };
    i += 1;
    request.headers = headers_until_blank(&lines, &mut i);
    let mut body = Vec::new();
    while i < lines.len() && !lines[i].starts_with("HTTP/1.1 ") {
        if !is_annotation(lines[i]) && lines[i] != "[no body]" {
            body.push(lines[i]);
        }
        i += 1;
    }
    request.body = body.join("\n").trim().to_string();
    if request.body.is_empty()
        && let Some(b) = command_body(&command)
    {
        request.body = b;
    }
    let mut response = Message {
        start: lines.get(i).map(|l| l.to_string()).unwrap_or_default(),
        ..Message::default()
    };
    i += 1;
    response.headers = headers_until_blank(&lines, &mut i);
    let mut body = Vec::new();
    while i < lines.len() && !lines[i].starts_with("=== NOTES") {
        body.push(lines[i]);
        i += 1;
    }
    response.body = body.join("\n").trim().to_string();
    Transcript {
        name: name.to_string(),
        request,
        response,
    }
}

impl Transcript {
    /// The request method and target.
    pub fn method_target(&self) -> (String, String) {
        let mut parts = self.request.start.split(' ');
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        (method, target)
    }

    /// The expected status code.
    pub fn status(&self) -> u16 {
        self.response
            .start
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status code")
    }

    /// The expected body with the capture tool's annotation lines removed.
    pub fn expected_body(&self) -> String {
        self.response
            .body
            .lines()
            .filter(|l| !is_annotation(l))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Whether the capture kept only the start of the body, without saying so (67c, 67j): its
    /// Content-Length is larger than what was kept.
    pub fn body_cut_silently(&self) -> bool {
        self.response
            .header("content-length")
            .and_then(|n| n.trim().parse::<usize>().ok())
            .is_some_and(|n| n > self.expected_body().len())
    }

    /// Whether the expected body was cut by the capture tool.
    pub fn body_truncated(&self) -> bool {
        self.response.body.contains("[... truncated")
            || self.response.body.contains("excerpt")
            || self.response.body.contains("(body reduced")
    }
}
