//! A wait that times out says why: the panic carries the object's status and the events of
//! its namespace, so a failed CI run can be read from its log alone.

use crate::env::*;
use crate::support::{wait_for, wait_for_object};
use quay_apitoken_operator::crd::ApiToken;
use std::time::Duration;

/// The dump is what makes an e2e timeout explainable; if it went missing, every later timeout
/// would say only "timed out".
#[tokio::test]
async fn a_timed_out_wait_shows_the_status_and_the_events() {
    crate::capture::install();
    let env = Env::start("e2e-dump").await;
    let unknown = ApiTokenFixture::new("lost").client_id("NOSUCHCLIENTID000000");
    env.create_token(unknown).await;
    env.wait_reason("lost", "UnknownClientId").await;
    // The event follows the status write by a moment.
    wait_for(PATIENCE, "the Warning event", || async {
        let events = env.events("lost").await;
        events
            .iter()
            .any(|e| e.1 == "UnknownClientId")
            .then_some(())
    })
    .await;
    let (client, ns) = (env.ns.client.clone(), env.ns.name.clone());
    // Ready can never come: the wait must time out, and its panic is the subject here.
    let waiting = tokio::spawn(async move {
        let limit = Duration::from_millis(200);
        wait_for_object(
            &client,
            &ns,
            "lost",
            limit,
            "Ready",
            |t: Option<ApiToken>| t.filter(|t| ready(t) == Some(true)).map(drop),
        )
        .await
    });
    let panic = waiting
        .await
        .expect_err("the wait must time out")
        .into_panic();
    let text = panic
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_else(|| panic!("the panic carries no text"));
    assert!(
        text.contains(&format!(
            "timed out after 200ms waiting for ApiToken {}/lost: Ready",
            env.ns.name
        )),
        "{text}"
    );
    assert!(
        text.contains("\"reason\": \"UnknownClientId\""),
        "the status: {text}"
    );
    assert!(
        text.contains("Warning UnknownClientId ApiToken/lost ×"),
        "an event: {text}"
    );
}
