#![allow(clippy::expect_used)] // a test failing on a broken fixture is the point
use std::collections::BTreeMap;
use std::time::Duration;

use super::{ConnectionSettings, SettingsError};

fn data(pairs: &[(&str, &[u8])]) -> BTreeMap<String, Vec<u8>> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), value.to_vec()))
        .collect()
}

fn base() -> BTreeMap<String, Vec<u8>> {
    data(&[
        ("host", b"quay.example.com"),
        ("username", b"admin"),
        ("password", b"S3cr3t-Passw0rd"),
    ])
}

fn with(key: &str, value: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut map = base();
    map.insert(key.to_owned(), value.to_vec());
    map
}

fn error_of(map: BTreeMap<String, Vec<u8>>) -> SettingsError {
    match ConnectionSettings::from_secret_data(&map) {
        Ok(settings) => panic!("expected an error, got {settings:?}"),
        Err(err) => err,
    }
}

fn self_signed_pem() -> String {
    let key = rcgen::KeyPair::generate().expect("key");
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    params.self_signed(&key).expect("cert").pem()
}

/// A bare host name means https:// and the defaults of contract §2 apply.
#[test]
fn bare_host_gets_https_and_defaults() {
    let settings = ConnectionSettings::from_secret_data(&base()).expect("valid");
    assert_eq!(settings.host_string(), "https://quay.example.com");
    assert!(settings.validate_certs());
    assert_eq!(settings.timeout(), Duration::from_secs(10));
    assert_eq!(settings.username(), "admin");
    assert_eq!(settings.password().expose(), "S3cr3t-Passw0rd");
    assert!(settings.ca_cert_pem().is_none());
}

/// Ports and http:// survive normalization; a trailing slash does not.
#[test]
fn host_normalization_keeps_scheme_and_port() {
    for (input, expected) in [
        ("http://quay.local:8080/", "http://quay.local:8080"),
        (
            "https://Quay.Example.com:8443",
            "https://quay.example.com:8443",
        ),
        ("  quay.example.com:443\n", "https://quay.example.com"),
        ("https://10.0.0.5", "https://10.0.0.5"),
    ] {
        let settings =
            ConnectionSettings::from_secret_data(&with("host", input.as_bytes())).expect(input);
        assert_eq!(settings.host_string(), expected, "input {input:?}");
    }
}

/// Paths, other schemes, credentials and non-URLs are refused, naming the host key.
#[test]
fn bad_hosts_are_rejected() {
    for input in [
        "ftp://quay.example.com",
        "https://quay.example.com/api/v1",
        "https://admin:pw@quay.example.com",
        "https://quay.example.com/?x=1",
        "https://",
        "not a url at all",
    ] {
        let err = error_of(with("host", input.as_bytes()));
        assert_eq!(err.key(), "host", "input {input:?} gave {err}");
        assert!(!err.to_string().contains("pw@"), "{err}");
    }
}

/// Every spelling of a boolean the contract lists is accepted, in any case.
#[test]
fn validate_certs_spellings() {
    for (input, expected) in [
        ("true", true),
        ("YES", true),
        ("1", true),
        ("False", false),
        ("no", false),
        ("0", false),
    ] {
        let settings =
            ConnectionSettings::from_secret_data(&with("validateCerts", input.as_bytes()))
                .expect(input);
        assert_eq!(settings.validate_certs(), expected, "input {input}");
    }
    assert_eq!(
        error_of(with("validateCerts", b"maybe")),
        SettingsError::InvalidValidateCerts
    );
}

/// Timeouts are positive whole seconds, at most 300.
#[test]
fn timeout_parsing() {
    let settings = ConnectionSettings::from_secret_data(&with("timeout", b"30")).expect("30");
    assert_eq!(settings.timeout(), Duration::from_secs(30));
    let settings = ConnectionSettings::from_secret_data(&with("timeout", b"300")).expect("300");
    assert_eq!(settings.timeout(), Duration::from_secs(300));
    for input in [
        "0",
        "-1",
        "1.5",
        "ten",
        "301",
        "100000",
        "18446744073709551616",
    ] {
        assert_eq!(
            error_of(with("timeout", input.as_bytes())),
            SettingsError::InvalidTimeout
        );
    }
}

/// Missing, empty and non-UTF-8 values name their key.
#[test]
fn missing_empty_and_binary_values_name_the_key() {
    for key in ["host", "username", "password"] {
        let mut map = base();
        map.remove(key);
        assert_eq!(error_of(map), SettingsError::Missing { key });
        assert_eq!(
            error_of(with(key, b"")),
            SettingsError::Empty {
                key: match key {
                    "host" => "host",
                    "username" => "username",
                    _ => "password",
                }
            }
        );
        let err = error_of(with(key, &[0xff, 0xfe, 0x41]));
        assert_eq!(err.key(), key);
        assert!(err.to_string().contains("UTF-8"));
    }
    assert_eq!(error_of(with("timeout", b"")).key(), "timeout");
    let too_long = error_of(with("timeout", b"100000"));
    assert_eq!(too_long.key(), "timeout");
    let message = too_long.to_string();
    assert!(
        message.contains("`timeout`") && message.contains("at most 300"),
        "{message}"
    );
    assert_eq!(error_of(with("caCert", b" \n")).key(), "caCert");
}

/// A Secret with only a token says so instead of asking for a password.
#[test]
fn token_only_secret_is_explained() {
    let map = data(&[("host", b"quay.example.com"), ("token", b"abcdef")]);
    let err = error_of(map);
    assert_eq!(err, SettingsError::TokenOnly);
    assert_eq!(err.key(), "password");
    assert!(err.to_string().contains("token cannot mint another token"));

    let map = data(&[
        ("host", b"quay.example.com"),
        ("username", b"admin"),
        ("token", b"abcdef"),
    ]);
    assert_eq!(error_of(map), SettingsError::TokenOnly);
}

/// A PEM bundle is parsed; garbage is refused naming caCert.
#[test]
fn ca_cert_is_parsed() {
    let pem = format!("{}{}", self_signed_pem(), self_signed_pem());
    let settings = ConnectionSettings::from_secret_data(&with("caCert", pem.as_bytes()))
        .expect("two certificates");
    assert_eq!(settings.ca_cert_pem(), Some(pem.as_str()));
    assert_eq!(settings.ca_bundle().map(|ca| ca.certs.len()), Some(2));

    let err = error_of(with("caCert", b"just some text"));
    assert_eq!(err.key(), "caCert");
    let corrupt = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert_eq!(error_of(with("caCert", corrupt.as_bytes())).key(), "caCert");
}

/// The fingerprint moves with every setting and never reveals the password.
#[test]
fn fingerprint_tracks_every_setting() {
    let first = ConnectionSettings::from_secret_data(&base()).expect("valid");
    let again = ConnectionSettings::from_secret_data(&base()).expect("valid");
    assert_eq!(first.fingerprint(), again.fingerprint());
    assert_eq!(first.fingerprint().len(), 64);
    for (key, value) in [
        ("host", &b"quay2.example.com"[..]),
        ("username", b"other"),
        ("password", b"different"),
        ("validateCerts", b"false"),
        ("timeout", b"11"),
    ] {
        let changed = ConnectionSettings::from_secret_data(&with(key, value)).expect(key);
        assert_ne!(first.fingerprint(), changed.fingerprint(), "{key}");
    }
    let pem = self_signed_pem();
    let with_ca =
        ConnectionSettings::from_secret_data(&with("caCert", pem.as_bytes())).expect("ca");
    assert_ne!(first.fingerprint(), with_ca.fingerprint());
}

/// Debug of the settings shows what helps and hides the password.
#[test]
fn debug_hides_password() {
    let settings = ConnectionSettings::from_secret_data(&base()).expect("valid");
    let debug = format!("{settings:?}");
    assert!(!debug.contains("S3cr3t-Passw0rd"), "{debug}");
    assert!(debug.contains("admin"));
    assert!(debug.contains("https://quay.example.com"));
}
