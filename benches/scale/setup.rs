//! Each scenario's world: Quay accounts with their connection Secrets, the operator binary,
//! the emulator's latency, and the ApiTokens created at once.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::Api;
use kube::api::PostParams;
use quay_apitoken_operator::crd::ApiToken;
use quay_emulator::{FaultRule, Faults};
use serde_json::json;

use crate::knobs::Knobs;
use crate::process::OperatorProcess;
use crate::ready::ReadyWatch;
use crate::world::{ADMIN_PASSWORD, CONN_SECRET, ORG, World};

/// Creates in flight at once: "applied at once" without tripping the API server's limit on
/// concurrent mutating requests (200).
pub const CREATE_PARALLEL: usize = 64;
/// Client-ID Secret of the probe ApiToken of the Secret-change scenario.
pub const PROBE: &str = "probe";
pub const PROBE_SECRET: &str = "probe-client-id";

/// The flavour as the table names it.
pub fn flavour_name(token_api: bool) -> &'static str {
    if token_api { "token API" } else { "web flow" }
}

/// A world with `accounts` Quay accounts, all owners of the org: the first is the world's
/// admin with its connection Secret; the others get `quay-credentials-NN`.
pub async fn world_with_accounts(prefix: &str, token_api: bool, accounts: usize) -> World {
    let world = World::start_flavour(prefix, token_api).await;
    for i in 1..accounts {
        let user = format!("account{i:02}");
        world.quay.add_user(&user, ADMIN_PASSWORD);
        world.quay.add_org_admin(ORG, &user);
        world
            .put_secret(
                &world.ns.name,
                &conn_secret(i),
                BTreeMap::from([
                    ("host".to_owned(), world.quay.url()),
                    ("username".to_owned(), user.clone()),
                    ("password".to_owned(), ADMIN_PASSWORD.to_owned()),
                ]),
            )
            .await;
    }
    world
}

/// The connection Secret of account `i` (0 is the world's admin).
pub fn conn_secret(i: usize) -> String {
    if i == 0 {
        CONN_SECRET.to_owned()
    } else {
        format!("{CONN_SECRET}-{i:02}")
    }
}

/// Starts the operator binary on the world's namespace with the knobs' concurrency.
pub fn start_operator(name: &str, world: &World, knobs: &Knobs) -> OperatorProcess {
    OperatorProcess::start(
        name,
        world.admin_kubeconfig(),
        &[
            "--namespaces",
            &world.ns.name,
            "--concurrency",
            &knobs.concurrency.to_string(),
        ],
    )
}

/// Emulator faults that only slow every request by `ms`.
pub fn latency(ms: u64) -> Faults {
    if ms == 0 {
        return Faults::default();
    }
    Faults {
        rules: vec![FaultRule {
            latency_ms: Some(ms),
            ..FaultRule::default()
        }],
    }
}

/// Creates an ApiToken whose client ID is inline, or read from `PROBE_SECRET` for the probe.
pub async fn create_token(api: &Api<ApiToken>, name: &str, conn: &str, client_id: &str) {
    let client = if name == PROBE {
        json!({"clientIdFrom": {"name": PROBE_SECRET}})
    } else {
        json!({"clientId": client_id})
    };
    let mut spec = json!({"connSecretRef": {"name": conn}});
    if let (Some(spec), Some(client)) = (spec.as_object_mut(), client.as_object()) {
        spec.extend(client.clone());
    }
    let token: ApiToken = serde_json::from_value(json!({
        "apiVersion": "quay.herve4m.github.io/v1alpha1", "kind": "ApiToken",
        "metadata": {"name": name},
        "spec": spec,
    }))
    .unwrap_or_else(|e| panic!("ApiToken {name}: {e}"));
    api.create(&PostParams::default(), &token)
        .await
        .unwrap_or_else(|e| panic!("cannot create ApiToken {name}: {e}"));
}

/// Creates `names` with at most `CREATE_PARALLEL` in flight; ApiToken i uses account i % n.
pub async fn create_all(world: &World, names: &[String], accounts: usize) -> Duration {
    let api = world.tokens();
    let client_id = world.app.client_id.clone();
    let started = Instant::now();
    futures::stream::iter(names.iter().enumerate())
        .for_each_concurrent(CREATE_PARALLEL, |(i, name)| {
            let api = api.clone();
            let client_id = client_id.clone();
            async move {
                create_token(&api, name, &conn_secret(i % accounts), &client_id).await;
            }
        })
        .await;
    started.elapsed()
}

/// Starts the binary (`name`) on `world`, applies `names` (ApiToken i on account
/// i % `accounts`) and returns it once every one is Ready.
pub async fn fill(
    world: &World,
    k: &Knobs,
    name: &str,
    names: &[String],
    accounts: usize,
) -> OperatorProcess {
    let mut operator = start_operator(name, world, k);
    operator.wait_serving().await;
    operator.wait_ready().await;
    let watch = ReadyWatch::start(world.tokens());
    let started = Instant::now();
    create_all(world, names, accounts).await;
    let ready = watch.wait(names.len(), k.patience, &mut operator).await;
    assert_eq!(
        ready,
        names.len(),
        "only {ready}/{} ApiTokens Ready after {:.0?}",
        names.len(),
        started.elapsed()
    );
    operator
}
