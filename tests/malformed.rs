//! A malformed stored ApiToken never stops the watch: it gets its own error status and one
//! Warning event, and every other ApiToken reconciles as usual.
//!
//! The API server stores such objects only while a looser schema is installed (an older CRD
//! version, or a hand edit of the CRD), so this test loosens the CRD for a moment. That would
//! disturb tests sharing an API server, hence a test binary with its own control plane.

#[path = "support/mod.rs"]
mod support;

#[allow(dead_code)]
#[path = "e2e/env.rs"]
mod env;

use env::*;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::{Client, CustomResourceExt};
use quay_apitoken_operator::crd::{ApiToken, FINALIZER};
use serde_json::{Value, json};
use std::time::Duration;
use support::wait_for;

/// The CRD's versions, with the spec schema replaced by `spec_schema` when given.
fn versions(spec_schema: Option<Value>) -> Value {
    let mut crd = serde_json::to_value(ApiToken::crd()).unwrap();
    if let Some(schema) = spec_schema {
        *crd.pointer_mut("/spec/versions/0/schema/openAPIV3Schema/properties/spec")
            .unwrap() = schema;
    }
    crd["spec"]["versions"].take()
}

async fn set_versions(client: &Client, versions: Value) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let name = ApiToken::crd().metadata.name.unwrap();
    crds.patch(
        &name,
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"versions": versions}})),
    )
    .await
    .unwrap();
}

fn apitokens(client: &Client, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), ns, &ApiResource::erase::<ApiToken>(&()))
}

fn object(name: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "quay.herve4m.github.io/v1alpha1", "kind": "ApiToken",
        "metadata": {"name": name}, "spec": spec,
    }))
    .unwrap()
}

/// Whether the API server currently accepts `spec` (a dry run, so nothing is stored).
async fn accepts(api: &Api<DynamicObject>, spec: &Value) -> bool {
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    api.create(&dry, &object("probe", spec.clone()))
        .await
        .is_ok()
}

/// The Ready condition's reason and the status message, read untyped.
fn verdict(obj: &DynamicObject) -> Option<(String, String, String)> {
    let status = obj.data.get("status")?;
    let ready = status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")?;
    Some((
        ready["status"].as_str()?.to_string(),
        ready["reason"].as_str()?.to_string(),
        status["message"].as_str()?.to_string(),
    ))
}

fn reconciles_with(env: &Env, result: &str) -> u64 {
    let series = format!("quay_apitoken_reconciles_total{{result=\"{result}\"}} ");
    env.operator()
        .metrics
        .encode()
        .lines()
        .find_map(|l| l.strip_prefix(series.as_str())?.parse::<f64>().ok())
        .unwrap_or_default() as u64
}

async fn warnings(env: &Env, name: &str, reason: &str) -> usize {
    env.events(name)
        .await
        .into_iter()
        .filter(|(type_, r, _)| type_ == "Warning" && r == reason)
        .count()
}

/// Runs `store` while the spec schema accepts anything, then restores it; `probe` is a spec
/// the strict schema rejects.
async fn loosened(
    client: &Client,
    api: &Api<DynamicObject>,
    probe: &Value,
    store: impl std::future::Future<Output = ()>,
) {
    set_versions(
        client,
        versions(Some(
            json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        )),
    )
    .await;
    wait_for(PATIENCE, "the loose schema", || async {
        accepts(api, probe).await.then_some(())
    })
    .await;
    store.await;
    set_versions(client, versions(None)).await;
    wait_for(PATIENCE, "the strict schema again", || async {
        (!accepts(api, probe).await).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_malformed_apitoken_is_reported_alone_and_the_rest_reconcile() {
    let mut env = Env::start_with(
        "mal",
        Options {
            verify_interval: Duration::from_secs(600),
            ..Options::default()
        },
    )
    .await;
    let client = env.ns.client.clone();
    let api = apitokens(&client, &env.ns.name);
    let cid = env.app.client_id.clone();
    env.create_seed_example("before", "before-out").await;
    env.wait_ready("before").await;
    env.create(
        "turned",
        json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": cid}),
    )
    .await;
    let turned = env.wait_ready("turned").await;
    assert!(
        turned
            .metadata
            .finalizers
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|f| f == FINALIZER),
        "the finalizer is on"
    );

    // Stored while the operator is down, its first list holds them.
    env.stop_operator().await;
    let bad_bool = json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": cid,
                          "preserveInQuayOnDeletion": "yes"});
    let bad_right = json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": cid,
                           "rights": ["repo:read", "repo:fly"]});
    loosened(&client, &api, &bad_bool, async {
        api.create(
            &PostParams::default(),
            &object("bad-bool", bad_bool.clone()),
        )
        .await
        .unwrap();
        api.patch(
            "turned",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": bad_right})),
        )
        .await
        .unwrap();
    })
    .await;
    env.start_operator().await;

    // The others reconcile: one created now, and one already there.
    env.create_seed_example("after", "after-out").await;
    env.wait_ready("after").await;
    env.delete_and_wait("before").await;
    // And one stored while the operator watches.
    let bad_late = json!({"connSecretRef": {"name": "quay-credentials"}, "clientId": cid,
                          "rights": ["repo:fly"]});
    loosened(&client, &api, &bad_late, async {
        api.create(
            &PostParams::default(),
            &object("bad-late", bad_late.clone()),
        )
        .await
        .unwrap();
    })
    .await;

    for (name, field) in [
        ("bad-bool", "spec.preserveInQuayOnDeletion"),
        ("turned", "spec.rights[1]"),
        ("bad-late", "spec.rights[0]"),
    ] {
        let (ready, _, message) = wait_for(PATIENCE, &format!("{name} reported"), || {
            let api = api.clone();
            async move {
                let obj = api.get(name).await.ok()?;
                verdict(&obj).filter(|(_, reason, _)| reason == "MalformedObject")
            }
        })
        .await;
        assert_eq!(ready, "False");
        assert!(message.contains(field), "{name}: {message}");
        wait_for(PATIENCE, &format!("{name}: a Warning event"), || async {
            (warnings(&env, name, "MalformedObject").await == 1).then_some(())
        })
        .await;
    }

    // Reconciling it again (an annotation is a change the controller acts on) repeats nothing.
    let before = reconciles_with(&env, "MalformedObject");
    api.patch(
        "bad-bool",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {"touched": "1"}}})),
    )
    .await
    .unwrap();
    wait_for(PATIENCE, "another reconcile of bad-bool", || async {
        (reconciles_with(&env, "MalformedObject") > before).then_some(())
    })
    .await;
    assert_eq!(warnings(&env, "bad-bool", "MalformedObject").await, 1);

    // Fixing the field makes it an ordinary ApiToken.
    api.patch(
        "bad-bool",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"preserveInQuayOnDeletion": true}})),
    )
    .await
    .unwrap();
    env.wait_ready("bad-bool").await;

    // Deleting one that holds our finalizer never hangs: released, with a Warning saying
    // which token stays in Quay.
    let turned_id = token_id(&turned).unwrap();
    api.delete("turned", &DeleteParams::default())
        .await
        .unwrap();
    wait_for(PATIENCE, "turned deleted", || async {
        api.get_opt("turned").await.unwrap().is_none().then_some(())
    })
    .await;
    let left = env.events("turned").await;
    assert!(
        left.iter()
            .any(|(t, r, note)| t == "Warning" && r == "LeftInQuay" && note.contains(&turned_id)),
        "{left:?}"
    );
    env.wait_ready("after").await;
}
