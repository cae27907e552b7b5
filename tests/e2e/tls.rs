//! Quay over HTTPS with a self-signed certificate: validateCerts and caCert (§2, §7).

use crate::env::*;

/// validateCerts true fails with a TLS message; adding caCert heals it and the result Secret
/// carries caCert, so it works as a connection Secret itself.
#[tokio::test]
async fn tls_verification_and_ca_cert() {
    crate::capture::install();
    let env = Env::start_with(
        "e2e-tls",
        Options {
            tls: true,
            ..Options::default()
        },
    )
    .await;
    let ns = env.ns.name.clone();
    let mut strict = env.conn_data(ADMIN, ADMIN_PASSWORD);
    strict.insert("validateCerts".into(), "true".into());
    env.put_secret(&ns, "strict", strict).await;
    env.create_token(
        env.apitoken("strict")
            .connection("strict")
            .secret("strict-out"),
    )
    .await;
    let failed = env.wait_reason("strict", "TlsError").await;
    assert!(
        message(&failed).contains("caCert") || message(&failed).contains("validateCerts"),
        "{}",
        message(&failed)
    );

    env.create_token(env.apitoken("insecure")).await;
    env.wait_ready("insecure").await;
    assert_eq!(
        env.secret_data(&ns, "insecure").await.unwrap()["validateCerts"],
        "false"
    );

    let ca = env.quay.ca_cert_pem().expect("the TLS emulator has a CA");
    env.patch_secret(&ns, "strict", "caCert", &ca).await;
    env.wait_ready("strict").await;
    let data = env.secret_data(&ns, "strict-out").await.unwrap();
    assert_eq!(data["caCert"], ca);
    assert_eq!(data["validateCerts"], "true");
    assert!(data["host"].starts_with("https://"));
}
