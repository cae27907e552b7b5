//! A malformed stored ApiToken or Application never stops the watch: it gets its own error
//! status, naming the field, and one Warning event, and every other object reconciles as usual.
//!
//! The API server stores such objects only while a looser schema is installed (an older CRD
//! version, or a hand edit of the CRD), so this test loosens the CRD for a moment. That would
//! disturb tests sharing an API server, hence a test binary with its own control plane, whose
//! tests take turns to loosen it.

#[path = "support/mod.rs"]
mod support;

#[allow(dead_code)]
#[path = "e2e/env.rs"]
mod env;

use env::*;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::{Client, CustomResourceExt};
use quay_apitoken_operator::application::Application;
use quay_apitoken_operator::crd::{ApiToken, FINALIZER};
use serde_json::{Value, json};
use std::time::Duration;
use support::wait_for;

/// The CRD's versions, with the spec schema replaced by `spec_schema` when given.
fn versions(spec_schema: Option<Value>) -> Value {
    versions_of(ApiToken::crd(), spec_schema)
}

/// `crd`'s versions, with the spec schema replaced by `spec_schema` when given.
fn versions_of(crd: CustomResourceDefinition, spec_schema: Option<Value>) -> Value {
    let mut crd = serde_json::to_value(crd).unwrap();
    if let Some(schema) = spec_schema {
        *crd.pointer_mut("/spec/versions/0/schema/openAPIV3Schema/properties/spec")
            .unwrap() = schema;
    }
    crd["spec"]["versions"].take()
}

async fn set_versions(client: &Client, versions: Value) {
    set_versions_of(client, ApiToken::crd(), versions).await;
}

async fn set_versions_of(client: &Client, crd: CustomResourceDefinition, versions: Value) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let name = crd.metadata.name.unwrap();
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
    object_of("ApiToken", name, spec)
}

fn object_of(kind: &str, name: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "quay.herve4m.github.io/v1alpha1", "kind": kind,
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
    counted(env, "quay_apitoken_reconciles_total", result)
}

/// The value of the counter `family` for `result`.
fn counted(env: &Env, family: &str, result: &str) -> u64 {
    let series = format!("{family}{{result=\"{result}\"}} ");
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

/// Held while a test loosens a schema: tests of this binary run at once, and each one waits
/// for the strict schema again.
static LOOSE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs `store` while the spec schema accepts anything, then restores it; `probe` is a spec
/// the strict schema rejects.
async fn loosened(
    client: &Client,
    api: &Api<DynamicObject>,
    probe: &Value,
    store: impl std::future::Future<Output = ()>,
) {
    let _turn = LOOSE.lock().await;
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

/// The same malformed-object path for both kinds: an ApiToken and an Application whose spec
/// does not deserialize both show the failing field's path in status, and a later reconcile
/// that finds nothing new does not write their status again.
#[tokio::test]
async fn both_kinds_name_the_bad_field_and_write_their_status_once() {
    let env = Env::start_with(
        "malk",
        Options {
            verify_interval: Duration::from_secs(600),
            ..Options::default()
        },
    )
    .await;
    let client = env.ns.client.clone();
    let tokens = apitokens(&client, &env.ns.name);
    let apps: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &env.ns.name,
        &ApiResource::erase::<Application>(&()),
    );
    let bad_token = json!({"connSecretRef": {"name": "quay-credentials"},
                           "clientId": env.app.client_id, "preserveInQuayOnDeletion": "yes"});
    let bad_app = json!({"connSecretRef": {"name": "quay-credentials"}, "organization": support::ORG,
                         "name": "malformed-app", "preserveInQuayOnDeletion": "yes"});
    let loose = Some(json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    {
        let _turn = LOOSE.lock().await;
        set_versions(&client, versions(loose.clone())).await;
        set_versions_of(
            &client,
            Application::crd(),
            versions_of(Application::crd(), loose),
        )
        .await;
        let dry = PostParams {
            dry_run: true,
            ..PostParams::default()
        };
        wait_for(PATIENCE, "the loose schemas", || async {
            let token = tokens
                .create(&dry, &object("probe", bad_token.clone()))
                .await;
            let app = apps
                .create(&dry, &object_of("Application", "probe", bad_app.clone()))
                .await;
            (token.is_ok() && app.is_ok()).then_some(())
        })
        .await;
        tokens
            .create(
                &PostParams::default(),
                &object("bad-token", bad_token.clone()),
            )
            .await
            .unwrap();
        apps.create(
            &PostParams::default(),
            &object_of("Application", "bad-app", bad_app.clone()),
        )
        .await
        .unwrap();
        set_versions(&client, versions(None)).await;
        set_versions_of(
            &client,
            Application::crd(),
            versions_of(Application::crd(), None),
        )
        .await;
        wait_for(PATIENCE, "the strict schemas again", || async {
            let token = tokens
                .create(&dry, &object("probe", bad_token.clone()))
                .await;
            let app = apps
                .create(&dry, &object_of("Application", "probe", bad_app.clone()))
                .await;
            (token.is_err() && app.is_err()).then_some(())
        })
        .await;
    }

    for (api, name, family) in [
        (&tokens, "bad-token", "quay_apitoken_reconciles_total"),
        (
            &apps,
            "bad-app",
            "quay_apitoken_application_reconciles_total",
        ),
    ] {
        let (ready, _, message) = wait_for(PATIENCE, &format!("{name} reported"), || async {
            let obj = api.get(name).await.ok()?;
            verdict(&obj).filter(|(_, reason, _)| reason == "MalformedObject")
        })
        .await;
        assert_eq!(ready, "False");
        assert!(
            message.contains("spec.preserveInQuayOnDeletion: invalid type: string"),
            "{name}: {message}"
        );
        // The reconcile that wrote it is over; an annotation is a change the controller acts
        // on, and the reconcile it causes has nothing new to write.
        wait_for(
            PATIENCE,
            &format!("{name}: first reconcile counted"),
            || async { (counted(&env, family, "MalformedObject") >= 1).then_some(()) },
        )
        .await;
        let before = counted(&env, family, "MalformedObject");
        let touched = api
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"annotations": {"touched": "1"}}})),
            )
            .await
            .unwrap();
        wait_for(
            PATIENCE,
            &format!("another reconcile of {name}"),
            || async { (counted(&env, family, "MalformedObject") > before).then_some(()) },
        )
        .await;
        let after = api.get(name).await.unwrap();
        assert_eq!(
            after.metadata.resource_version, touched.metadata.resource_version,
            "{name}: the status was written again"
        );
        api.delete(name, &DeleteParams::default()).await.unwrap();
    }
}
