//! Every `QuayError` variant, produced by the matching Quay behaviour, with its message.

use std::time::Duration;

use quay_apitoken_operator::quay::{QuayClient, QuayError};
use quay_emulator::{FaultRule, Faults};

use super::stub::{self, Stub};
use super::support::*;

/// The passwords of the fixture, for servers that hold no tokens.
fn known() -> Vec<String> {
    [ADMIN_PASSWORD, WRONG_PASSWORD, OTHER_PASSWORD]
        .map(str::to_owned)
        .to_vec()
}

fn rule(endpoint: &str) -> FaultRule {
    FaultRule {
        endpoint: Some(endpoint.to_owned()),
        latency_ms: None,
        random_latency_ms: None,
        error_rate: None,
        drop_rate: None,
        hang: false,
        hang_rate: None,
        answer: None,
    }
}

/// A wrong password is reported as such, costs one sign-in, is not retried until the
/// settings change, and Quay's back-off that follows is honoured rather than hammered.
#[tokio::test]
async fn wrong_password_is_permanent_until_settings_change() {
    let f = Fixture::http().await;
    let wrong = settings(&f.emu.url(), ADMIN, WRONG_PASSWORD, &[]);
    let request = f.request(&["repo:read"]);

    let err = f
        .client
        .mint(&wrong, request.clone())
        .await
        .expect_err("wrong password");
    assert!(
        matches!(err, QuayError::InvalidCredentials { .. }),
        "{err:?}"
    );
    assert_eq!(err.reason(), "InvalidCredentials");
    assert!(!err.is_transient());
    let text = assert_clean(&err, &f.secrets());
    assert!(
        text.contains("`admin`") && text.contains("connection Secret"),
        "{text}"
    );
    for _ in 0..5 {
        let again = f
            .client
            .mint(&wrong, request.clone())
            .await
            .expect_err("still wrong");
        assert_eq!(again, err);
    }
    assert_eq!(
        f.count("POST /api/v1/signin"),
        1,
        "one attempt per rejected settings"
    );

    // The Secret is fixed at once: the next call signs in again and meets Quay's back-off
    // (0.5 s after one failure, Retry-After: 0), which it reports with Retry-After + 1 s.
    let fixed = f.admin(&[]);
    let err = f
        .client
        .mint(&fixed, request.clone())
        .await
        .expect_err("back-off");
    assert!(matches!(err, QuayError::LoginBackoff { .. }), "{err:?}");
    assert_eq!(err.reason(), "LoginBackoff");
    assert!(err.is_transient());
    let wait = err.retry_after().expect("a wait");
    assert_eq!(wait, Duration::from_secs(1), "Retry-After 0 + 1 s");
    assert!(assert_clean(&err, &f.secrets()).contains("retrying in 1s"));
    assert_eq!(f.count("POST /api/v1/signin"), 2);
    // Inside the wait the client answers from memory instead of asking Quay.
    let early = f
        .client
        .mint(&fixed, request.clone())
        .await
        .expect_err("waiting");
    assert_eq!(early.reason(), "LoginBackoff");
    assert_eq!(f.count("POST /api/v1/signin"), 2);
    tokio::time::sleep(wait).await;
    let minted = f
        .client
        .mint(&fixed, request.clone())
        .await
        .expect("after the wait");
    assert_eq!(f.count("POST /api/v1/signin"), 3);
    assert!(f.emu.tokens().iter().any(|t| t.uuid == minted.id));
    assert_eq!(f.count("POST /api/v1/signout"), 0);
}

/// A disabled user gets its own message, and is not retried either.
#[tokio::test]
async fn disabled_user_is_reported() {
    let f = Fixture::http().await;
    f.emu.set_user_enabled(ADMIN, false);
    let err = f
        .client
        .app_info(&f.admin(&[]), &f.app.client_id)
        .await
        .expect_err("disabled");
    assert!(matches!(err, QuayError::UserDisabled { .. }), "{err:?}");
    assert_eq!(err.reason(), "UserDisabled");
    assert!(assert_clean(&err, &f.secrets()).contains("disabled"));
    let again = f
        .client
        .app_info(&f.admin(&[]), &f.app.client_id)
        .await
        .expect_err("again");
    assert_eq!(again, err);
    assert_eq!(f.count("POST /api/v1/signin"), 1);
}

/// 404 or 405 on sign-in means this Quay has no password sign-in (e.g. OIDC only).
#[tokio::test]
async fn missing_password_signin_is_reported() {
    for status in [404, 405] {
        let url = stub::serve(Stub::SigninStatus(status)).await;
        let err = QuayClient::new(None)
            .app_info(&settings(&url, ADMIN, ADMIN_PASSWORD, &[]), "CID")
            .await
            .expect_err("no sign-in");
        assert_eq!(
            err,
            QuayError::PasswordSignInDisabled {
                host: url.clone(),
                status
            }
        );
        assert_eq!(err.reason(), "PasswordSignInDisabled");
        assert!(assert_clean(&err, &known()).contains("FEATURE_DIRECT_LOGIN"));
    }
}

/// Unknown client IDs and non-admin accounts are told apart before minting, naming the org.
#[tokio::test]
async fn unknown_client_and_non_admin_are_told_apart() {
    let f = Fixture::http().await;
    let mut request = f.request(&["repo:read"]);
    request.client_id = "NOSUCHCLIENTID000000".into();
    let err = f
        .client
        .mint(&f.admin(&[]), request)
        .await
        .expect_err("unknown client");
    assert_eq!(
        err,
        QuayError::UnknownClientId {
            client_id: "NOSUCHCLIENTID000000".into()
        }
    );
    assert_eq!(err.reason(), "UnknownClientId");
    assert!(assert_clean(&err, &f.secrets()).contains("NOSUCHCLIENTID000000"));

    let other = settings(&f.emu.url(), OTHER, OTHER_PASSWORD, &[]);
    let err = f
        .client
        .mint(&other, f.request(&["repo:read"]))
        .await
        .expect_err("not admin");
    assert_eq!(
        err,
        QuayError::NotOrganizationAdmin {
            username: OTHER.into(),
            org: ORG.into()
        }
    );
    assert_eq!(err.reason(), "NotOrganizationAdmin");
    assert!(assert_clean(&err, &f.secrets()).contains("`production`"));
    assert!(f.emu.tokens().is_empty(), "nothing minted");
}

/// An unknown scope is refused by both mint flavours.
#[tokio::test]
async fn invalid_scope_in_both_flavours() {
    for f in [Fixture::http().await, Fixture::web_flow().await] {
        let err = f
            .client
            .mint(&f.admin(&[]), f.request(&["repo:read", "bogus:scope"]))
            .await
            .expect_err("bad scope");
        assert_eq!(
            err,
            QuayError::InvalidScope {
                scopes: "repo:read bogus:scope".into()
            }
        );
        assert_eq!(err.reason(), "InvalidScope");
        assert_clean(&err, &f.secrets());
        assert!(f.emu.tokens().is_empty());
    }
}

/// forUser naming nobody, or a Quay with assignment switched off, both say so.
#[tokio::test]
async fn for_user_not_found() {
    let f = Fixture::http().await;
    let scopes = vec!["repo:read".to_owned()];
    let err = f
        .client
        .assign(&f.admin(&[]), &f.app.client_id, &scopes, "nobody-here")
        .await
        .expect_err("unknown user");
    assert_eq!(
        err,
        QuayError::ForUserNotFound {
            username: "nobody-here".into()
        }
    );
    assert_eq!(err.reason(), "UserNotFound");
    assert!(assert_clean(&err, &f.secrets()).contains("nobody-here"));
    f.emu.set_assign_oauth_token(false);
    let err = f
        .client
        .assign(&f.admin(&[]), &f.app.client_id, &scopes, OTHER)
        .await;
    assert_eq!(
        err,
        Err(QuayError::ForUserNotFound {
            username: OTHER.into()
        })
    );
    assert!(f.emu.assignments().is_empty());
}

/// Quay's per-application token cap is a permanent error.
#[tokio::test]
async fn token_limit_reached() {
    let f = Fixture::http().await;
    f.emu.set_max_tokens_per_app(Some(1));
    f.client
        .mint(&f.admin(&[]), f.request(&["repo:read"]))
        .await
        .expect("first fits");
    let err = f
        .client
        .mint(&f.admin(&[]), f.request(&["repo:read"]))
        .await
        .expect_err("cap");
    assert_eq!(
        err,
        QuayError::TokenLimitReached {
            client_id: f.app.client_id.clone()
        }
    );
    assert_eq!(err.reason(), "TokenLimitReached");
    assert!(!err.is_transient());
    assert_clean(&err, &f.secrets());
}

/// A host that is not Quay's SERVER_HOSTNAME makes Quay refuse the redirect URI.
#[tokio::test]
async fn foreign_host_name_is_a_redirect_mismatch() {
    let f = Fixture::web_flow().await;
    let host = f.emu.url().replace("127.0.0.1", "localhost");
    let settings = settings(&host, ADMIN, ADMIN_PASSWORD, &[]);
    let err = f
        .client
        .mint(&settings, f.request(&["repo:read"]))
        .await
        .expect_err("mismatch");
    assert_eq!(err.reason(), "RedirectUriRejected");
    assert!(
        assert_clean(&err, &f.secrets()).contains(&format!("{host}/oauth/localapp")),
        "{err}"
    );
}

/// 5xx, hangs and closed ports are transient and named for what they are.
#[tokio::test]
async fn unavailable_timeout_and_unreachable() {
    let f = Fixture::http().await;
    let mut unavailable = rule("GET /api/v1/app/{client_id}");
    unavailable.error_rate = Some(1.0);
    f.emu.set_faults(Faults {
        rules: vec![unavailable],
    });
    let err = f
        .client
        .app_info(&f.admin(&[]), &f.app.client_id)
        .await
        .expect_err("503");
    assert_eq!(
        err,
        QuayError::ServerError {
            endpoint: "GET /api/v1/app/{client_id}",
            status: 503
        }
    );
    assert_eq!(err.reason(), "QuayUnavailable");
    assert!(err.is_transient());
    assert_clean(&err, &f.secrets());

    let mut hang = rule("GET /api/v1/app/{client_id}");
    hang.hang = true;
    f.emu.set_faults(Faults { rules: vec![hang] });
    let quick = f.admin(&[("timeout", "1")]);
    let started = std::time::Instant::now();
    let err = f
        .client
        .app_info(&quick, &f.app.client_id)
        .await
        .expect_err("hang");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(err.reason(), "Timeout");
    assert!(err.is_transient());
    assert!(
        assert_clean(&err, &f.secrets()).contains("within 1s"),
        "{err}"
    );
    assert_eq!(
        f.recorder.statuses("GET /api/v1/app/{client_id}").last(),
        Some(&None)
    );

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let dead = settings(&format!("http://{closed}"), ADMIN, ADMIN_PASSWORD, &[]);
    let err = f.client.app_info(&dead, "CID").await.expect_err("refused");
    assert_eq!(err.reason(), "QuayUnreachable");
    assert!(err.is_transient());
    let text = assert_clean(&err, &f.secrets()).to_lowercase();
    assert!(text.contains("refused"), "{text}");
}

/// Non-Quay answers become "unexpected", never a panic or a guess.
#[tokio::test]
async fn unexpected_and_malformed_answers() {
    let not_quay = stub::serve(Stub::NotQuay).await;
    let client = QuayClient::new(None);
    let err = client
        .app_info(&settings(&not_quay, ADMIN, ADMIN_PASSWORD, &[]), "CID")
        .await;
    let err = err.expect_err("not quay");
    // A host that never answered like Quay: the status and the endpoint, none of its words.
    assert!(
        matches!(
            err,
            QuayError::NotQuay {
                endpoint: "GET /csrf_token",
                status: 404,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.reason(), "UnexpectedResponse");
    assert_clean(&err, &known());

    let html = stub::serve(Stub::HtmlCsrf).await;
    let err = client
        .app_info(&settings(&html, ADMIN, ADMIN_PASSWORD, &[]), "CID")
        .await;
    let err = err.expect_err("html");
    assert!(matches!(
        err,
        QuayError::MalformedResponse {
            endpoint: "GET /csrf_token",
            ..
        }
    ));
    assert_eq!(err.reason(), "UnexpectedResponse");

    // A fresh session that is refused again is reported after exactly one renewal.
    let eater = stub::serve(Stub::RejectSessions).await;
    let err = client
        .app_info(&settings(&eater, ADMIN, ADMIN_PASSWORD, &[]), "CID")
        .await;
    let err = err.expect_err("cookies eaten");
    assert_eq!(
        err,
        QuayError::SessionRejected {
            username: ADMIN.into(),
            endpoint: "GET /api/v1/app/{client_id}"
        }
    );
    assert_clean(&err, &known());
}
