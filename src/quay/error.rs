//! Everything that can go wrong talking to Quay, each a sentence a user can act on.

use std::time::Duration;

use crate::redacted::Redacted;

/// A failed Quay operation. Messages name endpoints, users and IDs, never secret values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuayError {
    /// Sign-in answered 403 `invalidCredentials` (wrong password or unknown user).
    #[error(
        "Quay rejected the username or password of `{username}`; fix the connection Secret \
         (the operator will not sign in again until it changes, to avoid Quay's login back-off)"
    )]
    InvalidCredentials { username: String },
    /// Sign-in answered 403 with "This user has been disabled".
    #[error(
        "the Quay user `{username}` is disabled; ask a Quay superuser to enable it, then \
         update the connection Secret to retry"
    )]
    UserDisabled { username: String },
    /// `POST /api/v1/signin` answered 404 or 405: the instance has no password sign-in.
    #[error(
        "Quay at {host} does not offer password sign-in (HTTP {status} on /api/v1/signin); \
         enable FEATURE_DIRECT_LOGIN or database authentication in Quay"
    )]
    PasswordSignInDisabled { host: String, status: u16 },
    /// Sign-in answered 429: Quay's back-off after failed logins is running.
    #[error(
        "Quay is refusing sign-in of `{username}` after earlier failed attempts; retrying in \
         {}s (if this repeats, reset the account's password in Quay)",
        .retry_after.as_secs()
    )]
    LoginBackoff {
        username: String,
        retry_after: Duration,
    },
    /// Quay rejected a session it had just created (401 after a fresh sign-in).
    #[error(
        "Quay rejected a fresh session of `{username}` on {endpoint}; check the Quay logs and \
         whether a proxy strips cookies"
    )]
    SessionRejected {
        username: String,
        endpoint: &'static str,
    },
    /// `GET /api/v1/app/{client_id}` answered 404.
    #[error(
        "Quay has no OAuth application with client ID `{client_id}`; check clientId or create \
         the application"
    )]
    UnknownClientId { client_id: String },
    /// The account is not an administrator of the application's organization.
    #[error(
        "the Quay user `{username}` is not an administrator of organization `{org}`, which owns \
         the OAuth application; add it to a team with the admin role (e.g. owners)"
    )]
    NotOrganizationAdmin { username: String, org: String },
    /// The account cannot hold some requested rights (e.g. `super:user` without being a
    /// Quay superuser), although it administers the application's organization.
    #[error(
        "the Quay user `{username}` cannot hold the rights `{rights}`: {why}; remove them from \
         rights, or use an account that holds them"
    )]
    RightNotHeld {
        rights: String,
        username: String,
        why: String,
    },
    /// The token API answered 403 to a mint: a missing permission for one of the scopes, or
    /// no admin right on the organization; Quay words both alike (protocol §15).
    #[error(
        "Quay refused to mint a token with the scopes `{scopes}` for an application of \
         organization `{org}`: the account lacks a permission one of them needs, or is not an \
         administrator of the organization"
    )]
    ScopesRefused { org: String, scopes: String },
    /// Quay refused a request and said why (a 4xx with an explanation in its body).
    #[error("Quay refused {endpoint} (HTTP {status}): {explanation}")]
    Rejected {
        endpoint: &'static str,
        status: u16,
        explanation: String,
    },
    /// Quay refused the requested scopes.
    #[error("Quay refused the scopes `{scopes}`; use only rights this Quay supports")]
    InvalidScope { scopes: String },
    /// `/oauth/authorizeapp` refused `redirect_uri` (400 invalid_request).
    #[error(
        "Quay refused redirect URI {redirect_uri}; the host key must be Quay's own \
         SERVER_HOSTNAME (with its scheme), or the application's redirect URI must start with it"
    )]
    RedirectUriRejected { redirect_uri: String },
    /// Token assignment answered 404.
    #[error(
        "Quay could not assign a token to `{username}`: the user does not exist, or token \
         assignment (FEATURE_ASSIGN_OAUTH_TOKEN) is disabled; check forUser"
    )]
    ForUserNotFound { username: String },
    /// The token API answered "Token limit reached".
    #[error(
        "the OAuth application `{client_id}` has reached Quay's token limit; revoke unused \
         tokens or raise OAUTH_APPLICATION_MAXIMUM_TOKEN_COUNT"
    )]
    TokenLimitReached { client_id: String },
    /// The web flow minted a token but its Quay id could not be learnt unambiguously.
    #[error(
        "a token was minted but its Quay id is unknown ({new_entries} new authorizations \
         appeared instead of 1, probably someone else minted for the same application at the \
         same time); the operator revokes the new untracked tokens of the application on its \
         next attempt and mints again"
    )]
    AmbiguousTokenId {
        new_entries: usize,
        /// The token and the ids it may have, for the caller to narrow down (see
        /// `QuayClient::narrow_held`); `None` once that has been given up.
        held: Option<Box<HeldMint>>,
    },
    /// TLS verification of the Quay server failed.
    #[error(
        "TLS verification of {host} failed ({detail}); set caCert to the CA that signed Quay's \
         certificate, or validateCerts to false"
    )]
    Tls { host: String, detail: String },
    /// A request took longer than the configured timeout.
    #[error("Quay did not answer {endpoint} within {}s; raise timeout or check Quay's load", .timeout.as_secs())]
    Timeout {
        endpoint: &'static str,
        timeout: Duration,
    },
    /// The host could not be reached (DNS, connection refused, reset).
    #[error("cannot reach Quay at {host} ({detail}); check the host key and the network")]
    Unreachable { host: String, detail: String },
    /// Quay answered with a server error.
    #[error("Quay is unavailable: {endpoint} answered HTTP {status}; the operator will retry")]
    ServerError { endpoint: &'static str, status: u16 },
    /// Quay answered with a status the operator does not expect.
    #[error(
        "Quay answered {endpoint} with unexpected HTTP {status}; check that host points at \
         Quay (3.12 or later) and see the Quay logs"
    )]
    UnexpectedResponse { endpoint: &'static str, status: u16 },
    /// Quay answered with a body the operator cannot read.
    #[error(
        "Quay's answer to {endpoint} could not be read ({what}); check that host points at \
         Quay and not at a proxy page"
    )]
    MalformedResponse {
        endpoint: &'static str,
        what: &'static str,
    },
    /// The reply body was larger than the operator reads from any Quay answer.
    #[error(
        "the answer to {endpoint} is larger than {limit_mib} MiB, more than Quay ever sends; \
         check that host points at Quay and not at another service"
    )]
    ReplyTooLarge {
        endpoint: &'static str,
        limit_mib: usize,
    },
    /// A host that never answered like Quay refused a request; its reply is not repeated,
    /// since the host may be any service the operator can reach.
    #[error(
        "{host} answered {endpoint} with HTTP {status} and has not answered like Quay (no CSRF \
         token at /csrf_token), so its reply is not shown; check that host points at Quay"
    )]
    NotQuay {
        host: String,
        endpoint: &'static str,
        status: u16,
    },
    /// The HTTP client could not be built from the TLS settings.
    #[error("cannot set up the HTTP client for Quay ({detail}); check caCert")]
    ClientSetup { detail: String },
}

/// A web-flow token whose id is one of several candidates: the value is kept so that the
/// mint need not be thrown away once the candidates narrow to one.
#[derive(Clone, PartialEq, Eq)]
pub struct HeldMint {
    /// The minted token itself.
    pub token: Redacted,
    /// The application's new tokens with the mint's scopes; ours is one of them.
    pub candidates: Vec<String>,
    /// When Quay will expire it (RFC 3339), if known.
    pub expires_at: Option<String>,
    /// The lifetime Quay gave it, in seconds from the mint.
    pub expires_in: Option<u64>,
}

impl std::fmt::Debug for HeldMint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldMint")
            .field("candidates", &self.candidates)
            .finish_non_exhaustive()
    }
}

impl QuayError {
    /// Whether retrying later, with the same inputs, may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::InvalidCredentials { .. }
            | Self::UserDisabled { .. }
            | Self::PasswordSignInDisabled { .. }
            | Self::UnknownClientId { .. }
            | Self::NotOrganizationAdmin { .. }
            | Self::InvalidScope { .. }
            | Self::RightNotHeld { .. }
            | Self::ScopesRefused { .. }
            | Self::Rejected { .. }
            | Self::RedirectUriRejected { .. }
            | Self::ForUserNotFound { .. }
            | Self::TokenLimitReached { .. }
            | Self::ClientSetup { .. } => false,
            // TLS is transient: the fix (a renewed certificate) often happens in Quay,
            // without any change to the inputs the operator watches.
            Self::LoginBackoff { .. }
            | Self::SessionRejected { .. }
            | Self::AmbiguousTokenId { .. }
            | Self::Tls { .. }
            | Self::Timeout { .. }
            | Self::Unreachable { .. }
            | Self::ServerError { .. }
            | Self::UnexpectedResponse { .. }
            | Self::MalformedResponse { .. }
            | Self::ReplyTooLarge { .. }
            | Self::NotQuay { .. } => true,
        }
    }

    /// A CamelCase reason, usable as a Kubernetes condition reason and a metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::InvalidCredentials { .. } => "InvalidCredentials",
            Self::UserDisabled { .. } => "UserDisabled",
            Self::PasswordSignInDisabled { .. } => "PasswordSignInDisabled",
            Self::LoginBackoff { .. } => "LoginBackoff",
            Self::SessionRejected { .. } => "SessionRejected",
            Self::UnknownClientId { .. } => "UnknownClientId",
            Self::NotOrganizationAdmin { .. } => "NotOrganizationAdmin",
            Self::InvalidScope { .. } => "InvalidScope",
            Self::RightNotHeld { .. } | Self::ScopesRefused { .. } => "RightNotHeld",
            Self::Rejected { .. } => "QuayRejected",
            Self::RedirectUriRejected { .. } => "RedirectUriRejected",
            Self::ForUserNotFound { .. } => "UserNotFound",
            Self::TokenLimitReached { .. } => "TokenLimitReached",
            Self::AmbiguousTokenId { .. } => "TokenIdUnknown",
            Self::Tls { .. } => "TlsError",
            Self::Timeout { .. } => "Timeout",
            Self::Unreachable { .. } => "QuayUnreachable",
            Self::ServerError { .. } => "QuayUnavailable",
            Self::UnexpectedResponse { .. }
            | Self::MalformedResponse { .. }
            | Self::ReplyTooLarge { .. }
            | Self::NotQuay { .. } => "UnexpectedResponse",
            Self::ClientSetup { .. } => "InvalidConnectionSettings",
        }
    }

    /// How long to wait before retrying, when Quay said so (login back-off).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::LoginBackoff { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The error for a status no specific rule covers: 5xx is Quay being down, else unexpected.
    pub(crate) fn for_status(endpoint: &'static str, status: u16) -> Self {
        if status >= 500 || status == 429 {
            Self::ServerError { endpoint, status }
        } else {
            Self::UnexpectedResponse { endpoint, status }
        }
    }

    /// Like [`QuayError::for_status`], but a 4xx whose body explains itself carries that
    /// explanation, so the user reads Quay's reason instead of a bare status code.
    pub(crate) fn for_reply(endpoint: &'static str, status: u16, body: &[u8]) -> Self {
        if (400..500).contains(&status)
            && status != 429
            && let Some(explanation) = explanation(body)
        {
            return Self::Rejected {
                endpoint,
                status,
                explanation,
            };
        }
        Self::for_status(endpoint, status)
    }

    /// The error for a reply of `host` no specific rule covers: [`QuayError::for_reply`] once
    /// the host has proven to be Quay; before, only the endpoint and the status, so that the
    /// operator cannot be used to read what other services of its network answer.
    pub(crate) fn for_reply_of(
        host: &str,
        proven: bool,
        endpoint: &'static str,
        status: u16,
        body: &[u8],
    ) -> Self {
        if proven {
            return Self::for_reply(endpoint, status, body);
        }
        if status >= 500 || status == 429 {
            // A server error carries no reply text and keeps its retry meaning.
            return Self::for_status(endpoint, status);
        }
        Self::NotQuay {
            host: host.to_owned(),
            endpoint,
            status,
        }
    }
}

/// The longest explanation kept, in characters; Quay's own can quote a whole input.
const EXPLANATION_MAX: usize = 160;
/// Quoted input longer than this is elided from an explanation.
const QUOTE_MAX: usize = 24;

/// Quay's explanation of a refusal, as one short sentence: the first of `error_message`,
/// `message`, `error_description` and `detail` that says more than its status line.
pub(crate) fn explanation(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let generic = ["", "unauthorized", "forbidden", "not found", "bad request"];
    let text = ["error_message", "message", "error_description", "detail"]
        .iter()
        .filter_map(|key| value.get(key)?.as_str())
        .map(str::trim)
        .find(|text| !generic.contains(&text.to_ascii_lowercase().as_str()))?;
    let first_line = text.lines().next().unwrap_or_default().trim();
    let sentence = elide_quotes(first_line);
    let sentence = sentence.trim_end_matches(['.', ' ']);
    if sentence.is_empty() {
        return None;
    }
    Some(shorten(sentence, EXPLANATION_MAX))
}

/// Replaces long quoted runs (`'…'` or `"…"`) by their start, so an echoed input stays short.
fn elide_quotes(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(EXPLANATION_MAX * 2));
    let mut rest = text;
    while let Some(start) = rest.find(['\'', '"']) {
        let quote = rest[start..].chars().next().unwrap_or('\'');
        let after = &rest[start + 1..];
        let Some(len) = after.find(quote) else { break };
        let inner = &after[..len];
        out.push_str(&rest[..=start]);
        if inner.chars().count() > QUOTE_MAX {
            out.push_str(&shorten(inner, QUOTE_MAX / 2));
        } else {
            out.push_str(inner);
        }
        out.push(quote);
        rest = &after[len + 1..];
    }
    out.push_str(rest);
    out
}

/// At most `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::{QuayError, explanation};

    /// 66e: Quay quotes the whole 256-character name; the explanation keeps a stub of it.
    #[test]
    fn a_long_quoted_input_is_elided() {
        let name = "n".repeat(256);
        let body = serde_json::json!({
            "detail": format!("'{name}' is too long\n\nFailed validating 'maxLength' in schema"),
            "error_message": format!("'{name}' is too long\n\nFailed validating 'maxLength' in schema"),
            "error_type": "invalid_request",
            "status": 400,
        });
        let text = explanation(body.to_string().as_bytes()).expect("explained");
        assert_eq!(text, "'nnnnnnnnnnn…' is too long");
    }

    /// 63b: `message` only; the 403 of 66b says nothing beyond its status line.
    #[test]
    fn messages_are_taken_and_generic_ones_ignored() {
        assert_eq!(
            explanation(br#"{"message": "Invalid scope: nope:nope"}"#).as_deref(),
            Some("Invalid scope: nope:nope")
        );
        let forbidden = br#"{"detail": "Unauthorized", "error_message": "Unauthorized", "error_type": "insufficient_scope", "status": 403}"#;
        assert_eq!(explanation(forbidden), None);
        assert_eq!(explanation(b"<html>Bad Request</html>"), None);
        let oauth =
            br#"{"error": "invalid_request", "error_description": "The redirect URI is missing."}"#;
        assert_eq!(
            explanation(oauth).as_deref(),
            Some("The redirect URI is missing")
        );
    }

    /// Explanations are one sentence of bounded length, whatever Quay wrote.
    #[test]
    fn explanations_are_bounded() {
        let long = serde_json::json!({ "message": "word ".repeat(200) });
        let text = explanation(long.to_string().as_bytes()).expect("explained");
        assert!(text.chars().count() <= 160, "{text}");
        assert!(text.ends_with('…'));
    }

    /// A 4xx with an explanation is a refusal naming it; without one it stays a status error.
    #[test]
    fn for_reply_prefers_quays_words() {
        let err = QuayError::for_reply("POST /x", 400, br#"{"message": "name is required"}"#);
        assert_eq!(err.reason(), "QuayRejected");
        assert!(err.to_string().contains("name is required"), "{err}");
        assert!(!err.is_transient());
        assert_eq!(
            QuayError::for_reply("POST /x", 400, b"").reason(),
            "UnexpectedResponse"
        );
        assert_eq!(
            QuayError::for_reply("POST /x", 503, br#"{"message": "down"}"#).reason(),
            "QuayUnavailable"
        );
    }
}
