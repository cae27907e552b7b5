//! The control plane's floor on this machine: with no operator and no Quay, the Kubernetes
//! writes of a first mint replayed with the very objects a burst left behind (its ApiTokens'
//! Ready status, their result Secrets and Events), as many tokens in flight as the binary's
//! `--concurrency`, each waiting in its slot as long as Quay's answers would take. A burst
//! cannot finish faster than this whatever the operator does: the API server and etcd share
//! the machine's cores with it, and every write of a token happens in that token's slot,
//! before or after its mint. The replay leaves out the operator's reads, its watches and its
//! own CPU, so the real floor is higher still.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::api::{ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Api, Resource, ResourceExt};
use quay_apitoken_operator::crd::{ApiToken, ApiTokenStatus, FINALIZER, PendingMint};
use quay_apitoken_operator::reconcile::secret::OWNER_UID_LABEL;
use quay_apitoken_operator::reconcile::{naming, status};
use serde_json::json;

use crate::goals::{GOAL_REQUESTS_TOKEN_API, GOAL_REQUESTS_WEB_FLOW, GOAL_TIME_FACTOR};
use crate::knobs::Knobs;
use crate::procfs::{CONTROL_PLANE, cores, cpu_seconds_named};
use crate::setup::{fill, world_with_accounts};
use crate::table::{Table, verdict};
use crate::world::World;

/// Accounts and latency of the bursts whose targets the floor is compared with.
const ACCOUNTS: usize = 10;
const LATENCY_MS: f64 = 50.0;

/// What one ApiToken of the burst left: its spec and Ready status, its result Secret and the
/// Event its mint published.
struct Left {
    token: ApiToken,
    secret: Secret,
    event: Option<Event>,
}

/// One replayed write sequence.
#[derive(Clone, Copy, PartialEq)]
enum Sequence {
    /// The least a first mint can write: the user's create, the finalizer, the result Secret
    /// and the Ready status.
    Least,
    /// What the operator writes today: those, the intent before the mint and the Event.
    Today,
}

impl Sequence {
    fn prefix(self) -> &'static str {
        match self {
            Sequence::Least => "least",
            Sequence::Today => "today",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Sequence::Least => "4 writes per token (create, finalizer, Secret, Ready status)",
            Sequence::Today => {
                "the operator's 6 writes per token (those, the intent and the Event)"
            }
        }
    }
}

/// Runs a token-API burst of N for its objects, stops the binary, then replays both sequences.
pub async fn run(k: &Knobs, table: &mut Table) {
    let n = k.tokens;
    let scenario = format!(
        "{n} first mints replayed with no operator and no Quay, {} in flight",
        k.concurrency
    );
    eprintln!("scale: {scenario}…");
    let world = world_with_accounts("scale-floor", true, ACCOUNTS).await;
    let names: Vec<String> = (0..n).map(|i| format!("t{i:04}")).collect();
    drop(fill(&world, k, "floor", &names, ACCOUNTS).await);
    let left = collect(&world).await;
    assert_eq!(left.len(), n, "every Ready ApiToken has its result Secret");

    let parallel = ACCOUNTS.min(k.concurrency as usize).max(1);
    let cores = cores();
    // (writes, Quay requests waited for per token in its slot, the burst target it bounds).
    // Those compared with a target first, while etcd holds the fewest copies.
    let replays = [
        (Sequence::Least, 1, Some(GOAL_REQUESTS_TOKEN_API)),
        (Sequence::Least, 2, Some(GOAL_REQUESTS_WEB_FLOW)),
        (Sequence::Least, 0, None),
        (Sequence::Today, 0, None),
    ];
    for (round, (sequence, requests, goal)) in replays.into_iter().enumerate() {
        let wait = Duration::from_millis(LATENCY_MS as u64 * requests);
        let prefix = format!("{}{round}", sequence.prefix());
        let (took, cpu) = replay(&world, &left, sequence, &prefix, wait, k.concurrency).await;
        let measure = if requests == 0 {
            sequence.label().to_owned()
        } else {
            format!(
                "{}, and Quay's {requests} × {LATENCY_MS:.0} ms per token waited for in its slot",
                sequence.label()
            )
        };
        let target = goal.map_or_else(String::new, |goal| {
            let limit = GOAL_TIME_FACTOR * goal * LATENCY_MS / 1000.0 * n as f64 / parallel as f64;
            verdict(
                format!("the {ACCOUNTS}-account {LATENCY_MS:.0} ms target ({limit:.1} s) above it"),
                took.as_secs_f64() < limit,
            )
        });
        table.add(
            &scenario,
            &measure,
            format!(
                "{:.1} s; etcd + API server {cpu:.1} CPU s = {:.1} s of all {cores} cores",
                took.as_secs_f64(),
                cpu / cores as f64
            ),
            target,
        );
    }
    eprintln!("scale: … floor done");
}

/// The burst's Ready ApiTokens with their result Secrets and Events.
async fn collect(world: &World) -> Vec<Left> {
    let ns = &world.ns.name;
    let tokens = world
        .tokens()
        .list(&ListParams::default())
        .await
        .unwrap_or_else(|e| panic!("cannot list the burst's ApiTokens: {e}"));
    let secrets: BTreeMap<String, Secret> = world
        .secrets_in(ns)
        .list(&ListParams::default())
        .await
        .unwrap_or_else(|e| panic!("cannot list the burst's Secrets: {e}"))
        .into_iter()
        .map(|s| (s.name_any(), s))
        .collect();
    let mut events: BTreeMap<String, Event> = BTreeMap::new();
    for event in Api::<Event>::namespaced(world.ns.client.clone(), ns)
        .list(&ListParams::default())
        .await
        .unwrap_or_else(|e| panic!("cannot list the burst's Events: {e}"))
    {
        if let Some(name) = event.regarding.as_ref().and_then(|r| r.name.clone()) {
            events.entry(name).or_insert(event);
        }
    }
    tokens
        .into_iter()
        .filter_map(|token| {
            let at = token.status.as_ref()?.secret_name.as_ref()?;
            let secret = secrets.get(at.rsplit('/').next()?)?.clone();
            let event = events.get(&token.name_any()).cloned();
            Some(Left {
                token,
                secret,
                event,
            })
        })
        .collect()
}

/// Replays `sequence` for every left object (copies named `<prefix>NNNN`), `parallel` tokens
/// at a time, each waiting `quay` in its slot where the mint would be; its time and the
/// control plane's CPU seconds.
async fn replay(
    world: &World,
    left: &[Left],
    sequence: Sequence,
    prefix: &str,
    quay: Duration,
    parallel: u16,
) -> (Duration, f64) {
    let cpu_before = cpu_seconds_named(CONTROL_PLANE);
    let started = Instant::now();
    futures::stream::iter(left.iter().enumerate())
        .for_each_concurrent(usize::from(parallel.max(1)), |(i, one)| async move {
            let name = format!("{prefix}{i:04}");
            first_mint(world, one, &name, sequence, quay).await;
        })
        .await;
    let took = started.elapsed();
    (took, cpu_seconds_named(CONTROL_PLANE) - cpu_before)
}

/// One token's writes, in the operator's order and with its request kinds.
async fn first_mint(world: &World, one: &Left, name: &str, sequence: Sequence, quay: Duration) {
    let ns = world.ns.name.clone();
    let tokens = world.tokens();
    let fail = |what: &str, e: kube::Error| -> ! { panic!("floor: {what} of {name}: {e}") };

    // The user's apply.
    let mut fresh = ApiToken::new(name, one.token.spec.clone());
    fresh.metadata.namespace = Some(ns.clone());
    let created = tokens
        .create(&PostParams::default(), &fresh)
        .await
        .unwrap_or_else(|e| fail("create", e));
    let uid = created.uid().unwrap_or_default();

    // The finalizer, as kube's finalizer helper adds it: a JSON patch guarded by a test.
    let add: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/metadata/finalizers", "value": null},
        {"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]},
    ]))
    .unwrap_or_else(|e| panic!("finalizer patch: {e}"));
    tokens
        .patch(name, &PatchParams::default(), &Patch::<()>::Json(add))
        .await
        .unwrap_or_else(|e| fail("finalizer", e));

    // The intent, as the operator writes it before asking Quay.
    let record = one.token.status.as_ref().and_then(|s| s.token.as_ref());
    let shown = match (sequence, record) {
        (Sequence::Today, Some(record)) => {
            let intent = ApiTokenStatus {
                pending_mint: Some(PendingMint {
                    name: naming::token_name(&ns, name, &uid, &naming::mint_mark()),
                    host: record.host.clone(),
                    username: record.username.clone(),
                    client_id: record.client_id.clone(),
                    started_at: record.minted_at.clone().unwrap_or_default(),
                    flavour: record.flavour.clone(),
                    scopes: record.scopes.clone(),
                    known_ids: None,
                }),
                ..ApiTokenStatus::default()
            };
            tokens
                .patch_status(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(status::merge_patch(None, &intent)),
                )
                .await
                .unwrap_or_else(|e| fail("intent", e));
            Some(intent)
        }
        _ => None,
    };

    // The mint, as long as Quay takes to answer.
    if !quay.is_zero() {
        tokio::time::sleep(quay).await;
    }

    // The result Secret as the operator created it, owned by the copy.
    let mut secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(ns.clone()),
            labels: one.secret.metadata.labels.clone(),
            annotations: one.secret.metadata.annotations.clone(),
            owner_references: one.secret.metadata.owner_references.clone().map(|refs| {
                refs.into_iter()
                    .map(|mut r| {
                        r.name = name.to_owned();
                        r.uid = uid.clone();
                        r
                    })
                    .collect()
            }),
            ..ObjectMeta::default()
        },
        data: one.secret.data.clone(),
        type_: one.secret.type_.clone(),
        ..Secret::default()
    };
    if let Some(owner) = secret
        .metadata
        .labels
        .as_mut()
        .and_then(|labels| labels.get_mut(OWNER_UID_LABEL))
    {
        owner.clone_from(&uid);
    }
    world
        .secrets_in(&ns)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap_or_else(|e| fail("Secret create", e));

    // The Ready status, whole, over the intent.
    let ready = ApiTokenStatus {
        secret_name: Some(format!("{ns}/{name}")),
        ..one.token.status.clone().unwrap_or_default()
    };
    tokens
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(status::merge_patch(shown.as_ref(), &ready)),
        )
        .await
        .unwrap_or_else(|e| fail("Ready status", e));

    if sequence == Sequence::Today
        && let Some(event) = &one.event
    {
        let mut copy = event.clone();
        copy.metadata = ObjectMeta {
            name: Some(format!("{name}.{}", started_nanos())),
            namespace: Some(ns.clone()),
            ..ObjectMeta::default()
        };
        copy.regarding = Some(created.object_ref(&()));
        Api::<Event>::namespaced(world.ns.client.clone(), &ns)
            .create(&PostParams::default(), &copy)
            .await
            .unwrap_or_else(|e| fail("Event", e));
    }
}

/// Nanoseconds since the epoch, for unique Event names like the operator's.
fn started_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
