//! The way out of a deletion that a gone Quay blocks (issue 20, item 8): the finalizer stays
//! while Quay fails, and the release annotation lets a person let go of the object without
//! Quay; a Warning event names what stays there, and Quay still holds it.

use crate::application::fixture::{apps, create_app, record, spec, wait_app_ready};
use crate::env::*;
use crate::support::wait_for;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::{Api, ResourceExt};
use quay_apitoken_operator::crd::{FINALIZER, RELEASE_ANNOTATION};
use serde_json::json;

/// Waits until the operator counted a reconcile of `metric` that ended in `QuayUnavailable`:
/// a cleanup that kept the finalizer because Quay answered 503.
async fn wait_refused_by_quay(env: &Env, metric: &str, since: u64) {
    wait_for(PATIENCE, "a cleanup failing on Quay's 503", || async {
        let failed = env.operator().series(metric, r#"result="QuayUnavailable""#);
        (failed > since).then_some(())
    })
    .await;
}

fn release_patch() -> Patch<serde_json::Value> {
    Patch::Merge(json!({"metadata": {"annotations": {RELEASE_ANNOTATION: "true"}}}))
}

/// An ApiToken whose Quay answers 503 keeps its finalizer; annotated, it goes, its token live.
#[tokio::test]
async fn a_release_lets_an_apitoken_go_without_quay() {
    crate::capture::install();
    let env = Env::start("e2e-release-tok").await;
    env.create_token(env.apitoken("stuck")).await;
    let id = token_id(&env.wait_ready("stuck").await).unwrap();
    let metric = "quay_apitoken_reconciles_total";
    let before = env.operator().series(metric, r#"result="QuayUnavailable""#);
    env.set_quay_down(true);
    env.tokens()
        .delete("stuck", &DeleteParams::default())
        .await
        .unwrap();
    wait_refused_by_quay(&env, metric, before).await;
    let held = env.tokens().get("stuck").await.unwrap();
    assert!(held.metadata.deletion_timestamp.is_some());
    assert!(held.finalizers().contains(&FINALIZER.to_owned()), "kept");
    env.tokens()
        .patch("stuck", &PatchParams::default(), &release_patch())
        .await
        .unwrap();
    env.wait_gone("stuck").await;
    let events = env.events("stuck").await;
    assert!(
        events.iter().any(|(t, r, n)| t == "Warning"
            && r == "ReleasedWithoutRevoke"
            && n.contains(&id)
            && n.contains("stays in Quay")),
        "{events:?}"
    );
    assert!(
        env.quay.tokens().iter().any(|t| t.uuid == id),
        "the token is still live in Quay"
    );
    assert!(env.secret_data(&env.ns.name, "stuck").await.is_none());
}

/// The same for an Application: kept while Quay answers 503, released by the annotation, and
/// its OAuth application still in Quay.
#[tokio::test]
async fn a_release_lets_an_application_go_without_quay() {
    let env = crate::application::fixture::start("e2e-release-app", Options::default()).await;
    create_app(&env, "stuckapp", spec("stuckapp", "stuckapp-secret")).await;
    let client_id = record(&wait_app_ready(&env, "stuckapp").await).client_id;
    let metric = crate::application::fixture::RECONCILES;
    let before = env.operator().series(metric, r#"result="QuayUnavailable""#);
    env.set_quay_down(true);
    let api: Api<_> = apps(&env);
    api.delete("stuckapp", &DeleteParams::default())
        .await
        .unwrap();
    wait_refused_by_quay(&env, metric, before).await;
    let held = api.get("stuckapp").await.unwrap();
    assert!(held.metadata.deletion_timestamp.is_some());
    assert!(!held.finalizers().is_empty(), "kept");
    api.patch("stuckapp", &PatchParams::default(), &release_patch())
        .await
        .unwrap();
    env.ns
        .wait_for(
            "stuckapp",
            PATIENCE,
            "gone",
            |a: Option<quay_apitoken_operator::application::Application>| a.is_none().then_some(()),
        )
        .await;
    let events = env.events("stuckapp").await;
    assert!(
        events.iter().any(|(t, r, n)| t == "Warning"
            && r == "ReleasedWithoutRevoke"
            && n.contains(&client_id)),
        "{events:?}"
    );
    assert!(env.quay.app(&client_id).is_some(), "still in Quay");
}
