//! What wakes an Application, as it wakes an ApiToken (tests/e2e/watching.rs): a Secret it names
//! in another watched namespace, found through the Secret index, and a move of the clock.

use super::fixture::*;
use crate::env::*;
use crate::support::wait_for;
use quay_emulator::AppUpdate;
use serde_json::json;
use std::time::Duration;

/// Long enough that only a watch can explain a reconcile within a test's patience.
const LONG_VERIFY: Duration = Duration::from_secs(600);

/// With several watched namespaces, fixing a connection Secret that lives in another of them
/// makes its Applications reconcile at once, not at the verify interval.
#[tokio::test]
async fn a_secret_in_another_watched_namespace_wakes_its_applications() {
    let env = start(
        "e2e-app-xwake",
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
    let mut s = spec("xwakeapp", "xwakeapp-secret");
    s["connSecretRef"] = json!({"name": "creds", "namespace": other});
    create_app(&env, "xwakeapp", s).await;
    wait_app_reason(&env, "xwakeapp", "InvalidCredentials").await;

    env.patch_secret(&other, "creds", "password", ADMIN_PASSWORD)
        .await;
    // PATIENCE is 30 s, a twentieth of the verify interval.
    wait_app_ready(&env, "xwakeapp").await;
}

/// A move of the clock makes the controller look at every Application again, as at every
/// ApiToken: drift in Quay is repaired long before the verify interval.
#[tokio::test]
async fn a_move_of_the_clock_reconciles_applications_too() {
    let env = start(
        "e2e-app-clock",
        Options {
            verify_interval: LONG_VERIFY,
            ..Options::default()
        },
    )
    .await;
    let mut s = spec("clockapp", "clockapp-secret");
    s["description"] = json!("declared");
    create_app(&env, "clockapp", s).await;
    let client_id = record(&wait_app_ready(&env, "clockapp").await).client_id;
    assert!(env.quay.update_app(
        &client_id,
        AppUpdate {
            description: Some("edited in the UI".into()),
            ..AppUpdate::default()
        }
    ));
    env.advance_clock(Duration::from_secs(1));
    wait_for(PATIENCE, "the description repaired", || async {
        (env.quay.app(&client_id)?.description == "declared").then_some(())
    })
    .await;
}
