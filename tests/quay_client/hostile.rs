//! The client against a tenant's own server (tests/support/hostile.rs): what it answers may
//! neither panic the client, nor make it hold a gigabyte, nor be repeated when the host never
//! answered like Quay (issue 20, items 2, 3 and 9).

use std::time::Duration;

use quay_apitoken_operator::quay::{QuayClient, QuayError};

use crate::hostile::{Answer, Hostile};
use crate::support::*;

const CLIENT_ID: &str = "HOSTILE0123456789ABC";

/// Peak resident memory of this test process, in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// A 429 whose Retry-After is near `u64::MAX` is a wait of at most an hour, and the account
/// is not signed in again meanwhile.
#[tokio::test]
async fn a_huge_retry_after_is_an_hour_at_most() {
    for retry_after in ["18446744073709551614", "18446744073709551615"] {
        let host = Hostile::start(move |_, path| match path {
            "/csrf_token" => Answer::Csrf,
            _ => Answer::TooManyRequests {
                retry_after: retry_after.to_owned(),
            },
        })
        .await;
        let client = QuayClient::new(None);
        let settings = settings(host.url(), ADMIN, ADMIN_PASSWORD, &[]);
        for _ in 0..3 {
            let err = client
                .app_info(&settings, CLIENT_ID)
                .await
                .expect_err("back-off");
            assert_eq!(err.reason(), "LoginBackoff", "{err}");
            let wait = err.retry_after().expect("a wait");
            assert!(
                wait >= Duration::from_secs(3590) && wait <= Duration::from_secs(3600),
                "{retry_after}: {wait:?}"
            );
        }
        assert_eq!(host.count("/api/v1/signin"), 1, "{retry_after}");
    }
}

/// A body of a gigabyte, with or without Content-Length, is refused at 4 MiB.
#[tokio::test]
async fn a_gigabyte_body_is_refused_at_the_cap() {
    for declared in [false, true] {
        let host = Hostile::start(move |_, _| Answer::Huge {
            bytes: 1 << 30,
            declared,
        })
        .await;
        let client = QuayClient::new(None);
        let settings = settings(host.url(), ADMIN, ADMIN_PASSWORD, &[]);
        let err = client
            .app_info(&settings, CLIENT_ID)
            .await
            .expect_err("too large");
        assert!(
            matches!(
                err,
                QuayError::ReplyTooLarge {
                    endpoint: "GET /csrf_token",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("larger than 4 MiB"), "{err}");
        assert_eq!(err.reason(), "UnexpectedResponse");
    }
    let peak = peak_kib();
    println!("quay_client peak RSS after 1 GiB replies: {peak} KiB");
    assert!(peak < 200 * 1024, "peak RSS {peak} KiB");
}

/// Replies of hosts that are not Quay are not repeated; malformed JSON, redirects and a
/// tarpit are reported by kind.
#[tokio::test]
async fn a_host_that_is_not_quay_is_not_quoted() {
    const MARKER: &str = "internal-marker-7f3a";
    let client = QuayClient::new(None);
    let api_like = Hostile::start(|_, _| Answer::Page {
        status: 403,
        content_type: "application/json",
        body: format!(r#"{{"kind": "Status", "message": "forbidden ({MARKER})", "code": 403}}"#),
    })
    .await;
    let err = client
        .app_info(
            &settings(api_like.url(), ADMIN, ADMIN_PASSWORD, &[]),
            CLIENT_ID,
        )
        .await
        .expect_err("not quay");
    let text = err.to_string();
    assert!(!text.contains(MARKER), "{text}");
    assert!(text.contains("has not answered like Quay"), "{text}");

    let redirect = Hostile::start(|_, _| Answer::Redirect {
        location: format!("http://169.254.169.254/{MARKER}"),
    })
    .await;
    let err = client
        .app_info(
            &settings(redirect.url(), ADMIN, ADMIN_PASSWORD, &[]),
            CLIENT_ID,
        )
        .await
        .expect_err("redirect");
    assert!(!err.to_string().contains(MARKER), "{err}");
    assert_eq!(err.reason(), "UnexpectedResponse");

    let malformed = Hostile::start(|_, _| Answer::MalformedJson).await;
    let err = client
        .app_info(
            &settings(malformed.url(), ADMIN, ADMIN_PASSWORD, &[]),
            CLIENT_ID,
        )
        .await
        .expect_err("malformed");
    assert_eq!(err.reason(), "UnexpectedResponse");

    let tarpit = Hostile::start(|_, _| Answer::Tarpit).await;
    let quick = settings(tarpit.url(), ADMIN, ADMIN_PASSWORD, &[("timeout", "1")]);
    let err = client
        .app_info(&quick, CLIENT_ID)
        .await
        .expect_err("tarpit");
    assert_eq!(err.reason(), "Timeout");
}
