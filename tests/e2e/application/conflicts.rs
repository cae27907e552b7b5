//! Two Applications that declare the same Quay application: one wins, the other is told why.

use super::fixture::*;
use crate::env::*;
use crate::support::dump::{namespace_events, object_state, wait_or_dump};
use quay_apitoken_operator::application::Application;

/// A second Application with the same organization and name is refused with a message naming
/// the first one; Quay keeps one application.
#[tokio::test]
async fn a_second_application_of_the_same_name_is_a_conflict() {
    let env = start("e2e-app-twice", Options::default()).await;
    create_app(&env, "first", spec("extapp", "first-secret")).await;
    let client_id = record(&wait_app_ready(&env, "first").await).client_id;
    create_app(&env, "second", spec("extapp", "second-secret")).await;
    let second = wait_app_reason(&env, "second", "ApplicationConflict").await;
    let message = app_message(&second);
    assert!(
        message.starts_with("spec.name:")
            && message.contains(&format!("{}/first", env.ns.name))
            && message.contains(&client_id),
        "{message}"
    );
    assert_eq!(env.quay.app_count(ORG, "extapp"), 1);
    assert_eq!(env.quay.request_count(CREATE), 1);
    assert!(
        env.secret_data(&env.ns.name, "second-secret")
            .await
            .is_none()
    );
    let events = env.events("second").await;
    assert!(
        events
            .iter()
            .any(|(t, r, _)| t == "Warning" && r == "ApplicationConflict"),
        "{events:?}"
    );
    // Once the first goes (and its application with it), the second may have the name.
    delete_app_and_wait(&env, "first").await;
    let second = wait_app_ready(&env, "second").await;
    assert_ne!(record(&second).client_id, client_id);
    assert_eq!(env.quay.app_count(ORG, "extapp"), 1);
}

/// Two Applications of one name applied at once: one creates it, the other is refused.
#[tokio::test]
async fn two_applications_of_one_name_at_once_make_one_application() {
    let env = start("e2e-app-race", Options::default()).await;
    let (a, b) = tokio::join!(
        create_app(&env, "one", spec("extapp", "one-secret")),
        create_app(&env, "two", spec("extapp", "two-secret")),
    );
    drop((a, b));
    wait_or_dump(
        PATIENCE,
        "one Ready and the other refused",
        || async {
            let one = apps(&env).get("one").await.ok()?;
            let two = apps(&env).get("two").await.ok()?;
            let states = [condition(&one)?, condition(&two)?];
            let ready = states.iter().filter(|(r, _)| *r).count();
            let refused = states
                .iter()
                .filter(|(r, reason)| !r && reason == "ApplicationConflict")
                .count();
            (ready == 1 && refused == 1).then_some(())
        },
        || async {
            let (client, ns) = (&env.ns.client, &env.ns.name);
            let one = object_state::<Application>(client, ns, "one").await;
            let two = object_state::<Application>(client, ns, "two").await;
            format!("{one}\n{two}\n{}", namespace_events(client, ns).await)
        },
    )
    .await;
    assert_eq!(env.quay.app_count(ORG, "extapp"), 1);
    assert_eq!(env.quay.request_count(CREATE), 1);
}
