//! A hostile `host` for tests: a small HTTP/1.1 server on 127.0.0.1 that answers as a tenant's
//! own server might, to try the operator's limits: bodies of a gigabyte (streamed, never held
//! here), a 429 with an absurd `Retry-After`, malformed JSON, redirects to another host, a
//! plain web page with a text to look for, and connections it accepts but never answers.
//!
//! Bounded: one request per connection, at most [`MAX_CONNECTIONS`] at once, each request
//! head read up to 64 KiB, every connection dropped when the server is, and none kept longer
//! than [`MAX_HOLD`].

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

/// Connections served at once; more wait in the listen queue.
pub const MAX_CONNECTIONS: usize = 64;
/// The longest a connection is kept open (a tarpit, or a client reading a huge body slowly).
pub const MAX_HOLD: Duration = Duration::from_secs(600);
/// The largest request head read.
const HEAD_MAX: usize = 64 * 1024;
/// The largest request body read (and thrown away).
const BODY_MAX: usize = 1024 * 1024;

/// What the server answers to one request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// `status` with a body (and its `Content-Type`).
    Page {
        status: u16,
        content_type: &'static str,
        body: String,
    },
    /// Quay's CSRF token answer, so that a client goes on to sign in.
    Csrf,
    /// 429 with this `Retry-After` text.
    TooManyRequests { retry_after: String },
    /// 200 `application/json` whose body is not JSON.
    MalformedJson,
    /// 302 to another place.
    Redirect { location: String },
    /// 200 with `bytes` of zeros, written as they go; `declared` sends `Content-Length`
    /// first, else the body ends when the connection closes.
    Huge { bytes: u64, declared: bool },
    /// Accepts the request and never answers.
    Tarpit,
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The path without the query.
    pub path: String,
}

type Route = dyn Fn(&str, &str) -> Answer + Send + Sync;

/// A running hostile server; stops (and drops every connection) when dropped.
pub struct Hostile {
    url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    task: JoinHandle<()>,
}

impl Hostile {
    /// Serves `route(method, path)` on a free loopback port.
    pub async fn start(route: impl Fn(&str, &str) -> Answer + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("hostile server: cannot bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("hostile server: no address: {e}"));
        let hits = Arc::new(Mutex::new(Vec::new()));
        let route: Arc<Route> = Arc::new(route);
        let seen = hits.clone();
        let task = tokio::spawn(async move {
            let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    return;
                };
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (route, seen) = (route.clone(), seen.clone());
                connections.spawn(async move {
                    let _ = tokio::time::timeout(MAX_HOLD, serve(stream, &*route, &seen)).await;
                    drop(permit);
                });
                // Reap finished connections so the set stays as small as the live ones.
                while connections.try_join_next().is_some() {}
            }
        });
        Hostile {
            url: format!("http://{addr}"),
            hits,
            task,
        }
    }

    /// The server's URL, e.g. `http://127.0.0.1:41234`, for a connection Secret's `host`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every request so far, in order.
    pub fn hits(&self) -> Vec<Hit> {
        self.hits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many requests went to `path`.
    pub fn count(&self, path: &str) -> usize {
        self.hits().iter().filter(|hit| hit.path == path).count()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection.
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, route: &Route, seen: &Mutex<Vec<Hit>>) {
    let Some((hit, content_length)) = read_head(&mut stream).await else {
        return;
    };
    // Read (and drop) the request body, so the client sees its request taken.
    let mut left = content_length.min(BODY_MAX);
    let mut buf = [0u8; 8192];
    while left > 0 {
        match stream.read(&mut buf[..left.min(8192)]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => left -= n,
        }
    }
    let answer = route(&hit.method, &hit.path);
    seen.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(hit);
    let _ = respond(&mut stream, answer).await;
}

/// The request line and `Content-Length` of one request head.
async fn read_head(stream: &mut TcpStream) -> Option<(Hit, usize)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= HEAD_MAX || stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.lines();
    let mut request_line = lines.next()?.split_whitespace();
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?;
    let path = target.split('?').next().unwrap_or(target).to_owned();
    let content_length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0);
    Some((Hit { method, path }, content_length))
}

async fn respond(stream: &mut TcpStream, answer: Answer) -> std::io::Result<()> {
    let simple = |status: u16, extra: &str, content_type: &str, body: &str| {
        format!(
            "HTTP/1.1 {status} {}\r\n{extra}Content-Type: {content_type}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            reason(status),
            body.len()
        )
    };
    let text = match answer {
        Answer::Page {
            status,
            content_type,
            body,
        } => simple(status, "", content_type, &body),
        Answer::Csrf => simple(
            200,
            "Set-Cookie: _csrf_token=hostile; HttpOnly; Path=/\r\n",
            "application/json",
            r#"{"csrf_token": "hostile-csrf-token"}"#,
        ),
        Answer::TooManyRequests { retry_after } => simple(
            429,
            &format!("Retry-After: {retry_after}\r\n"),
            "application/json",
            r#"{"message": "Too many login attempts."}"#,
        ),
        Answer::MalformedJson => simple(200, "", "application/json", r#"{"csrf_token": "#),
        Answer::Redirect { location } => {
            simple(302, &format!("Location: {location}\r\n"), "text/html", "")
        }
        Answer::Huge { bytes, declared } => {
            let length = if declared {
                format!("Content-Length: {bytes}\r\n")
            } else {
                String::new()
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}Connection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
            let chunk = vec![b' '; 64 * 1024];
            let mut left = bytes;
            while left > 0 {
                let n = usize::try_from(left.min(chunk.len() as u64)).unwrap_or(chunk.len());
                // A client that stopped reading closes the connection: the write fails and
                // the stream ends here.
                stream.write_all(&chunk[..n]).await?;
                left -= n as u64;
            }
            return stream.shutdown().await;
        }
        Answer::Tarpit => {
            // Hold the connection until the client gives up or the server is dropped.
            let mut buf = [0u8; 1024];
            while stream.read(&mut buf).await.unwrap_or(0) > 0 {}
            return Ok(());
        }
    };
    stream.write_all(text.as_bytes()).await?;
    stream.shutdown().await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}
