//! What a first mint writes to the Kubernetes API, counted through watches (every write is one
//! watch event, in order): the ApiToken three times (the finalizer, the intent, Ready with the
//! token) and the result Secret once (its create), on both flavours; and who owns the fields
//! of a result Secret written again, for both kinds.

use crate::env::*;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, Patch, PatchParams, WatchEvent, WatchParams};
use kube::{Api, ResourceExt};
use quay_apitoken_operator::context::MANAGER;
use quay_apitoken_operator::crd::ApiToken;

/// The resourceVersion of `api`'s collection now, to watch from.
async fn collection_version<K>(api: &Api<K>) -> String
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.list_metadata(&ListParams::default().limit(1))
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap()
}

async fn first_mint_writes(token_api: bool) {
    crate::capture::install();
    let flavour = if token_api { "api" } else { "web" };
    let env = Env::start_with(
        &format!("e2e-writes-{flavour}"),
        Options {
            token_api,
            ..Options::default()
        },
    )
    .await;
    let ns = env.ns.name.clone();
    let tokens = env.tokens();
    let secrets: Api<Secret> = env.secrets_in(&ns);
    let by_name = |name: &str| WatchParams::default().fields(&format!("metadata.name={name}"));
    let token_events = tokens
        .watch(&by_name("counted"), &collection_version(&tokens).await)
        .await
        .unwrap()
        .boxed();
    let secret_events = secrets
        .watch(&by_name("counted-out"), &collection_version(&secrets).await)
        .await
        .unwrap()
        .boxed();

    env.create_token(env.apitoken("counted").secret("counted-out"))
        .await;

    // Every change of the ApiToken up to the one that shows it Ready.
    let mut changes: Vec<ApiToken> = Vec::new();
    let mut token_events = token_events;
    let until_ready = async {
        while let Some(event) = token_events.try_next().await.unwrap() {
            match event {
                WatchEvent::Added(t) | WatchEvent::Modified(t) => {
                    let done = ready(&t) == Some(true) && observed(&t) == t.metadata.generation;
                    changes.push(t);
                    if done {
                        return;
                    }
                }
                other => panic!("unexpected watch event {other:?}"),
            }
        }
    };
    tokio::time::timeout(PATIENCE, until_ready)
        .await
        .expect("Ready in time");
    let writes = changes.len() - 1; // The first is our create.
    let steps: Vec<String> = changes
        .iter()
        .map(|t| {
            let status = t.status.clone().unwrap_or_default();
            format!(
                "finalizers={} pending={} token={} ready={:?}",
                t.finalizers().len(),
                status.pending_mint.is_some(),
                status.token.is_some(),
                ready(t)
            )
        })
        .collect();
    assert_eq!(writes, 3, "the finalizer, the intent, Ready: {steps:#?}");
    let intent = changes[2].status.clone().unwrap_or_default();
    assert!(
        intent.pending_mint.is_some() && intent.token.is_none(),
        "the intent is written before Quay is asked: {steps:#?}"
    );

    // The Secret was created once and not written since: the create was its only write.
    let mut secret_events = secret_events;
    let created = match secret_events.try_next().await.unwrap() {
        Some(WatchEvent::Added(s)) => s,
        other => panic!("the first Secret event is its create: {other:?}"),
    };
    let now = secrets.get("counted-out").await.unwrap();
    assert_eq!(
        now.resource_version(),
        created.resource_version(),
        "no write after the create"
    );
    assert!(now.data.unwrap_or_default().contains_key("accessToken"));
    assert_eq!(env.quay.tokens().len(), 1, "one token minted");
}

#[tokio::test]
async fn a_first_mint_writes_the_apitoken_three_times_and_the_secret_once_token_api() {
    first_mint_writes(true).await;
}

#[tokio::test]
async fn a_first_mint_writes_the_apitoken_three_times_and_the_secret_once_web_flow() {
    first_mint_writes(false).await;
}

/// The operations under which this operator's field manager holds the Secret's fields.
async fn our_operations(env: &Env, secret: &str) -> Vec<String> {
    let secret = env.secrets_in(&env.ns.name).get(secret).await.unwrap();
    secret
        .managed_fields()
        .iter()
        .filter(|m| m.manager.as_deref() == Some(MANAGER))
        .map(|m| m.operation.clone().unwrap_or_default())
        .collect()
}

/// A result Secret is created (one write, an `Update` entry) and applied when written again:
/// the rewrite first converts the create's entry, so that apply alone owns the Secret's fields
/// and a key the desired Secret drops goes. Both kinds write through the same code.
#[tokio::test]
async fn a_rewritten_result_secret_is_owned_by_apply_alone_apitoken() {
    crate::capture::install();
    let env = Env::start("e2e-owned-tok").await;
    env.create_token(env.apitoken("tok").secret("tok-out"))
        .await;
    let first = token_id(&env.wait_ready("tok").await).unwrap();
    env.wait_delivered("tok-out", &first).await;
    assert_eq!(
        our_operations(&env, "tok-out").await,
        ["Update"],
        "one create"
    );
    let patch =
        serde_json::json!({"metadata": {"annotations": {"quay.herve4m.github.io/rotate": "1"}}});
    env.tokens()
        .patch("tok", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let rotated = env
        .wait_token("tok", "rotated", |t| {
            token_id(t).is_some_and(|id| id != first)
        })
        .await;
    env.wait_delivered("tok-out", &token_id(&rotated).unwrap())
        .await;
    assert_eq!(our_operations(&env, "tok-out").await, ["Apply"]);
}

/// See [`a_rewritten_result_secret_is_owned_by_apply_alone_apitoken`]; a rename rewrites the
/// Application's Secret (its `name` key).
#[tokio::test]
async fn a_rewritten_result_secret_is_owned_by_apply_alone_application() {
    use crate::application::fixture::*;
    let env = start("e2e-owned-app", Options::default()).await;
    create_app(&env, "app", spec("oldname", "app-secret")).await;
    wait_app_ready(&env, "app").await;
    assert_eq!(
        our_operations(&env, "app-secret").await,
        ["Update"],
        "one create"
    );
    patch_spec(&env, "app", serde_json::json!({"newName": "newname"})).await;
    crate::support::wait_for(PATIENCE, "the Secret names the new name", || async {
        let data = env.secret_data(&env.ns.name, "app-secret").await?;
        (data.get("name").map(String::as_str) == Some("newname")).then_some(())
    })
    .await;
    assert_eq!(our_operations(&env, "app-secret").await, ["Apply"]);
}
