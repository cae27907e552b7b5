//! What the watches wake and what memory they keep: Secrets of other watched namespaces, and
//! per-ApiToken state that goes with its ApiToken.

use crate::env::*;
use crate::support::wait_for;
use kube::api::DeleteParams;
use quay_apitoken_operator::context::{Context, MemorySizes};
use quay_apitoken_operator::metrics::Metrics;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Long enough that only a watch can explain a reconcile within a test's patience.
const LONG_VERIFY: Duration = Duration::from_secs(600);

/// With several watched namespaces, fixing a connection or client ID Secret that lives in
/// another of them makes its ApiTokens reconcile at once, not at the verify interval.
#[tokio::test]
async fn a_secret_in_another_watched_namespace_wakes_its_apitokens() {
    crate::capture::install();
    let env = Env::start_with(
        "e2e-xwake",
        Options {
            extra_namespaces: 1,
            verify_interval: LONG_VERIFY,
            ..Options::default()
        },
    )
    .await;
    let other = env.extra[0].clone();
    env.put_secret(&other, "creds", env.conn_data(ADMIN, "not-the-password"))
        .await;
    env.put_secret(
        &other,
        "app",
        BTreeMap::from([("unrelated".to_string(), "x".to_string())]),
    )
    .await;
    env.create_token(env.apitoken("conn").connection_in("creds", &other))
        .await;
    env.create(
        "cid",
        json!({"connSecretRef": {"name": "quay-credentials"}, "clientIdFrom": {"name": "app", "namespace": other}}),
    )
    .await;
    env.wait_reason("conn", "InvalidCredentials").await;
    env.wait_reason("cid", "ClientIdKeyMissing").await;

    env.patch_secret(&other, "creds", "password", ADMIN_PASSWORD)
        .await;
    env.patch_secret(&other, "app", "clientId", &env.app.client_id)
        .await;
    // PATIENCE is 30 s, a twentieth of the verify interval.
    env.wait_ready("conn").await;
    env.wait_ready("cid").await;
}

/// The controller of this process, with its context in hand to read its memory.
struct Owned {
    ctx: Arc<Context>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<()>,
}

impl Owned {
    /// Replaces the fixture's controller by one whose context this test holds.
    async fn start(env: &mut Env) -> Owned {
        env.stop_operator().await;
        let ctx = Arc::new(Context::new(
            env.ns.client.clone(),
            Arc::new(Metrics::new()),
            env.settings.clone(),
        ));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = futures::FutureExt::shared(async move {
            let _ = stopped.await;
        });
        let synced = Arc::new(AtomicBool::new(false));
        let flag = synced.clone();
        let handle = tokio::spawn(quay_apitoken_operator::controllers::run(
            ctx.clone(),
            Some(vec![env.ns.name.clone()]),
            4,
            shutdown,
            move || flag.store(true, Ordering::SeqCst),
        ));
        wait_for(PATIENCE, "the first list", || async {
            synced.load(Ordering::SeqCst).then_some(())
        })
        .await;
        Owned {
            ctx,
            stop: Some(stop),
            handle,
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(20), &mut self.handle).await;
    }
}

/// After 50 ApiTokens come and go (some failing transiently, so with backoff entries), every
/// per-ApiToken structure is back to its size before them.
#[tokio::test]
async fn memory_returns_to_its_baseline_when_the_apitokens_go() {
    crate::capture::install();
    let mut env = Env::start_with(
        "e2e-mem",
        Options {
            verify_interval: LONG_VERIFY,
            ..Options::default()
        },
    )
    .await;
    let owned = Owned::start(&mut env).await;
    let baseline = owned.ctx.memory_sizes();
    assert_eq!(
        baseline,
        MemorySizes {
            scopes: 1,
            ..MemorySizes::default()
        }
    );

    // A port nothing listens on: Quay unreachable, a transient failure that backs off.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut down = env.conn_data(ADMIN, ADMIN_PASSWORD);
    down.insert("host".into(), format!("http://127.0.0.1:{closed}"));
    env.put_secret(&env.ns.name.clone(), "down", down).await;
    let names: Vec<String> = (0..50).map(|i| format!("m{i:02}")).collect();
    for (i, name) in names.iter().enumerate() {
        let conn = if i % 5 == 0 {
            "down"
        } else {
            "quay-credentials"
        };
        env.create_token(env.apitoken(name).connection(conn)).await;
    }
    for (i, name) in names.iter().enumerate() {
        if i % 5 == 0 {
            env.wait_token(name, "not Ready", |t| ready(t) == Some(false))
                .await;
        } else {
            env.wait_ready(name).await;
        }
    }
    // The result Secrets' own watch events reconcile each Ready one again, which verifies its
    // token against Quay's list.
    let busy = wait_for(PATIENCE, "memory in use", || async {
        let sizes = owned.ctx.memory_sizes();
        (sizes.written == 50 && sizes.backoff >= 10 && sizes.liveness >= 1).then_some(sizes)
    })
    .await;

    for name in &names {
        env.tokens()
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
    }
    for name in &names {
        env.wait_gone(name).await;
    }
    assert!(env.quay.tokens().is_empty(), "every token revoked");
    let mut last = busy;
    let back = crate::support::try_wait_for(Duration::from_secs(60), || {
        last = owned.ctx.memory_sizes();
        async move { (last == baseline).then_some(()) }
    })
    .await;
    assert!(
        back.is_some(),
        "memory still holds {last:?} (baseline {baseline:?})"
    );
    owned.stop().await;
}
