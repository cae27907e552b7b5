//! A few-line fake server for answers the emulator has no switch for (a Quay without password
//! sign-in, a non-Quay host, a proxy that eats cookies).

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Response, Uri};
use tokio::net::TcpListener;

#[derive(Clone, Copy)]
pub enum Stub {
    /// `/csrf_token` works; sign-in answers this status.
    SigninStatus(u16),
    /// Not Quay at all: 404 everywhere.
    NotQuay,
    /// `/csrf_token` answers an HTML page.
    HtmlCsrf,
    /// Sign-in works, every session request answers 401 anyway.
    RejectSessions,
}

/// Serves `stub` on a free loopback port; returns its URL.
pub async fn serve(stub: Stub) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = Router::new()
        .fallback(move |method: Method, uri: Uri| async move { answer(stub, &method, uri.path()) });
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

fn answer(stub: Stub, method: &Method, path: &str) -> Response<Body> {
    let reply = |status: u16, content_type: &str, body: &str| {
        Response::builder()
            .status(status)
            .header("Content-Type", content_type)
            .header("Set-Cookie", "_csrf_token=stub-session; HttpOnly; Path=/")
            .header("X-Next-CSRF-Token", "stub-next-token")
            .body(Body::from(body.to_owned()))
            .expect("response")
    };
    match (stub, method.as_str(), path) {
        (Stub::NotQuay, _, _) => reply(404, "text/html", "<html>Not Found</html>"),
        (Stub::HtmlCsrf, "GET", "/csrf_token") => reply(200, "text/html", "<html>hi</html>"),
        (_, "GET", "/csrf_token") => reply(200, "application/json", r#"{"csrf_token":"stub"}"#),
        (Stub::SigninStatus(status), "POST", "/api/v1/signin") => {
            reply(status, "text/html", "<html>nope</html>")
        }
        (_, "POST", "/api/v1/signin") => reply(200, "application/json", r#"{"success": true}"#),
        _ => reply(
            401,
            "application/json",
            r#"{"error_type": "invalid_token"}"#,
        ),
    }
}
