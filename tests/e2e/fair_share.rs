//! One team's dead Quay host stalls no other team: the reconciles talking to one host hold at
//! most its share of the slots (half of `--concurrency`), each for at most the reconcile
//! deadline, so another team's ApiToken on a healthy Quay is Ready in its normal time while
//! the dead host's ApiTokens still hang; those then say which host ran out their deadline.

use crate::env::*;
use crate::support::wait_for;
use kube::Api;
use kube::api::PostParams;
use quay_apitoken_operator::crd::ApiToken;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// The operator's `--concurrency`: its host share is 2.
const SLOTS: u16 = 4;
const SHARE: usize = 2;
/// ApiTokens naming the dead host: as many as there are slots.
const TARPITTED: usize = 4;
/// Longer than [`PATIENCE`]: were the slots all the dead host's, the healthy ApiToken could not
/// start within it.
const DEADLINE: Duration = Duration::from_secs(35);
const HOST_WAITERS: &str = "quay_apitoken_reconciles_waiting_for_host_share";

/// A 127.0.0.1 listener that accepts every connection and never answers; it counts the
/// connections, and keeps them open while its task runs.
async fn tarpit() -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    let task = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            open.push(socket);
        }
    });
    (url, accepted, task)
}

#[tokio::test]
async fn a_dead_host_costs_only_the_apitokens_that_name_it() {
    let mut env = Env::start_with(
        "e2e-fair",
        Options {
            extra_namespaces: 1,
            ..Options::default()
        },
    )
    .await;
    env.stop_operator().await;
    let mut namespaces = vec![env.ns.name.clone()];
    namespaces.extend(env.extra.iter().cloned());
    env.operator = Some(
        Operator::start_tuned(
            env.ns.client.clone(),
            namespaces,
            env.settings.clone(),
            env.clock.clone(),
            SLOTS,
            Some(DEADLINE),
        )
        .await,
    );

    // The other team names a host that accepts connections and never answers, with the
    // longest timeout a Secret may ask for, and one Secret asks for more.
    let other = env.extra[0].clone();
    let (host, accepted, tarpit) = tarpit().await;
    let conn = |host: &str, timeout: &str| {
        BTreeMap::from([
            ("host".to_owned(), host.to_owned()),
            ("username".to_owned(), ADMIN.to_owned()),
            ("password".to_owned(), ADMIN_PASSWORD.to_owned()),
            ("timeout".to_owned(), timeout.to_owned()),
        ])
    };
    env.put_secret(&other, "tarpit", conn(&host, "300")).await;
    env.put_secret(&other, "too-patient", conn(&env.quay.url(), "100000"))
        .await;
    let theirs: Api<ApiToken> = Api::namespaced(env.ns.client.clone(), &other);
    let create = |name: String, secret: &'static str| {
        let theirs = theirs.clone();
        let token = ApiTokenFixture::new(&name)
            .connection(secret)
            .client_id(&env.app.client_id)
            .build();
        async move { theirs.create(&PostParams::default(), &token).await.unwrap() }
    };
    let stuck: Vec<String> = (0..TARPITTED).map(|i| format!("stuck{i}")).collect();
    for name in &stuck {
        create(name.clone(), "tarpit").await;
    }
    create("patient".to_owned(), "too-patient").await;
    let operator = env.operator();
    wait_for(
        PATIENCE,
        "the dead host's share at work on it and its other ApiTokens waiting for the share",
        || async {
            (accepted.load(Ordering::SeqCst) >= 1
                && operator.counter(HOST_WAITERS) == (TARPITTED - SHARE) as u64)
                .then_some(())
        },
    )
    .await;

    // This team's ApiToken, on the healthy Quay: Ready in its normal time.
    let started = Instant::now();
    env.create_token(env.apitoken("healthy")).await;
    env.wait_ready("healthy").await;
    let took = started.elapsed();
    eprintln!("healthy ApiToken Ready after {took:?} beside {TARPITTED} tarpitted ones");
    assert!(took < PATIENCE, "{took:?}");
    // One account signs in once at a time: the share's second reconcile waits for the first.
    let connections = accepted.load(Ordering::SeqCst);
    assert!(
        (1..=SHARE).contains(&connections),
        "only the dead host's share talked to it: {connections} connections"
    );
    assert_eq!(
        operator.counter(HOST_WAITERS),
        (TARPITTED - SHARE) as u64,
        "the rest still wait for the share"
    );
    for name in &stuck {
        let token = theirs.get(name).await.unwrap();
        assert_ne!(ready(&token), Some(true), "{name}");
        assert_ne!(
            ready_reason(&token).as_deref(),
            Some("DeadlineExceeded"),
            "{name} still hangs: the healthy one did not wait for its deadline"
        );
    }

    // The Secret that asks for more than 300 s is refused, naming the key.
    let patient = wait_for(PATIENCE, "patient refused", || async {
        theirs
            .get("patient")
            .await
            .ok()
            .filter(|t| ready_reason(t).as_deref() == Some("InvalidConnectionSecret"))
    })
    .await;
    let said = message(&patient);
    assert!(
        said.contains("`timeout`") && said.contains("at most 300"),
        "{said}"
    );

    // The dead host's ApiTokens say which host ran out their deadline: the first share at
    // the deadline, the waiting ones a deadline after they got the share.
    let limit = DEADLINE * 2 + PATIENCE;
    for name in &stuck {
        let token = wait_for(limit, &format!("{name} past its deadline"), || async {
            theirs
                .get(name)
                .await
                .ok()
                .filter(|t| ready_reason(t).as_deref() == Some("DeadlineExceeded"))
        })
        .await;
        let said = message(&token);
        assert!(said.contains(&host) && said.contains("35 s"), "{said}");
    }
    tarpit.abort();
}
