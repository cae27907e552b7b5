//! Property tests: every reader of what a Quay host sends (and of the Secret data that names
//! the host) takes arbitrary input without a panic, and what it keeps stays bounded. A host is
//! written by a tenant and may be their own server, so "arbitrary" is what it may send.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::applications::AppConnection;
use super::bounds::{self, LIFETIME_MAX, RETRY_AFTER_MAX};
use super::error::{QuayError, explanation};
use super::retry::HostHealth;
use super::session::{read_csrf, session_is_dead, signin_refusal};
use super::settings::ConnectionSettings;
use super::token_api::refusal;
use super::transport::{CookieJar, Reply, read_capped};
use super::web_flow::{Grant, read_location};

/// Enough cases to find the usual edge cases while the whole file runs in a few seconds.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Bodies a host may send: raw bytes, or JSON objects with Quay's explanation keys holding
/// arbitrary text, which is the case that reaches messages.
fn bodies() -> impl Strategy<Value = Vec<u8>> {
    let key = prop::sample::select(vec![
        "message",
        "error_message",
        "error_description",
        "detail",
        "csrf_token",
        "invalidCredentials",
        "error",
    ]);
    let json = btree_map(key, any::<String>(), 0..4)
        .prop_map(|object| serde_json::to_vec(&object).unwrap_or_default());
    prop_oneof![vec(any::<u8>(), 0..512), json]
}

fn headers() -> impl Strategy<Value = HeaderMap> {
    let name = prop::sample::select(vec![
        "set-cookie",
        "retry-after",
        "location",
        "x-next-csrf-token",
        "content-type",
    ]);
    vec((name, vec(any::<u8>(), 0..128)), 0..6).prop_map(|pairs| {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let Ok(value) = HeaderValue::from_bytes(&value) {
                map.append(HeaderName::from_static(name), value);
            }
        }
        map
    })
}

/// A reply's parts (a `Reply` has no `Debug`: its headers may carry session cookies).
type Parts = (u16, HeaderMap, Vec<u8>, bool);

fn replies() -> impl Strategy<Value = Parts> {
    (any::<u16>(), headers(), bodies(), any::<bool>())
}

fn reply((status, headers, body, proven): Parts) -> Reply {
    Reply {
        status,
        headers,
        body,
        host: "http://hostile.test".to_owned(),
        proven,
    }
}

/// Messages stay a sentence long whatever the reply: no reply text can make them long.
const MESSAGE_MAX: usize = 600;

fn bounded(err: &QuayError) {
    let text = err.to_string();
    assert!(text.chars().count() <= MESSAGE_MAX, "{text}");
}

proptest! {
    #![proptest_config(config())]

    /// Quay's explanation: one short sentence or nothing.
    #[test]
    fn explanations_are_short(body in bodies()) {
        if let Some(text) = explanation(&body) {
            prop_assert!(!text.is_empty());
            prop_assert!(text.chars().count() <= 160, "{}", text);
        }
    }

    /// Any reply's generic error: bounded, and from an unproven host without its words.
    #[test]
    fn reply_errors_are_bounded_and_quiet_before_proof(
        parts in replies(),
        word in "[a-z]{12}",
    ) {
        let reply = reply(parts);
        bounded(&reply.error("GET /x"));
        let body = serde_json::json!({ "message": format!("refused because {word}") });
        let err = QuayError::for_reply_of(&reply.host, false, "GET /x", reply.status, body.to_string().as_bytes());
        prop_assert!(!err.to_string().contains(&word), "{}", err);
        prop_assert!(err.is_transient());
    }

    /// Sign-in: a 403's body, the 429's Retry-After, the CSRF answer.
    #[test]
    fn sign_in_replies(parts in replies(), retry_after in any::<String>()) {
        let reply = reply(parts);
        bounded(&signin_refusal(&reply.body, "admin".to_owned()));
        let wait = bounds::retry_after(Some(&retry_after));
        prop_assert!(wait >= Duration::from_secs(1) && wait <= RETRY_AFTER_MAX);
        let wait = bounds::retry_after(reply.headers.get("retry-after").and_then(|v| v.to_str().ok()));
        prop_assert!(wait <= RETRY_AFTER_MAX);
        match read_csrf(&reply) {
            Ok(token) => {
                prop_assert!(reply.status == 200);
                prop_assert!(token.expose().len() <= 1024);
            }
            Err(err) => bounded(&err),
        }
        let _ = session_is_dead(&reply);
    }

    /// Retry-After written as digits of any length waits at most the bound.
    #[test]
    fn retry_after_digits(digits in "[0-9]{1,40}") {
        let wait = bounds::retry_after(Some(&digits));
        prop_assert!(wait >= Duration::from_secs(1) && wait <= RETRY_AFTER_MAX);
        // What the session does with it: a deadline that never overflows.
        let _ = crate::clock::deadline_after(Instant::now(), wait);
    }

    /// Cookies: any Set-Cookie values, and the Cookie header built from them.
    #[test]
    fn cookies(headers in headers()) {
        let mut jar = CookieJar::default();
        jar.update(&headers);
        jar.update(&headers);
        if let Some(header) = jar.header() {
            prop_assert!(header.expose().len() <= 6 * 256);
        }
    }

    /// The web flow's redirect: any Location, and ones shaped like Quay's with any values.
    #[test]
    fn web_flow_locations(
        location in any::<String>(),
        token in "[A-Za-z0-9%&=#]{0,60}",
        expires_in in any::<String>(),
        digits in "[0-9]{1,30}",
    ) {
        let _ = read_location(&location);
        for expires in [expires_in.as_str(), digits.as_str()] {
            let shaped = format!(
                "http://h/oauth/localapp#access_token={token}&expires_in={}",
                url::form_urlencoded::byte_serialize(expires.as_bytes()).collect::<String>()
            );
            match read_location(&shaped) {
                Ok(Grant::Token { expires_in, .. }) => {
                    prop_assert!(expires_in.is_none_or(|s| s <= LIFETIME_MAX.as_secs()));
                }
                Ok(Grant::Error(_)) => {}
                Err(err) => bounded(&err),
            }
        }
    }

    /// The token API's refusal of a mint.
    #[test]
    fn token_api_refusals(body in bodies()) {
        bounded(&refusal(&body, "HOSTILE0123456789ABC", "repo:read".to_owned()));
    }

    /// An expiry time from a reply: kept only when it is a time within ten years.
    #[test]
    fn expiries(text in any::<String>(), year in -9999i32..=9999, secs in 0u32..86_400) {
        let now = jiff::Timestamp::now();
        let stamped = format!("{year:04}-06-15T00:00:00Z");
        for candidate in [text.as_str(), stamped.as_str()] {
            if let Some(kept) = bounds::expiry(candidate, now) {
                prop_assert!(kept.len() <= 64);
                let at = crate::clock::parse_stamp(&kept);
                prop_assert!(at.is_some());
                prop_assert!(at.is_some_and(|at| at <= crate::clock::later(now, LIFETIME_MAX)));
            }
        }
        let _ = secs;
    }

    /// A renewal schedule from any recorded expiry and any renewBefore never panics.
    #[test]
    fn schedules_from_any_expiry(
        expires in "[-+]?[0-9]{4,6}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z",
        before in any::<u64>(),
        expiration in proptest::option::of(any::<u64>()),
    ) {
        use crate::reconcile::lifetime::{Lifetime, schedule, next_wake};
        let record = crate::crd::TokenRecord {
            minted_at: Some("2026-01-01T00:00:00Z".to_owned()),
            expires_at: Some(expires),
            ..Default::default()
        };
        let lifetime = Lifetime {
            expiration: expiration.map(Duration::from_secs),
            renew_before: Some(Duration::from_secs(before)),
            grace: Duration::from_secs(before),
        };
        let plan = schedule(&record, &lifetime);
        let wake = next_wake(jiff::Timestamp::now(), plan.as_ref(), &[], Duration::from_secs(600));
        prop_assert!(wake <= Duration::from_secs(600));
    }

    /// The host's health with any quiet time and any number of failures.
    #[test]
    fn host_health(first_quiet in any::<u64>(), failures in 0usize..64) {
        let now = Instant::now();
        let mut host = HostHealth::new(Duration::from_secs(first_quiet));
        for _ in 0..failures {
            host.unanswered(now, "refused".to_owned());
            let _ = host.admit(now);
        }
    }

    /// Per-object backoff with any configured base and maximum.
    #[test]
    fn backoff(base in any::<u64>(), max in any::<u64>(), failures in 1usize..40) {
        let backoff = crate::controller::backoff::Backoff::new(Duration::from_secs(base), Duration::from_secs(max));
        for _ in 0..failures {
            let _ = backoff.next_delay("a");
        }
        let _ = backoff.requeue_after("a", &"x", true, Some(Duration::MAX), Duration::MAX);
    }

    /// A connection Secret of any keys and values: settings or an error, never a panic, and
    /// an error message of bounded length.
    #[test]
    fn connection_secrets(data in secret_data()) {
        match ConnectionSettings::from_secret_data(&data) {
            Ok(settings) => {
                let _ = settings.host_string();
                let _ = settings.url(&["api", "v1", "discovery"]);
                let _ = settings.fingerprint();
            }
            Err(err) => prop_assert!(err.to_string().chars().count() <= MESSAGE_MAX * 2, "{}", err),
        }
        match AppConnection::from_secret_data(&data) {
            Ok(_) => {}
            Err(err) => prop_assert!(err.to_string().chars().count() <= MESSAGE_MAX * 2, "{}", err),
        }
    }
}

/// Secret data with the keys the readers look for (and others), holding arbitrary bytes or
/// plausible text.
fn secret_data() -> impl Strategy<Value = BTreeMap<String, Vec<u8>>> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "host",
            "username",
            "password",
            "token",
            "timeout",
            "validateCerts",
            "caCert",
            "insecure",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z.]{1,12}",
    ];
    let value = prop_oneof![
        vec(any::<u8>(), 0..96),
        "(https?://)?[a-z0-9.:\\[\\]/@%-]{0,40}".prop_map(String::into_bytes),
        "[0-9]{1,25}".prop_map(String::into_bytes),
        prop::sample::select(vec!["true", "false", "0", "-1", ""])
            .prop_map(|v| v.as_bytes().to_vec()),
    ];
    btree_map(key, value, 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..config() })]

    /// A body is read whole up to the cap and refused past it, whatever its length and the
    /// length it declares.
    #[test]
    fn bodies_are_capped(len in 0usize..4096, declared in proptest::option::of(0u64..8192)) {
        let cap = 1024;
        let mut builder = axum::http::Response::builder().status(200);
        if let Some(declared) = declared {
            builder = builder.header("content-length", declared);
        }
        let Ok(response) = builder.body(vec![b'x'; len]) else {
            return Ok(());
        };
        let response = reqwest::Response::from(response);
        let runtime = tokio::runtime::Builder::new_current_thread().build();
        let Ok(runtime) = runtime else { return Ok(()) };
        let read = runtime.block_on(read_capped(response, cap));
        if let Ok(read) = read {
            match read {
                Some(body) => prop_assert!(body.len() <= cap && body.len() == len),
                None => prop_assert!(len > cap || declared.is_some_and(|d| d > cap as u64)),
            }
        }
    }
}

/// Deeply nested JSON is refused by serde_json's depth limit, not by a stack overflow.
#[test]
fn deep_json_is_refused_without_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(explanation(deep.as_bytes()).is_none());
    let reply = Reply {
        status: 200,
        headers: HeaderMap::new(),
        body: deep.into_bytes(),
        host: "http://hostile.test".to_owned(),
        proven: true,
    };
    assert!(reply.json::<serde_json::Value>("GET /x").is_err());
    assert!(read_csrf(&reply).is_err());
}
