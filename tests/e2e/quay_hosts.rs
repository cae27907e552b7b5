//! The allow-list of Quay hosts (issue 20, item 9): a connection Secret naming a host off the
//! list is refused before any connection, for both kinds and the `check` command.

use crate::application::fixture::{create_app, wait_app_reason};
use crate::env::*;
use quay_apitoken_operator::cli::{Cli, Command};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A listener on 127.0.0.2 that counts the connections made to it and never answers.
async fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    (url, count)
}

/// With `--quay-hosts 127.0.0.1` (the emulator), an ApiToken, an Application and `check` on a
/// Secret whose host is 127.0.0.2 are refused, naming the `host` key and the allow-list, and
/// nothing connects to that host; an ApiToken on the emulator is still Ready.
#[tokio::test]
async fn a_host_off_the_list_is_refused_before_any_connection() {
    crate::capture::install();
    let (url, connections) = counting_listener().await;
    let env = Env::start_with(
        "e2e-quay-hosts",
        Options {
            quay_hosts: vec!["127.0.0.1".into()],
            ..Options::default()
        },
    )
    .await;
    let ns = env.ns.name.clone();
    let mut data = env.conn_data(ADMIN, ADMIN_PASSWORD);
    data.insert("host".into(), url.clone());
    env.put_secret(&ns, "elsewhere", data).await;
    env.create_token(env.apitoken("off-list").connection("elsewhere"))
        .await;
    env.create_token(env.apitoken("on-list")).await;
    let mut s = crate::application::fixture::spec("offapp", "offapp-secret");
    s["connSecretRef"] = json!({"name": "elsewhere"});
    create_app(&env, "offapp", s).await;
    let refused = env.wait_reason("off-list", "HostNotAllowed").await;
    for text in [
        message(&refused),
        crate::application::fixture::app_message(
            &wait_app_reason(&env, "offapp", "HostNotAllowed").await,
        ),
    ] {
        assert!(
            text.contains(&format!("connSecretRef: {ns}/elsewhere"))
                && text.contains("`host` key")
                && text.contains("allow-list"),
            "{text}"
        );
    }
    env.wait_ready("on-list").await;
    let args = match Cli::try_parse_command([
        "bin",
        "check",
        "--secret",
        &format!("{ns}/elsewhere"),
        "--kubeconfig",
        crate::support::kubeconfig().to_str().unwrap(),
        "--quay-hosts",
        "127.0.0.1",
    ]) {
        Ok(Command::Check(args)) => args,
        other => panic!("{other:?}"),
    };
    let report = quay_apitoken_operator::check::preflight(&args).await;
    let finding = report
        .findings()
        .into_iter()
        .find(|f| f.check == "reachable")
        .unwrap();
    assert_eq!(
        finding.reason,
        Some("HostNotAllowed"),
        "{}",
        finding.message
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "something connected to the refused host"
    );
}
