//! Sending one HTTP request to Quay: shared clients per TLS setup, timing, error mapping.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::error::Error as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, SET_COOKIE};

use super::bounds;
use super::error::QuayError;
use super::retry::HostHealth;
use super::settings::ConnectionSettings;
use crate::redacted::Redacted;

/// The User-Agent of every request; not a browser one, so Quay's XHR-only rule stays quiet.
pub const USER_AGENT: &str = concat!("quay-apitoken-operator/", env!("CARGO_PKG_VERSION"));

/// Sees every HTTP request to Quay, for metrics.
pub trait RequestObserver: Send + Sync {
    /// `endpoint` is "<METHOD> <route template>"; `status` is `None` when no answer came.
    fn observe(&self, endpoint: &'static str, status: Option<u16>, elapsed: Duration);
}

/// A Quay answer read in full: the body is small except for discovery (~150 KB), and never
/// more than [`bounds::BODY_MAX`].
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    /// The host that answered (the connection Secret's `host`).
    pub(crate) host: String,
    /// Whether that host had proven to be Quay when it answered (see [`Transport::proven`]).
    pub(crate) proven: bool,
}

impl Reply {
    /// The body parsed as JSON of type `T`.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &'static str,
    ) -> Result<T, QuayError> {
        serde_json::from_slice(&self.body).map_err(|_| QuayError::MalformedResponse {
            endpoint,
            what: "the JSON body has an unexpected shape",
        })
    }

    /// The error for an answer no specific rule covers, with Quay's explanation when it gave
    /// one, and without any text of the reply when the host never proved to be Quay.
    pub(crate) fn error(&self, endpoint: &'static str) -> QuayError {
        QuayError::for_reply_of(&self.host, self.proven, endpoint, self.status, &self.body)
    }

    /// A header as text, if present and readable.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// HTTP clients shared by all callers, one per TLS setup, plus the request observer.
pub(crate) struct Transport {
    observer: Option<Arc<dyn RequestObserver>>,
    clients: Mutex<HashMap<String, reqwest::Client>>,
    /// host → whether it answers lately: a host that stopped answering fails fast, so that
    /// workers are not held in its timeouts while other hosts wait.
    hosts: Mutex<HashMap<String, HostHealth>>,
    /// Hosts that answered like Quay: only their replies' text may reach status and events.
    quay_hosts: Mutex<HashSet<String>>,
    first_quiet: Duration,
}

impl Transport {
    pub(crate) fn new(observer: Option<Arc<dyn RequestObserver>>, first_quiet: Duration) -> Self {
        Self {
            observer,
            clients: Mutex::new(HashMap::new()),
            hosts: Mutex::new(HashMap::new()),
            quay_hosts: Mutex::new(HashSet::new()),
            first_quiet,
        }
    }

    /// Remembers that the settings' host answered as only Quay does (its CSRF token, see
    /// `session::read_csrf`), so that its refusals may be explained with its own words.
    pub(crate) fn proven(&self, settings: &ConnectionSettings) {
        let host = settings.host_string();
        let mut hosts = self
            .quay_hosts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !hosts.contains(&host) {
            hosts.insert(host);
        }
    }

    /// Whether `host` has answered like Quay (see [`Transport::proven`]).
    pub(crate) fn is_proven(&self, host: &str) -> bool {
        self.quay_hosts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(host)
    }

    /// The client for these TLS settings, built on first use.
    pub(crate) fn client(
        &self,
        settings: &ConnectionSettings,
    ) -> Result<reqwest::Client, QuayError> {
        let key = settings.tls_key();
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = clients.get(&key) {
            return Ok(client.clone());
        }
        // One crypto stack for the whole process (ring, as kube's): reqwest is built without
        // a provider of its own and takes the process default, set here if no one did.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Redirects are answers here (the web flow's token is in a Location header), never
        // something to follow; cookies are kept per session by hand, not in a shared jar.
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none());
        if !settings.validate_certs() {
            builder = builder.tls_danger_accept_invalid_certs(true);
        } else if let Some(ca) = settings.ca_bundle() {
            builder = builder.tls_certs_merge(ca.certs.iter().cloned());
        }
        let client = builder.build().map_err(|err| QuayError::ClientSetup {
            detail: error_chain(&err),
        })?;
        clients.insert(key, client.clone());
        Ok(client)
    }

    /// Sends one request, reads the whole answer (up to [`bounds::BODY_MAX`]), and reports it
    /// to the observer.
    pub(crate) async fn send(
        &self,
        settings: &ConnectionSettings,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<Reply, QuayError> {
        let host = settings.host_string();
        let down = self.health(&host, |health| health.admit(Instant::now()));
        if let Some(detail) = down {
            // Not sent: the host left its last requests unanswered and no probe got through.
            return Err(QuayError::Unreachable { host, detail });
        }
        let started = Instant::now();
        let result = async {
            let response = request.timeout(settings.timeout()).send().await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = read_capped(response, bounds::BODY_MAX).await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        }
        .await;
        let status = result.as_ref().ok().map(|(status, _, _)| *status);
        if let Some(observer) = &self.observer {
            observer.observe(endpoint, status, started.elapsed());
        }
        match &result {
            Ok((status, _, body)) => {
                let too_large = body.is_none();
                tracing::debug!(endpoint, status, too_large, "quay request");
            }
            Err(_) => tracing::debug!(endpoint, "quay request failed"),
        }
        let result = match result {
            Ok((status, headers, Some(body))) => Ok(Reply {
                status,
                headers,
                body,
                proven: self.is_proven(&host),
                host: host.clone(),
            }),
            Ok((_, _, None)) => Err(QuayError::ReplyTooLarge {
                endpoint,
                limit_mib: bounds::BODY_MAX / (1024 * 1024),
            }),
            Err(err) => Err(classify(err, endpoint, settings)),
        };
        match &result {
            Ok(_) | Err(QuayError::ReplyTooLarge { .. }) => {
                self.health(&host, HostHealth::answered)
            }
            Err(QuayError::Unreachable { detail, .. }) => {
                let why = detail.clone();
                self.health(&host, |health| health.unanswered(Instant::now(), why));
            }
            Err(e @ QuayError::Timeout { .. }) => {
                let why = e.to_string();
                self.health(&host, |health| health.unanswered(Instant::now(), why));
            }
            Err(_) => {}
        }
        result
    }

    fn health<T>(&self, host: &str, f: impl FnOnce(&mut HostHealth) -> T) -> T {
        let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        let first_quiet = self.first_quiet;
        f(hosts
            .entry(host.to_owned())
            .or_insert_with(|| HostHealth::new(first_quiet)))
    }
}

/// The body of an answer, read chunk by chunk; `None` as soon as it is known to be longer
/// than `cap` (from `Content-Length`, or once that much has arrived), without reading on: the
/// connection is dropped, so a host that streams gigabytes costs at most `cap` of memory.
pub(super) async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let declared = response.content_length().unwrap_or(0);
    if !usize::try_from(declared).is_ok_and(|declared| declared <= cap) {
        return Ok(None);
    }
    // The declared length is a hint within the cap, never trusted beyond it.
    let mut body = Vec::with_capacity(usize::try_from(declared).unwrap_or(0).min(cap));
    while let Some(chunk) = response.chunk().await? {
        if chunk.len() > cap.saturating_sub(body.len()) {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// Maps a transport failure to the error a user can act on.
fn classify(
    err: reqwest::Error,
    endpoint: &'static str,
    settings: &ConnectionSettings,
) -> QuayError {
    let err = err.without_url();
    if let Some(detail) = tls_failure(&err) {
        return QuayError::Tls {
            host: settings.host_string(),
            detail,
        };
    }
    if err.is_timeout() {
        return QuayError::Timeout {
            endpoint,
            timeout: settings.timeout(),
        };
    }
    if err.is_builder() {
        return QuayError::ClientSetup {
            detail: error_chain(&err),
        };
    }
    QuayError::Unreachable {
        host: settings.host_string(),
        detail: error_chain(&err),
    }
}

/// The rustls error in the source chain, if the failure happened in the TLS handshake.
fn tls_failure(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(err);
    while let Some(error) = current {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(tls.to_string());
        }
        // io::Error::source() skips the error it wraps (and reqwest nests io::Errors), so
        // step inside explicitly.
        current = match error.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static))
                .or_else(|| error.source()),
            None => error.source(),
        };
    }
    None
}

/// The messages of an error's causes joined by ": " (URLs already stripped by the caller).
fn error_chain(err: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = err.source();
    while let Some(error) = current {
        let text = error.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        current = error.source();
    }
    if parts.is_empty() {
        err.to_string()
    } else {
        parts.join(": ")
    }
}

/// The cookies of one Quay session, updated from every answer's `Set-Cookie`.
#[derive(Default, Clone)]
pub(crate) struct CookieJar {
    cookies: BTreeMap<String, Redacted>,
}

impl CookieJar {
    /// Applies every `Set-Cookie` of an answer; an expired or emptied cookie is dropped.
    pub(crate) fn update(&mut self, headers: &HeaderMap) {
        for value in headers.get_all(SET_COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            let mut parts = text.split(';');
            let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim());
            let removed = parts.any(|attribute| {
                let attribute = attribute.trim().to_ascii_lowercase();
                attribute == "max-age=0" || attribute.starts_with("max-age=-")
            });
            if value.is_empty() || removed {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), Redacted::new(value));
            }
        }
    }

    /// The `Cookie` request header, if there is any cookie.
    pub(crate) fn header(&self) -> Option<Redacted> {
        if self.cookies.is_empty() {
            return None;
        }
        let joined = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={}", value.expose()))
            .collect::<Vec<_>>()
            .join("; ");
        Some(Redacted::new(joined))
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue, SET_COOKIE};

    use super::CookieJar;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(SET_COOKIE, HeaderValue::from_str(value).expect("header"));
        }
        map
    }

    /// The session cookie is replaced by each answer, as Flask refreshes it every time.
    #[test]
    fn cookie_jar_keeps_the_latest_value() {
        let mut jar = CookieJar::default();
        assert!(jar.header().is_none());
        jar.update(&headers(&[
            "_csrf_token=one; HttpOnly; Path=/; SameSite=Lax",
        ]));
        jar.update(&headers(&[
            "_csrf_token=.two.x; Expires=Wed, 30 Dec 2026 19:11:37 GMT; HttpOnly; Path=/",
            "other=v",
        ]));
        let header = jar.header().expect("cookies");
        assert_eq!(header.expose(), "_csrf_token=.two.x; other=v");
        assert_eq!(format!("{header:?}"), "<redacted>");
    }

    /// A cookie the server clears is no longer sent.
    #[test]
    fn cookie_jar_drops_cleared_cookies() {
        let mut jar = CookieJar::default();
        jar.update(&headers(&["a=1", "b=2"]));
        jar.update(&headers(&["a=; Path=/", "b=3; Max-Age=0"]));
        assert!(jar.header().is_none());
    }
}
