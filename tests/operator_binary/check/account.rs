//! What the account may do: the application, the organization and the scopes.

use super::*;

/// A client ID Quay does not know fails the application check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_client_id_fails_the_application_check() {
    let (quay, _) = quay(Config::default()).await;
    let host = quay.url();
    let run = check(
        &flags(&host, ADMIN, &["--client-id", "NOSUCHCLIENTID000000"]),
        Some(ADMIN_PASSWORD),
        None,
    )
    .await;
    run.assert_code(1);
    run.expect("sign-in", "PASS");
    let line = run.expect("application", "FAIL");
    assert!(line.ends_with("[UnknownClientId]"), "{line}");
    assert!(line.contains("NOSUCHCLIENTID000000"), "{line}");
    run.expect("org-admin", "SKIP");
    run.expect("rights", "PASS");
    assert_no_signout(&quay);
}

/// An account outside the application's organization: the application exists, the admin
/// check fails naming the organization.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_that_is_not_org_admin_fails_the_org_admin_check() {
    let (quay, client_id) = quay(Config::default()).await;
    let host = quay.url();
    let run = check(
        &flags(&host, OTHER, &["--client-id", &client_id]),
        Some(OTHER_PASSWORD),
        None,
    )
    .await;
    run.assert_code(1);
    run.expect("sign-in", "PASS");
    assert!(run.expect("application", "PASS").contains(ORG));
    let line = run.expect("org-admin", "FAIL");
    assert!(line.ends_with("[NotOrganizationAdmin]"), "{line}");
    assert!(line.contains(OTHER) && line.contains(ORG), "{line}");
    assert_no_signout(&quay);
}

/// `all` for an account that is not a Quay superuser: fine, but super:user is left out, as
/// the operator will do; an explicit super:user is a failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_for_a_non_superuser_reports_super_user_left_out() {
    let (quay, client_id) = quay(Config {
        token_api: false,
        ..Config::default()
    })
    .await;
    let host = quay.url();
    let run = check(
        &flags(
            &host,
            ADMIN,
            &["--client-id", &client_id, "--rights", "all"],
        ),
        Some(ADMIN_PASSWORD),
        None,
    )
    .await;
    run.assert_code(0);
    assert!(
        run.expect("sign-in", "PASS")
            .contains("not a Quay superuser")
    );
    assert!(
        run.expect("flavour", "PASS").contains("web flow"),
        "{}",
        run.stdout
    );
    let line = run.expect("rights", "WARN");
    assert!(line.contains("super:user will be left out"), "{line}");
    assert!(
        line.contains("org:admin") && !line.contains("→ super:user"),
        "{line}"
    );

    let run = check(
        &flags(&host, ADMIN, &["--rights", "repo:read,super:user"]),
        Some(ADMIN_PASSWORD),
        None,
    )
    .await;
    run.assert_code(1);
    assert!(
        run.expect("rights", "FAIL").ends_with("[RightNotHeld]"),
        "{}",
        run.stdout
    );

    quay.set_superuser(ADMIN, true);
    let run = check(
        &flags(&host, ADMIN, &["--rights", "all"]),
        Some(ADMIN_PASSWORD),
        None,
    )
    .await;
    run.assert_code(0);
    let line = run.expect("rights", "PASS");
    assert!(
        line.contains("super:user") && line.contains("all eight"),
        "{line}"
    );
    assert_no_signout(&quay);
}
