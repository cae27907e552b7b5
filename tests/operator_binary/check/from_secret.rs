//! Settings from a connection Secret in the cluster.

use super::*;

/// The whole path from a Secret in the cluster: every check passes, one sign-in, exit 0;
/// the JSON form says the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_connection_secret_passes_every_check() {
    let world = World::start("bin-check").await;
    let secret = format!("{}/{CONN_SECRET}", world.ns.name);
    let kubeconfig = world.admin_kubeconfig();
    let run = check(
        &["--secret", &secret, "--client-id", &world.app.client_id],
        None,
        Some(kubeconfig),
    )
    .await;
    run.assert_code(0);
    for step in [
        "settings",
        "reachable",
        "flavour",
        "sign-in",
        "application",
        "org-admin",
        "rights",
    ] {
        run.expect(step, "PASS");
    }
    // The emulator speaks plain HTTP.
    run.expect("tls", "WARN");
    assert!(run.line("settings").contains(&secret), "{}", run.stdout);
    assert!(run.line("flavour").contains("token API"), "{}", run.stdout);
    assert!(run.line("org-admin").contains(ORG), "{}", run.stdout);
    assert_eq!(world.quay.request_count(SIGNIN), 1, "one sign-in");
    assert_no_signout(&world.quay);
    assert!(world.quay.tokens().is_empty(), "check mints nothing");

    let run = check(
        &[
            "--secret",
            &secret,
            "--client-id",
            &world.app.client_id,
            "--output",
            "json",
        ],
        None,
        Some(kubeconfig),
    )
    .await;
    run.assert_code(0);
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.stdout));
    assert_eq!(report["passed"], true);
    assert_eq!(report["organization"], ORG);
    assert_eq!(report["superuser"], false);
    assert_eq!(report["flavour"], "tokenApi");
    let results: Vec<&str> = report["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("checks"))
        .iter()
        .filter_map(|c| c["result"].as_str())
        .collect();
    assert_eq!(
        results,
        [
            "pass", "pass", "warn", "pass", "pass", "pass", "pass", "pass"
        ]
    );
    assert_no_signout(&world.quay);
}

/// A Secret that is not there is reported as the ApiToken would report it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_secret_fails_the_settings_check() {
    let world = World::start("bin-check-missing").await;
    let secret = format!("{}/no-such-secret", world.ns.name);
    let run = check(&["--secret", &secret], None, Some(world.admin_kubeconfig())).await;
    run.assert_code(1);
    assert!(
        run.expect("settings", "FAIL")
            .ends_with("[ConnectionSecretMissing]"),
        "{}",
        run.stdout
    );
    run.expect("reachable", "SKIP");
    assert_eq!(world.quay.request_count(SIGNIN), 0);
}
