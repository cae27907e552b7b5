//! One signed-in Quay session per account, shared by every caller, and the sign-in itself.
//!
//! Quay punishes failed sign-ins with a per-account back-off and logs a person out of
//! every browser on sign-out, so this module signs in as rarely as it can: once per
//! account, again only when Quay answers 401 on the session, never with a password Quay
//! already rejected, and it never signs out.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::bounds;
use super::error::QuayError;
use super::settings::ConnectionSettings;
use super::transport::{CookieJar, Reply, Transport};
use crate::clock::deadline_after;
use crate::redacted::Redacted;

/// How many rejected settings fingerprints an account remembers.
const REJECTED_MEMORY: usize = 16;

/// What a request needs from the session, copied out so no lock is held while it runs.
pub(crate) struct Credentials {
    pub(crate) cookie: Option<Redacted>,
    pub(crate) csrf: Redacted,
    pub(crate) generation: u64,
}

/// The shared state of one (host, username) account.
#[derive(Default)]
pub(crate) struct Account {
    /// Serializes mints, so the web flow's before/after diff sees only its own token.
    pub(crate) mint_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
    state: tokio::sync::Mutex<AccountState>,
}

#[derive(Default)]
struct AccountState {
    session: Option<Session>,
    generation: u64,
    rejected: VecDeque<(String, QuayError)>,
    backoff_until: Option<Instant>,
}

struct Session {
    cookies: CookieJar,
    csrf: Redacted,
    generation: u64,
    /// The session is only lent to callers that know the password that opened it.
    password_digest: String,
}

impl Account {
    /// Credentials of a live session, signing in first when there is none usable.
    ///
    /// `stale` is the generation a caller saw rejected with 401: if the session is still
    /// that one, sign in again; if another caller already renewed it, reuse the new one.
    pub(crate) async fn credentials(
        &self,
        transport: &Transport,
        settings: &ConnectionSettings,
        stale: Option<u64>,
    ) -> Result<Credentials, QuayError> {
        let digest = password_digest(settings);
        let mut state = self.state.lock().await;
        if let Some(session) = &state.session
            && session.password_digest == digest
            && Some(session.generation) != stale
        {
            return Ok(session.credentials());
        }
        let fingerprint = settings.fingerprint();
        if let Some((_, err)) = state.rejected.iter().find(|(fp, _)| *fp == fingerprint) {
            return Err(err.clone());
        }
        if let Some(until) = state.backoff_until {
            let now = Instant::now();
            if until > now {
                return Err(QuayError::LoginBackoff {
                    username: settings.username().to_owned(),
                    retry_after: round_up(until - now),
                });
            }
        }
        // Holding the lock through sign-in makes concurrent callers wait for one sign-in
        // instead of each starting their own.
        match sign_in(transport, settings).await {
            Ok((cookies, csrf)) => {
                state.generation += 1;
                state.backoff_until = None;
                let session = Session {
                    cookies,
                    csrf,
                    generation: state.generation,
                    password_digest: digest,
                };
                let credentials = session.credentials();
                state.session = Some(session);
                Ok(credentials)
            }
            Err(err) => {
                state.session = None;
                match &err {
                    QuayError::InvalidCredentials { .. } | QuayError::UserDisabled { .. } => {
                        if state.rejected.len() >= REJECTED_MEMORY {
                            state.rejected.pop_front();
                        }
                        state.rejected.push_back((fingerprint, err.clone()));
                    }
                    QuayError::LoginBackoff { retry_after, .. } => {
                        let until = deadline_after(Instant::now(), *retry_after);
                        state.backoff_until = Some(until);
                    }
                    _ => {}
                }
                Err(err)
            }
        }
    }

    /// Keeps the cookies Quay set on an answer, if the session is still the one used.
    pub(crate) async fn absorb(&self, reply: &Reply, generation: u64) {
        let mut state = self.state.lock().await;
        if let Some(session) = state.session.as_mut()
            && session.generation == generation
        {
            session.cookies.update(&reply.headers);
        }
    }
}

impl Session {
    fn credentials(&self) -> Credentials {
        Credentials {
            cookie: self.cookies.header(),
            csrf: self.csrf.clone(),
            generation: self.generation,
        }
    }
}

/// Whether an answer says the session is gone: 401, or a CSRF refusal (the cookie no
/// longer carries the token we hold).
pub(crate) fn session_is_dead(reply: &Reply) -> bool {
    reply.status == 401
        || (reply.status == 403
            && String::from_utf8_lossy(&reply.body).contains("CSRF token was invalid"))
}

fn password_digest(settings: &ConnectionSettings) -> String {
    hex::encode(Sha256::digest(settings.password().expose().as_bytes()))
}

fn round_up(duration: Duration) -> Duration {
    let whole = duration.as_secs();
    Duration::from_secs(whole.saturating_add(u64::from(duration.subsec_nanos() > 0)))
}

#[derive(Deserialize)]
struct CsrfBody {
    csrf_token: String,
}

#[derive(Deserialize)]
struct SigninRefusal {
    #[serde(default, rename = "invalidCredentials")]
    invalid_credentials: bool,
    #[serde(default)]
    message: String,
}

const CSRF: &str = "GET /csrf_token";
/// The longest CSRF token taken; Quay's are about a hundred characters.
const CSRF_MAX: usize = 1024;
const SIGNIN: &str = "POST /api/v1/signin";

/// `GET /csrf_token` then `POST /api/v1/signin`; returns the session cookies and CSRF token.
async fn sign_in(
    transport: &Transport,
    settings: &ConnectionSettings,
) -> Result<(CookieJar, Redacted), QuayError> {
    let http = transport.client(settings)?;
    let mut cookies = CookieJar::default();
    let csrf = fetch_csrf(transport, settings, &http, &mut cookies).await?;

    let mut request = http
        .post(settings.url(&["api", "v1", "signin"]))
        .header("X-CSRF-Token", csrf.expose())
        .json(&serde_json::json!({
            "username": settings.username(),
            "password": settings.password().expose(),
        }));
    if let Some(cookie) = cookies.header() {
        request = request.header(reqwest::header::COOKIE, cookie.expose());
    }
    let reply = transport.send(settings, SIGNIN, request).await?;
    cookies.update(&reply.headers);
    let username = settings.username().to_owned();
    match reply.status {
        200 => {
            let csrf = match reply.header("X-Next-CSRF-Token") {
                Some(next) if !next.is_empty() => Redacted::new(next),
                // Sign-in rotates the token; without the header, ask for the new one.
                _ => fetch_csrf(transport, settings, &http, &mut cookies).await?,
            };
            tracing::info!(host = %settings.host_string(), %username, "signed in to Quay");
            Ok((cookies, csrf))
        }
        403 => Err(signin_refusal(&reply.body, username)),
        429 => Err(QuayError::LoginBackoff {
            username,
            retry_after: bounds::retry_after(reply.header("Retry-After")),
        }),
        // Quay without FEATURE_DIRECT_LOGIN (e.g. OIDC-only) has no such route: 404; a
        // proxy or web route in front may answer 405 instead.
        status @ (404 | 405) => Err(QuayError::PasswordSignInDisabled {
            host: settings.host_string(),
            status,
        }),
        _ => Err(reply.error(SIGNIN)),
    }
}

/// What a 403 on sign-in means: Quay's `invalidCredentials` answer says whether the user is
/// disabled; anything else is unexpected.
pub(super) fn signin_refusal(body: &[u8], username: String) -> QuayError {
    match serde_json::from_slice::<SigninRefusal>(body) {
        Ok(refusal) if refusal.invalid_credentials => {
            if refusal.message.to_ascii_lowercase().contains("disabled") {
                QuayError::UserDisabled { username }
            } else {
                QuayError::InvalidCredentials { username }
            }
        }
        _ => QuayError::UnexpectedResponse {
            endpoint: SIGNIN,
            status: 403,
        },
    }
}

/// The CSRF token of a `GET /csrf_token` answer. A 200 whose JSON carries a non-empty
/// `csrf_token` is an answer only Quay gives (an ordinary web server has no such route, and
/// no JSON API of a cluster names that key at that path), so it is what proves a host.
pub(super) fn read_csrf(reply: &Reply) -> Result<Redacted, QuayError> {
    if reply.status != 200 {
        return Err(reply.error(CSRF));
    }
    let body: CsrfBody = reply.json(CSRF)?;
    // It goes back in a header: a value a header cannot carry would fail as a client error.
    let token = &body.csrf_token;
    if token.is_empty() || token.len() > CSRF_MAX || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(QuayError::MalformedResponse {
            endpoint: CSRF,
            what: "the CSRF token is empty, too long or not printable ASCII",
        });
    }
    Ok(Redacted::new(body.csrf_token))
}

/// Asks a host not yet proven to be Quay for a CSRF token, as a client without a session
/// (token calls) does once, so that Quay's explanations of its refusals can be reported. A
/// host that answers otherwise stays unproven; only a host that cannot be reached fails.
pub(crate) async fn prove_host(
    transport: &Transport,
    settings: &ConnectionSettings,
) -> Result<(), QuayError> {
    if transport.is_proven(&settings.host_string()) {
        return Ok(());
    }
    let http = transport.client(settings)?;
    let request = http.get(settings.url(&["csrf_token"]));
    match transport.send(settings, CSRF, request).await {
        Ok(reply) => {
            if read_csrf(&reply).is_ok() {
                transport.proven(settings);
            }
            Ok(())
        }
        Err(err @ (QuayError::Timeout { .. } | QuayError::Unreachable { .. })) => Err(err),
        Err(_) => Ok(()),
    }
}

async fn fetch_csrf(
    transport: &Transport,
    settings: &ConnectionSettings,
    http: &reqwest::Client,
    cookies: &mut CookieJar,
) -> Result<Redacted, QuayError> {
    let mut request = http.get(settings.url(&["csrf_token"]));
    if let Some(cookie) = cookies.header() {
        request = request.header(reqwest::header::COOKIE, cookie.expose());
    }
    let reply = transport.send(settings, CSRF, request).await?;
    let csrf = read_csrf(&reply)?;
    transport.proven(settings);
    cookies.update(&reply.headers);
    Ok(csrf)
}
