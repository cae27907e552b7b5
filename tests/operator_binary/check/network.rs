//! Reaching Quay: its certificate and a host where nothing listens.

use super::*;

/// An untrusted certificate fails TLS before any password is sent; the CA given with
/// --ca-cert-file makes it pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_fails_tls_before_the_password_is_sent() {
    let (quay, client_id) = quay(Config {
        tls: true,
        ..Config::default()
    })
    .await;
    let host = quay.url();
    assert!(host.starts_with("https://"));
    let run = check(
        &flags(&host, ADMIN, &["--client-id", &client_id]),
        Some(ADMIN_PASSWORD),
        None,
    )
    .await;
    run.assert_code(1);
    run.expect("reachable", "PASS");
    let line = run.expect("tls", "FAIL");
    assert!(line.ends_with("[TlsError]"), "{line}");
    run.expect("sign-in", "SKIP");
    assert_eq!(
        quay.request_count(SIGNIN),
        0,
        "no password over an untrusted link"
    );

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, quay.ca_cert_pem().unwrap_or_default())
        .unwrap_or_else(|e| panic!("write CA: {e}"));
    let ca = ca.to_string_lossy().into_owned();
    let run = check(
        &flags(
            &host,
            ADMIN,
            &["--client-id", &client_id, "--ca-cert-file", &ca],
        ),
        Some(ADMIN_PASSWORD),
        None,
    )
    .await;
    run.assert_code(0);
    assert!(
        run.expect("tls", "PASS").contains("caCert"),
        "{}",
        run.stdout
    );
    assert_no_signout(&quay);
}

/// Nothing listens at the host: reachable fails and nothing else is tried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_host_fails_the_reachable_check() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"));
    let host = format!("http://127.0.0.1:{port}");
    let run = check(&flags(&host, ADMIN, &[]), Some(ADMIN_PASSWORD), None).await;
    run.assert_code(1);
    let line = run.expect("reachable", "FAIL");
    assert!(line.ends_with("[QuayUnreachable]"), "{line}");
    for step in [
        "tls",
        "flavour",
        "sign-in",
        "application",
        "org-admin",
        "rights",
    ] {
        assert!(
            run.expect(step, "SKIP").contains("reachable failed"),
            "{}",
            run.stdout
        );
    }
}
