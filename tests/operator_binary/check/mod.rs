//! `quay-apitoken-operator check`, the binary as a user runs it: against the Quay emulator,
//! with the settings from a Secret in the cluster or from flags with the password on stdin.
//! Each failure the preflight exists for gets its own FAIL line, its reason and exit code 1;
//! no run signs out, and no run prints the password.

mod account;
mod from_secret;
mod network;
mod sign_in;

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
