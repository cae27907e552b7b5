//! The password and sign-in: a wrong one, Quay's back-off, an empty one.

use super::*;

/// A wrong password fails sign-in, once: no second attempt lengthens Quay's back-off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_fails_sign_in_once() {
    let (quay, client_id) = quay(Config::default()).await;
    let host = quay.url();
    let run = check(
        &flags(&host, ADMIN, &["--client-id", &client_id]),
        Some(WRONG_PASSWORD),
        None,
    )
    .await;
    run.assert_code(1);
    let line = run.expect("sign-in", "FAIL");
    assert!(line.ends_with("[InvalidCredentials]"), "{line}");
    assert!(line.contains(ADMIN), "{line}");
    run.expect("application", "SKIP");
    run.expect("rights", "SKIP");
    assert_eq!(quay.request_count(SIGNIN), 1);
    assert_no_signout(&quay);
}

/// Inside Quay's login back-off, check reports the wait and does not try again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quays_login_back_off_is_reported_and_honoured() {
    let (quay, _) = quay(Config::default()).await;
    quay.set_faults(Faults {
        rules: vec![FaultRule {
            endpoint: Some(SIGNIN.to_owned()),
            answer: Some(FaultAnswer {
                status: 429,
                body: "\"Too many login attempts.\"".to_owned(),
            }),
            ..FaultRule::default()
        }],
    });
    let host = quay.url();
    let run = check(&flags(&host, ADMIN, &[]), Some(ADMIN_PASSWORD), None).await;
    run.assert_code(1);
    let line = run.expect("sign-in", "FAIL");
    assert!(line.ends_with("[LoginBackoff]"), "{line}");
    assert!(line.contains("did not try again"), "{line}");
    assert_eq!(quay.request_count(SIGNIN), 1);
    assert_no_signout(&quay);
}

/// The password comes from a pipe only; an empty one is refused before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_password_is_refused_before_any_request() {
    let (quay, _) = quay(Config::default()).await;
    let host = quay.url();
    let run = check(&flags(&host, ADMIN, &[]), None, None).await;
    run.assert_code(1);
    assert!(
        run.expect("settings", "FAIL").contains("--password-stdin"),
        "{}",
        run.stdout
    );
    assert!(quay.request_counts().values().all(|n| *n == 0));
}
