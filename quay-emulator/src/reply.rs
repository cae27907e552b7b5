//! The response type handlers return, and the error bodies of Quay's catalogue (protocol §9).

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Response, StatusCode};
use serde_json::{Value, json};

/// A response under construction.
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";

impl Reply {
    /// A response with a status, a content type and a body.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// A JSON response, serialised like Python's `json.dumps` (`", "` and `": "` separators).
    pub fn json(status: u16, value: &Value) -> Reply {
        Reply::new(status, JSON, python_json(value))
    }

    /// An HTML response.
    pub fn html(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::new(status, HTML, body)
    }

    /// A `302 FOUND` to `location` with an empty body, as Flask's redirect().
    pub fn redirect(location: &str) -> Reply {
        Reply::new(302, HTML, Vec::new()).header("Location", location)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Whether a header with this name (case-insensitive) is already set.
    pub fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// Converts into an HTTP response; headers that are not valid HTTP are skipped.
    pub fn into_response(self) -> Response<Body> {
        let mut resp = Response::new(Body::from(self.body));
        *resp.status_mut() = self.status;
        for (name, value) in self.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                resp.headers_mut().append(n, v);
            }
        }
        resp
    }
}

/// A JSON object whose keys keep the given order, as a Python dict does (serde_json's map
/// sorts them); values are serialised like [`python_json`].
pub fn ordered_object(fields: &[(&str, Value)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&Value::from(*k).to_string());
        out.push_str(": ");
        write_value(v, &mut out);
    }
    out.push('}');
    out
}

/// Serialises JSON with the separators of Python's `json.dumps`, which Quay's API uses.
pub fn python_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Value::from(k.as_str()).to_string());
                out.push_str(": ");
                write_value(v, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The fields of the API problem object, in Quay's order.
fn problem_fields(
    base: &str,
    status: u16,
    error_type: &str,
    detail: &str,
) -> Vec<(&'static str, Value)> {
    vec![
        ("detail", json!(detail)),
        ("error_message", json!(detail)),
        ("error_type", json!(error_type)),
        ("title", json!(error_type)),
        ("type", json!(format!("{base}/api/v1/error/{error_type}"))),
        ("status", json!(status)),
    ]
}

/// (a) The API problem object.
pub fn problem(base: &str, status: u16, error_type: &str, detail: &str) -> Reply {
    let fields = problem_fields(base, status, error_type, detail);
    Reply::new(status, JSON, ordered_object(&fields))
}

/// 401 for a missing, invalid, revoked or expired credential.
pub fn invalid_token(base: &str) -> Reply {
    problem(base, 401, "invalid_token", "Requires authentication")
}

/// 401 of `GET /api/v1/user/`, whose body starts with `session_required`.
pub fn invalid_token_user(base: &str) -> Reply {
    let mut fields = vec![("session_required", json!(false))];
    fields.extend(problem_fields(
        base,
        401,
        "invalid_token",
        "Requires authentication",
    ));
    Reply::new(401, JSON, ordered_object(&fields))
}

/// 403 for a valid token lacking a scope, or a caller lacking a permission.
pub fn insufficient_scope(base: &str) -> Reply {
    problem(base, 403, "insufficient_scope", "Unauthorized")
}

/// 404 problem object.
pub fn not_found(base: &str) -> Reply {
    problem(base, 404, "not_found", "Not Found")
}

/// 400 problem object with a message.
pub fn invalid_request(base: &str, message: &str) -> Reply {
    problem(base, 400, "invalid_request", message)
}

/// (b) `{"error": ...}` served as text/html, as Flask's abort() in Quay's web blueprint.
pub fn error_text(status: u16, message: &str) -> Reply {
    Reply::html(status, python_json(&json!({"error": message})))
}

/// The 403 of a failed CSRF check; names the user when one is authenticated.
pub fn csrf_failure(user: Option<&str>) -> Reply {
    let message = match user {
        Some(u) => format!("CSRF token was invalid or missing. (authorized: user {u})"),
        None => "CSRF token was invalid or missing.".to_string(),
    };
    error_text(403, &message).header("Vary", "Origin, Cookie")
}

/// (c) Werkzeug's HTML error pages.
pub fn werkzeug(status: u16) -> Reply {
    let (title, text) = match status {
        400 => (
            "400 Bad Request",
            "The browser (or proxy) sent a request that this server could not understand.",
        ),
        401 => (
            "401 Unauthorized",
            "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn&#39;t understand how to supply the credentials required.",
        ),
        403 => (
            "403 Forbidden",
            "You don&#39;t have the permission to access the requested resource. It is either read-protected or not readable by the server.",
        ),
        405 => (
            "405 Method Not Allowed",
            "The method is not allowed for the requested URL.",
        ),
        _ => (
            "500 Internal Server Error",
            "The server encountered an internal error.",
        ),
    };
    let heading = title.split_once(' ').map(|(_, h)| h).unwrap_or(title);
    Reply::html(
        status,
        format!(
            "<!doctype html>\n<html lang=en>\n<title>{title}</title>\n<h1>{heading}</h1>\n<p>{text}</p>\n"
        ),
    )
}

/// Werkzeug's 308 to the same URL with a trailing slash.
pub fn slash_redirect(base: &str, path: &str) -> Reply {
    let target = format!("{base}{path}/");
    Reply::html(
        308,
        format!(
            "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: <a href=\"{target}\">{target}</a>. If not, click the link.\n"
        ),
    )
    .header("Location", target)
}

/// The Angular index page; carries the CSRF token or, for errors, `window.__error_code`.
pub fn angular_page(status: u16, csrf: Option<&str>) -> Reply {
    let mut body = String::from(
        "<!DOCTYPE html>\n<html ng-app=\"quay\" class=\"onprem\">\n  <head>\n    <meta charset=\"utf-8\">\n  <title ng-bind=\"title + ' · Quay'\">Quay</title>\n    <script type=\"text/javascript\">\n",
    );
    if let Some(token) = csrf {
        body.push_str(&format!("      window.__token = '{token}';\n"));
    }
    if status != 200 {
        body.push_str(&format!(
            "      window.__error_code = {status};\n      window.__error_info = {{\"reason\": \"notfound\"}};\n"
        ));
    }
    body.push_str("    </script>\n  </head>\n  <body></body>\n</html>\n");
    Reply::html(status, body)
        .header("X-FRAME-OPTIONS", "DENY")
        .header("Cache-Control", "no-cache, no-store, must-revalidate")
}

/// (d) The 404 Angular page.
pub fn angular_404() -> Reply {
    angular_page(404, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_matches_python_separators() {
        let v = json!({"a": [1, "x"], "b": {"c": null}});
        assert_eq!(python_json(&v), r#"{"a": [1, "x"], "b": {"c": null}}"#);
    }

    #[test]
    fn problem_keys_keep_quays_order() {
        let r = insufficient_scope("http://127.0.0.1:8080");
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            r#"{"detail": "Unauthorized", "error_message": "Unauthorized", "error_type": "insufficient_scope", "title": "insufficient_scope", "type": "http://127.0.0.1:8080/api/v1/error/insufficient_scope", "status": 403}"#
        );
    }
}
