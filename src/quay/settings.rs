//! The connection Secret (`connSecretRef`) turned into checked, typed settings.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use sha2::{Digest, Sha256};
use url::Url;

use crate::redacted::Redacted;

/// Seconds per Quay request when the Secret has no `timeout` key (contract §2).
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;

/// The longest `timeout` a connection Secret may ask for (contract §2): one request may hold
/// its reconcile's slot this long, and a longer wait tells nothing a shorter one would not.
pub const MAX_TIMEOUT_SECS: u64 = 300;

/// What is wrong with a connection Secret; each variant names the key to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// A required key is absent.
    #[error("the connection Secret has no `{key}` key; add it")]
    Missing { key: &'static str },
    /// A key is present but empty.
    #[error("the `{key}` key of the connection Secret is empty; give it a value")]
    Empty { key: &'static str },
    /// A key holds bytes that are not UTF-8 text.
    #[error("the `{key}` key of the connection Secret is not UTF-8 text; store it as plain text")]
    NotUtf8 { key: &'static str },
    /// Only a `token` was given; an OAuth token cannot mint another token.
    #[error(
        "the connection Secret has a `token` but no `username`/`password`; ApiToken needs the \
         username and password of a Quay account because a token cannot mint another token"
    )]
    TokenOnly,
    /// `host` is not an http(s) URL of a Quay root.
    #[error("the `host` key of the connection Secret is not usable: {reason}")]
    InvalidHost { reason: &'static str },
    /// `validateCerts` is not a boolean.
    #[error("the `validateCerts` key of the connection Secret must be true/false, yes/no or 1/0")]
    InvalidValidateCerts,
    /// `timeout` is not a positive whole number of seconds, at most [`MAX_TIMEOUT_SECS`].
    #[error(
        "the `timeout` key of the connection Secret must be a positive whole number of seconds, \
         at most {MAX_TIMEOUT_SECS}"
    )]
    InvalidTimeout,
    /// `caCert` is not a PEM bundle of valid certificates.
    #[error(
        "the `caCert` key of the connection Secret is not a valid PEM certificate bundle: {reason}"
    )]
    InvalidCaCert { reason: String },
}

impl SettingsError {
    /// The Secret key the error is about.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Missing { key } | Self::Empty { key } | Self::NotUtf8 { key } => key,
            Self::TokenOnly => "password",
            Self::InvalidHost { .. } => "host",
            Self::InvalidValidateCerts => "validateCerts",
            Self::InvalidTimeout => "timeout",
            Self::InvalidCaCert { .. } => "caCert",
        }
    }
}

/// Extra trust roots from `caCert`: the PEM text as given plus its parsed certificates.
#[derive(Clone)]
pub(crate) struct CaBundle {
    pub(crate) pem: String,
    pub(crate) certs: Vec<reqwest::Certificate>,
}

/// Checked connection settings for one Quay account.
#[derive(Clone)]
pub struct ConnectionSettings {
    host: Url,
    username: String,
    password: Redacted,
    validate_certs: bool,
    timeout: Duration,
    ca_cert: Option<CaBundle>,
}

impl fmt::Debug for ConnectionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionSettings")
            .field("host", &self.host_string())
            .field("username", &self.username)
            .field("password", &self.password)
            .field("validate_certs", &self.validate_certs)
            .field("timeout", &self.timeout)
            .field("ca_cert", &self.ca_cert.as_ref().map(|ca| ca.certs.len()))
            .finish()
    }
}

impl ConnectionSettings {
    /// Reads and checks the data of a connection Secret (contract §2).
    pub fn from_secret_data(data: &BTreeMap<String, Vec<u8>>) -> Result<Self, SettingsError> {
        let host = parse_host(required(data, "host")?.trim())?;
        let username = match optional(data, "username")? {
            Some(username) => username.to_owned(),
            None if data.contains_key("token") && !data.contains_key("password") => {
                return Err(SettingsError::TokenOnly);
            }
            None => return Err(SettingsError::Missing { key: "username" }),
        };
        let password = match optional(data, "password")? {
            Some(password) => Redacted::new(password),
            None if data.contains_key("token") => return Err(SettingsError::TokenOnly),
            None => return Err(SettingsError::Missing { key: "password" }),
        };
        let validate_certs = match optional(data, "validateCerts")? {
            Some(value) => parse_bool(value.trim()).ok_or(SettingsError::InvalidValidateCerts)?,
            None => true,
        };
        let timeout = match optional(data, "timeout")? {
            Some(value) => parse_timeout(value.trim())?,
            None => Duration::from_secs(DEFAULT_TIMEOUT_SECS),
        };
        let ca_cert = optional(data, "caCert")?.map(parse_ca_bundle).transpose()?;
        Ok(Self {
            host,
            username,
            password,
            validate_certs,
            timeout,
            ca_cert,
        })
    }

    /// The normalized Quay URL without a trailing slash, as written to the result Secret.
    pub fn host_string(&self) -> String {
        self.host.as_str().trim_end_matches('/').to_owned()
    }

    /// The Quay account name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The Quay account password.
    pub fn password(&self) -> &Redacted {
        &self.password
    }

    /// Whether the server certificate is verified.
    pub fn validate_certs(&self) -> bool {
        self.validate_certs
    }

    /// The time allowed for each Quay request.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The `caCert` PEM text as given, if any.
    pub fn ca_cert_pem(&self) -> Option<&str> {
        self.ca_cert.as_ref().map(|ca| ca.pem.as_str())
    }

    pub(crate) fn ca_bundle(&self) -> Option<&CaBundle> {
        self.ca_cert.as_ref()
    }

    /// The URL of a path on this Quay; each segment is percent-encoded, so an ID taken
    /// from user input can never reach another route (`../`).
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.host.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.clear().extend(segments);
        }
        url
    }

    /// SHA-256 (hex) over every setting, so a caller can tell when the settings changed.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        // Length prefixes keep ("ab","c") and ("a","bc") apart.
        let mut field = |value: &[u8]| {
            hasher.update((value.len() as u64).to_be_bytes());
            hasher.update(value);
        };
        field(self.host_string().as_bytes());
        field(self.username.as_bytes());
        field(self.password.expose().as_bytes());
        field(if self.validate_certs { b"1" } else { b"0" });
        field(self.ca_cert_pem().unwrap_or_default().as_bytes());
        field(&self.timeout.as_secs().to_be_bytes());
        hex::encode(hasher.finalize())
    }

    /// A digest of what TLS trust depends on, to share one HTTP client between equal settings.
    pub(crate) fn tls_key(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(if self.validate_certs { b"1" } else { b"0" });
        hasher.update(self.ca_cert_pem().unwrap_or_default().as_bytes());
        hex::encode(hasher.finalize())
    }
}

fn required<'a>(
    data: &'a BTreeMap<String, Vec<u8>>,
    key: &'static str,
) -> Result<&'a str, SettingsError> {
    optional(data, key)?.ok_or(SettingsError::Missing { key })
}

fn optional<'a>(
    data: &'a BTreeMap<String, Vec<u8>>,
    key: &'static str,
) -> Result<Option<&'a str>, SettingsError> {
    let Some(raw) = data.get(key) else {
        return Ok(None);
    };
    let text = std::str::from_utf8(raw).map_err(|_| SettingsError::NotUtf8 { key })?;
    // Whitespace-only counts as empty: a value of "\n" is a mistake, never a setting.
    if text.trim().is_empty() {
        return Err(SettingsError::Empty { key });
    }
    Ok(Some(text))
}

fn parse_host(text: &str) -> Result<Url, SettingsError> {
    let invalid = |reason| SettingsError::InvalidHost { reason };
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("https://{text}")
    };
    let url = Url::parse(&with_scheme)
        .map_err(|_| invalid("it is not a URL such as https://quay.example.com"))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(invalid("only http:// and https:// URLs are supported"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("the URL has no host name"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "the URL must not contain credentials; use the username and password keys",
        ));
    }
    if url.path() != "/" && !url.path().is_empty() {
        return Err(invalid(
            "the URL must be the root of Quay, without a path such as /api/v1",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("the URL must not have a query (?) or fragment (#)"));
    }
    Ok(url)
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

fn parse_timeout(text: &str) -> Result<Duration, SettingsError> {
    match text.parse::<u64>() {
        Ok(secs) if (1..=MAX_TIMEOUT_SECS).contains(&secs) => Ok(Duration::from_secs(secs)),
        _ => Err(SettingsError::InvalidTimeout),
    }
}

fn parse_ca_bundle(pem: &str) -> Result<CaBundle, SettingsError> {
    let invalid = |reason: String| SettingsError::InvalidCaCert { reason };
    let ders = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| invalid(format!("PEM decoding failed ({err})")))?;
    if ders.is_empty() {
        return Err(invalid("it holds no BEGIN CERTIFICATE block".to_owned()));
    }
    // Adding to a root store parses each certificate, so a corrupt one fails here, at
    // settings time, rather than as a puzzling TLS error on the first request.
    let mut store = rustls::RootCertStore::empty();
    let mut certs = Vec::with_capacity(ders.len());
    for (index, der) in ders.into_iter().enumerate() {
        let certificate = reqwest::Certificate::from_der(der.as_ref())
            .map_err(|_| invalid(format!("certificate {} is not valid DER", index + 1)))?;
        store
            .add(der)
            .map_err(|err| invalid(format!("certificate {} is invalid ({err})", index + 1)))?;
        certs.push(certificate);
    }
    Ok(CaBundle {
        pem: pem.to_owned(),
        certs,
    })
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
