//! The listener: accepts connections (optionally TLS), counts requests, injects faults and
//! runs each request through the router under the state lock.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio_rustls::TlsAcceptor;

use crate::faults::{FaultEngine, HANG, Outcome};
use crate::model::State;
use crate::reply::Reply;
use crate::request::{Req, decode_form};
use crate::{http, inspect, router, session};

/// What every connection task shares.
pub struct Shared {
    pub state: Mutex<State>,
    pub faults: Mutex<FaultEngine>,
    pub counts: Mutex<BTreeMap<String, u64>>,
    pub secure: bool,
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Accepts connections until `shutdown` changes or its sender is dropped.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(connection(stream, tls.clone(), shared.clone(), shutdown.clone()));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
        }
    }
}

async fn connection(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let kill = Arc::new(Notify::new());
    match tls {
        Some(acceptor) => {
            let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
            if let Ok(Ok(tls_stream)) = handshake.await {
                serve_io(TokioIo::new(tls_stream), shared, kill, shutdown).await;
            }
        }
        None => serve_io(TokioIo::new(stream), shared, kill, shutdown).await,
    }
}

/// Serves HTTP/1.1 on one connection; a dropped-connection fault or shutdown ends it abruptly.
async fn serve_io<I>(
    io: I,
    shared: Arc<Shared>,
    kill: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let svc_kill = kill.clone();
    let service =
        hyper::service::service_fn(move |req| handle(req, shared.clone(), svc_kill.clone()));
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    tokio::select! {
        _ = conn => {}
        _ = kill.notified() => {}
        _ = shutdown.changed() => {}
    }
}

async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    kill: Arc<Notify>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let body = axum::body::to_bytes(Body::new(body), 4 << 20)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    if path.starts_with("/_emulator/") {
        return Ok(inspect::handle(&shared, &parts.method, &path, &body).into_response());
    }
    let (key, route) = router::resolve(&parts.method, &path);
    *lock(&shared.counts).entry(key.clone()).or_insert(0) += 1;
    let (delay, outcome) = lock(&shared.faults).decide(&key);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match outcome {
        Outcome::Proceed => {}
        Outcome::Unavailable => {
            return Ok(
                Reply::new(503, "text/plain; charset=utf-8", "Service Unavailable\n")
                    .into_response(),
            );
        }
        Outcome::Drop => {
            kill.notify_one();
            std::future::pending::<()>().await;
        }
        Outcome::Hang => tokio::time::sleep(HANG).await,
        Outcome::Answer(answer) => {
            return Ok(Reply::new(answer.status, "application/json", answer.body).into_response());
        }
    }
    let is_form = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let mut req = Req {
        method: parts.method,
        query: decode_form(parts.uri.query().unwrap_or("").as_bytes()),
        form: if is_form {
            decode_form(&body)
        } else {
            Vec::new()
        },
        path,
        headers: parts.headers,
        body,
        sid: None,
        session_changed: false,
    };
    let reply = {
        let mut state = lock(&shared.state);
        req.sid = session::cookie_sid(&req).filter(|s| session::resume(&mut state, s));
        let mut reply = http::dispatch(&mut state, &mut req, &route);
        if !matches!(route, router::Route::Root | router::Route::CsrfToken) {
            session::mark_login_touch(&mut state, &mut req);
        }
        if !reply.has_header("Set-Cookie")
            && let Some(cookie) = session::set_cookie(&mut state, &req, shared.secure)
        {
            reply = reply.header("Set-Cookie", cookie);
        }
        reply
    };
    let reply = if req.path.starts_with("/api/") {
        api_cors(reply)
    } else {
        reply
    };
    Ok(reply.into_response())
}

/// The CORS headers Quay puts on every API answer.
fn api_cors(r: Reply) -> Reply {
    r.header("Access-Control-Allow-Origin", "*")
        .header(
            "Access-Control-Allow-Methods",
            "DELETE, GET, HEAD, OPTIONS, POST, PUT",
        )
        .header("Access-Control-Max-Age", "21600")
        .header(
            "Access-Control-Allow-Headers",
            "AUTHORIZATION, CONTENT-TYPE, X-REQUESTED-WITH",
        )
}
