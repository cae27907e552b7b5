//! `quay-apitoken-operator check`, the binary as a user runs it: against the Quay emulator,
//! with the settings from a Secret in the cluster or from flags with the password on stdin.
//! Each failure the preflight exists for gets its own FAIL line, its reason and exit code 1;
//! no run signs out, and no run prints the password.

use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;

use quay_emulator::{Config, Emulator, FaultAnswer, FaultRule, Faults};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::process::binary;
use crate::world::{ADMIN, ADMIN_PASSWORD, CONN_SECRET, ORG, World};

/// Distinctive, so that a leak in any output is plain to see.
const WRONG_PASSWORD: &str = "Wr0ng-Check-Passw0rd-5531";
const OTHER: &str = "dwilde";
const OTHER_PASSWORD: &str = "Dw1ld3-Check-Passw0rd-2207";
const SIGNIN: &str = "POST /api/v1/signin";
const SIGNOUT: &str = "POST /api/v1/signout";

/// What one run of `check` left behind.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The report line of `check` (`  PASS  sign-in     …`).
    fn line(&self, check: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| {
                l.get(8..)
                    .is_some_and(|r| r.split_whitespace().next() == Some(check))
            })
            .unwrap_or_else(|| panic!("no {check} line in:\n{}", self.stdout))
    }

    /// Asserts that `check` has `outcome` (PASS, WARN, FAIL, SKIP) and returns its line.
    fn expect(&self, check: &str, outcome: &str) -> &str {
        let line = self.line(check);
        assert!(
            line.starts_with(&format!("  {outcome}  ")),
            "{check} is not {outcome}:\n{}",
            self.stdout
        );
        line
    }

    /// Asserts the exit code and that no password reached stdout or stderr.
    fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code, code,
            "exit code\n{}\n{}",
            self.stdout, self.stderr
        );
        for secret in [ADMIN_PASSWORD, WRONG_PASSWORD, OTHER_PASSWORD] {
            assert!(
                !self.stdout.contains(secret) && !self.stderr.contains(secret),
                "a password was printed:\n{}\n{}",
                self.stdout,
                self.stderr
            );
        }
    }
}

/// Runs `check` with `args` and only `KUBECONFIG` (when given) in its environment, writing
/// `password` (plus a newline) on its stdin.
async fn check(args: &[&str], password: Option<&str>, kubeconfig: Option<&Path>) -> Run {
    let mut command = tokio::process::Command::new(binary());
    command
        .env_clear()
        .arg("check")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(path) = kubeconfig {
        command.env("KUBECONFIG", path);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the binary: {e}"));
    let mut stdin = child.stdin.take().unwrap_or_else(|| panic!("no stdin"));
    if let Some(password) = password {
        stdin
            .write_all(format!("{password}\n").as_bytes())
            .await
            .unwrap_or_else(|e| panic!("stdin: {e}"));
    }
    drop(stdin);
    let output = child
        .wait_with_output()
        .await
        .unwrap_or_else(|e| panic!("check did not finish: {e}"));
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A Quay emulator seeded like the captured one: `admin` owns org `production` and its app,
/// `dwilde` is an ordinary user; neither is a superuser.
async fn quay(config: Config) -> (Emulator, String) {
    let quay = Emulator::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap_or_else(|e| panic!("cannot start the Quay emulator: {e}"));
    quay.add_user(ADMIN, ADMIN_PASSWORD);
    quay.add_user(OTHER, OTHER_PASSWORD);
    quay.add_org(ORG, ADMIN);
    let app = quay.add_app(ORG, "quay-operator", None);
    (quay, app.client_id)
}

/// `--host URL --username USER --password-stdin` followed by `extra`.
fn flags<'a>(host: &'a str, user: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--host", host, "--username", user, "--password-stdin"];
    args.extend_from_slice(extra);
    args
}

fn assert_no_signout(quay: &Emulator) {
    assert_eq!(quay.request_count(SIGNOUT), 0, "check must never sign out");
}

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

/// An untrusted certificate fails TLS before any password is sent; the CA given with
/// --ca-cert-file makes it pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_fails_tls_before_the_password_is_sent() {
    let (quay, client_id) = quay(Config {
        tls: true,
        ..Config::default()
    })
    .await;
    let host = quay.url();
    assert!(host.starts_with("https://"));
    let run = check(
        &flags(&host, ADMIN, &["--client-id", &client_id]),
        Some(ADMIN_PASSWORD),
        None,
    )
    .await;
    run.assert_code(1);
    run.expect("reachable", "PASS");
    let line = run.expect("tls", "FAIL");
    assert!(line.ends_with("[TlsError]"), "{line}");
    run.expect("sign-in", "SKIP");
    assert_eq!(
        quay.request_count(SIGNIN),
        0,
        "no password over an untrusted link"
    );

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, quay.ca_cert_pem().unwrap_or_default())
        .unwrap_or_else(|e| panic!("write CA: {e}"));
    let ca = ca.to_string_lossy().into_owned();
    let run = check(
        &flags(
            &host,
            ADMIN,
            &["--client-id", &client_id, "--ca-cert-file", &ca],
        ),
        Some(ADMIN_PASSWORD),
        None,
    )
    .await;
    run.assert_code(0);
    assert!(
        run.expect("tls", "PASS").contains("caCert"),
        "{}",
        run.stdout
    );
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

/// Nothing listens at the host: reachable fails and nothing else is tried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_host_fails_the_reachable_check() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"));
    let host = format!("http://127.0.0.1:{port}");
    let run = check(&flags(&host, ADMIN, &[]), Some(ADMIN_PASSWORD), None).await;
    run.assert_code(1);
    let line = run.expect("reachable", "FAIL");
    assert!(line.ends_with("[QuayUnreachable]"), "{line}");
    for step in [
        "tls",
        "flavour",
        "sign-in",
        "application",
        "org-admin",
        "rights",
    ] {
        assert!(
            run.expect(step, "SKIP").contains("reachable failed"),
            "{}",
            run.stdout
        );
    }
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
