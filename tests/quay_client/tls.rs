//! HTTPS: certificate verification on, off, and with a caCert.

use quay_apitoken_operator::quay::{ConnectionSettings, QuayError};
use quay_emulator::Config;

use super::support::*;

async fn https() -> Fixture {
    Fixture::start(Config {
        tls: true,
        ..Config::default()
    })
    .await
}

/// The default (validateCerts true) refuses the emulator's self-made CA.
#[tokio::test]
async fn validate_certs_refuses_an_unknown_ca() {
    let f = https().await;
    assert!(f.emu.url().starts_with("https://"));
    let err = f
        .client
        .app_info(&f.admin(&[]), &f.app.client_id)
        .await
        .expect_err("untrusted");
    assert!(matches!(err, QuayError::Tls { .. }), "{err:?}");
    assert_eq!(err.reason(), "TlsError");
    let text = assert_clean(&err, &f.secrets());
    assert!(
        text.contains("caCert") && text.contains("certificate"),
        "{text}"
    );
    assert_eq!(
        f.count("POST /api/v1/signin"),
        0,
        "no password sent over an untrusted link"
    );
}

/// validateCerts false and a caCert both reach Quay and mint.
#[tokio::test]
async fn insecure_and_ca_cert_both_work() {
    let f = https().await;
    let ca = f.emu.ca_cert_pem().expect("a CA");
    let variants: [ConnectionSettings; 2] = [
        f.admin(&[("validateCerts", "false")]),
        f.admin(&[("caCert", ca.as_str())]),
    ];
    for settings in variants {
        let debug = format!("{settings:?}");
        assert!(!debug.contains(ADMIN_PASSWORD), "{debug}");
        let minted = f
            .client
            .mint(&settings, f.request(&["repo:read"]))
            .await
            .expect("mint over TLS");
        assert!(f.emu.tokens().iter().any(|t| t.uuid == minted.id));
    }
    // Same account, so one session; the two TLS setups share it.
    assert_eq!(f.count("POST /api/v1/signin"), 1);
}
