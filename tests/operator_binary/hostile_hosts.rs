//! A tenant points an ApiToken at a server of their own (tests/support/hostile.rs) and tries to
//! crash the shared operator, exhaust its memory, or use it to read what other services of its
//! network answer (issue 20, items 2, 3 and 9). The real binary runs, so that its survival,
//! its exit status and its peak memory are what is measured.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::events::v1::Event;
use kube::Api;
use kube::api::PostParams;
use quay_apitoken_operator::crd::ApiToken;

use crate::process::OperatorProcess;
use crate::support::ApiTokenFixture;
use crate::support::hostile::{Answer, Hostile};
use crate::world::{ADMIN, ADMIN_PASSWORD, PATIENCE, World};

/// A client ID of the form Quay makes (20 of A–Z and 0–9); the host never gets to look it up.
const CLIENT_ID: &str = "HOSTILE0123456789ABC";

/// Writes a connection Secret naming `host`, and an ApiToken using it.
async fn token_at(world: &World, name: &str, host: &str) {
    token_with(world, name, host, &[]).await;
}

/// Like [`token_at`], with more keys in the connection Secret.
async fn token_with(world: &World, name: &str, host: &str, extra: &[(&str, &str)]) {
    let secret = format!("{name}-conn");
    let mut conn = BTreeMap::from([
        ("host".to_owned(), host.to_owned()),
        ("username".to_owned(), ADMIN.to_owned()),
        ("password".to_owned(), ADMIN_PASSWORD.to_owned()),
    ]);
    for (key, value) in extra {
        conn.insert((*key).to_owned(), (*value).to_owned());
    }
    world.put_secret(&world.ns.name, &secret, conn).await;
    let token = ApiTokenFixture::new(name)
        .connection(&secret)
        .client_id(CLIENT_ID)
        .build();
    world
        .tokens()
        .create(&PostParams::default(), &token)
        .await
        .unwrap_or_else(|e| panic!("cannot create ApiToken {name}: {e}"));
}

/// Waits until the ApiToken's status carries `reason`; returns its message.
async fn wait_reason(world: &World, name: &str, reason: &str) -> String {
    world
        .ns
        .wait_for(name, PATIENCE, reason, |t: Option<ApiToken>| {
            let status = t?.status?;
            let ready = status.conditions.iter().find(|c| c.type_ == "Ready")?;
            (ready.status == "False" && ready.reason == reason).then(|| status.message.clone())
        })
        .await
}

/// The operator's peak resident memory in KiB (`VmHWM` of /proc/<pid>/status).
fn peak_rss_kib(operator: &OperatorProcess) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", operator.pid()))
        .unwrap_or_else(|e| panic!("cannot read the operator's /proc status: {e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in /proc/{}/status", operator.pid()))
}

/// Asserts the operator is up and its admin server answers.
async fn assert_alive(operator: &mut OperatorProcess) {
    assert!(
        operator.is_running(),
        "the operator exited; log:\n{}",
        operator.log_text()
    );
    let health = operator.get("/healthz").await;
    assert!(
        matches!(health, Some((200, _))),
        "/healthz answered {health:?}"
    );
}

fn start_operator(world: &World, name: &str) -> OperatorProcess {
    OperatorProcess::start(
        name,
        world.admin_kubeconfig(),
        &["--namespaces", &world.ns.name],
    )
}

/// Item 2: a sign-in answered 429 with a `Retry-After` near `u64::MAX` once overflowed the
/// operator's time arithmetic (exit 101, or with `…615` a retry every second). Now the wait is
/// held to an hour, the process stays up and the host sees no further sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_retry_after_neither_crashes_nor_hammers() {
    let world = World::start("bin-retry-after").await;
    let mut hosts = Vec::new();
    for (name, retry_after) in [
        ("max-minus-one", "18446744073709551614"),
        ("max", "18446744073709551615"),
    ] {
        let host = Hostile::start(move |_, path| match path {
            "/csrf_token" => Answer::Csrf,
            "/api/v1/signin" => Answer::TooManyRequests {
                retry_after: retry_after.to_owned(),
            },
            _ => Answer::Page {
                status: 404,
                content_type: "text/html",
                body: "<html>no</html>".to_owned(),
            },
        })
        .await;
        token_at(&world, name, host.url()).await;
        hosts.push((name, host));
    }
    let mut operator = start_operator(&world, "retry-after");
    operator.wait_serving().await;

    for (name, _) in &hosts {
        let message = wait_reason(&world, name, "LoginBackoff").await;
        let seconds: u64 = message
            .split("retrying in ")
            .nth(1)
            .and_then(|rest| rest.split('s').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{name}: no wait in {message:?}"));
        assert!(
            (1..=3600).contains(&seconds),
            "{name}: a bounded wait: {message}"
        );
    }
    assert_alive(&mut operator).await;

    // A window of some seconds: a retry per second would show as several sign-ins.
    let before: Vec<usize> = hosts
        .iter()
        .map(|(_, h)| h.count("/api/v1/signin"))
        .collect();
    let window = Duration::from_secs(8);
    let started = Instant::now();
    while started.elapsed() < window {
        assert_alive(&mut operator).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    for ((name, host), before) in hosts.iter().zip(before) {
        let after = host.count("/api/v1/signin");
        assert!(
            after <= before + 1,
            "{name}: {} sign-ins in {window:?} while Quay asked to wait",
            after - before
        );
    }
    assert_alive(&mut operator).await;
}

/// Item 3: a 1 GiB reply once took the operator to 3 GiB of memory. Now a body is read up to
/// 4 MiB and refused past it, with or without `Content-Length`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gigabyte_reply_is_refused_within_bounded_memory() {
    const GIB: u64 = 1024 * 1024 * 1024;
    let world = World::start("bin-huge-body").await;
    let streamed = Hostile::start(|_, _| Answer::Huge {
        bytes: GIB,
        declared: false,
    })
    .await;
    let declared = Hostile::start(|_, _| Answer::Huge {
        bytes: GIB,
        declared: true,
    })
    .await;
    let mut operator = start_operator(&world, "huge-body");
    operator.wait_serving().await;
    // A patient timeout, as the tenant would set it, so that a gigabyte has time to arrive.
    let patient = [("timeout", "300")];
    token_with(&world, "streamed", streamed.url(), &patient).await;
    token_with(&world, "declared", declared.url(), &patient).await;

    for name in ["streamed", "declared"] {
        let message = wait_reason(&world, name, "UnexpectedResponse").await;
        assert!(
            message.contains("larger than 4 MiB"),
            "{name}: the status names the cap: {message}"
        );
    }
    assert_alive(&mut operator).await;
    let peak_kib = peak_rss_kib(&operator);
    println!(
        "operator peak RSS with 1 GiB replies: {peak_kib} KiB ({:.1} MiB)",
        peak_kib as f64 / 1024.0
    );
    assert!(
        peak_kib < 100 * 1024,
        "peak RSS {peak_kib} KiB, over 100 MiB"
    );
}

/// Item 9: a host that is not Quay (here a service answering JSON errors, as an API server of
/// the cluster does, or a web page, or a redirect to a metadata address) has none of its
/// words repeated in status, events or the log; the message says it did not answer like Quay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_is_not_quay_has_its_replies_kept_quiet() {
    const MARKER: &str = "internal-marker-7f3a";
    let world = World::start("bin-not-quay").await;
    let api_like = Hostile::start(|_, path| Answer::Page {
        status: 403,
        content_type: "application/json",
        body: format!(
            r#"{{"kind": "Status", "status": "Failure", "message": "forbidden: User \"system:anonymous\" cannot get path \"{path}\" ({MARKER})", "reason": "Forbidden", "code": 403}}"#
        ),
    })
    .await;
    let web_page = Hostile::start(|_, _| Answer::Page {
        status: 500,
        content_type: "text/html",
        body: format!("<html><h1>{MARKER}</h1><p>detail: {MARKER}</p></html>"),
    })
    .await;
    let redirect = Hostile::start(|_, _| Answer::Redirect {
        location: format!("http://169.254.169.254/latest/meta-data/{MARKER}"),
    })
    .await;
    let mut operator = start_operator(&world, "not-quay");
    operator.wait_serving().await;
    token_at(&world, "api-like", api_like.url()).await;
    token_at(&world, "web-page", web_page.url()).await;
    token_at(&world, "redirect", redirect.url()).await;

    for name in ["api-like", "redirect"] {
        let message = wait_reason(&world, name, "UnexpectedResponse").await;
        assert!(
            message.contains("has not answered like Quay"),
            "{name}: {message}"
        );
    }
    wait_reason(&world, "web-page", "QuayUnavailable").await;
    assert_alive(&mut operator).await;

    let tokens = world
        .tokens()
        .list(&Default::default())
        .await
        .unwrap_or_else(|e| panic!("cannot list ApiTokens: {e}"));
    let statuses = serde_json::to_string(&tokens.items).unwrap_or_default();
    assert!(
        !statuses.contains(MARKER),
        "status repeats the host: {statuses}"
    );
    let events: Api<Event> = Api::namespaced(world.ns.client.clone(), &world.ns.name);
    let events = events
        .list(&Default::default())
        .await
        .unwrap_or_else(|e| panic!("cannot list events: {e}"));
    assert!(!events.items.is_empty(), "the failures became events");
    let events = serde_json::to_string(&events.items).unwrap_or_default();
    assert!(
        !events.contains(MARKER),
        "an event repeats the host: {events}"
    );
    let log = operator.log_text();
    assert!(!log.contains(MARKER), "the log repeats the host:\n{log}");
    assert_eq!(redirect.count("/csrf_token"), redirect.hits().len());
}
