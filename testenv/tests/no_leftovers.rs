//! A control plane never outlives the process that started it, however that process ends.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Processes whose command line mentions `marker` (the control plane's own folder).
fn processes_mentioning(marker: &str) -> Vec<String> {
    quay_testenv::procs::processes_where(|cmdline, _| cmdline.contains(marker))
}

fn start_and_end_with(signal: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quay-testenv"))
        .arg("up")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut dir = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(d) = line.strip_prefix("dir ") {
            dir = Some(d.to_string());
        }
        // `url` is the last line it prints: reading up to it leaves no write to a closed pipe.
        if line.starts_with("url ") {
            break;
        }
    }
    let dir = dir.expect("quay-testenv did not report its folder");
    let running = processes_mentioning(&dir);
    assert!(
        running.iter().any(|p| p.contains("etcd"))
            && running.iter().any(|p| p.contains("kube-apiserver")),
        "etcd and kube-apiserver should be running: {running:?}"
    );
    assert!(
        Command::new("kill")
            .arg(signal)
            .arg(child.id().to_string())
            .status()
            .unwrap()
            .success()
    );
    child.wait().unwrap();
    let started = Instant::now();
    loop {
        let left = processes_mentioning(&dir);
        if left.is_empty() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "left behind after {signal}: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A graceful stop (Ctrl-C, SIGTERM) stops etcd and kube-apiserver.
#[test]
fn sigterm_leaves_no_process_behind() {
    start_and_end_with("-TERM");
}

/// Even a killed test process (SIGKILL, no destructors) leaves no etcd or kube-apiserver behind.
#[test]
fn sigkill_leaves_no_process_behind() {
    start_and_end_with("-KILL");
}
