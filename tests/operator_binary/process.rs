//! The real operator binary as a child process: started with a kubeconfig and flags, scraped
//! over its admin port, and always killed — by `Drop`, or by a watchdog if this test binary dies.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{try_wait_for, wait_for};

/// Kills the operator when the test binary is gone (killed, or exited without dropping), and
/// ends by itself once the operator has exited.
const WATCHDOG: &str = r#"
while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 0.5; done
kill -KILL "$2" 2>/dev/null
exit 0
"#;

/// A running operator process with its admin server on a known port.
pub struct OperatorProcess {
    name: String,
    child: Child,
    /// The container's name when the operator runs from its image.
    container: Option<String>,
    watchdog: Option<Child>,
    log: PathBuf,
    base: String,
    _dir: tempfile::TempDir,
}

/// A port that was free a moment ago; the operator binds it right after.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// The binary under test: `QAO_OPERATOR_BIN` if set, else the one Cargo built for this test.
pub fn binary() -> PathBuf {
    std::env::var_os("QAO_OPERATOR_BIN")
        .filter(|b| !b.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_quay-apitoken-operator")))
}

/// podman as hack/podman.sh runs it on this kind of machine (runc, cgroupfs, file events).
pub fn podman() -> Command {
    let mut command = Command::new("podman");
    command.args([
        "--runtime",
        "runc",
        "--cgroup-manager",
        "cgroupfs",
        "--events-backend",
        "file",
    ]);
    command
}

/// podman's `--ulimit` flags for a container here: podman's defaults are above what runc may set
/// in this kind of sandbox (open files past the process's hard limit, processes past 32768).
pub fn ulimits() -> Vec<String> {
    let hard_files = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
            line.split_whitespace().nth(4)?.parse::<u64>().ok()
        })
        .unwrap_or(1024)
        .min(65536);
    vec![
        "--ulimit".to_owned(),
        format!("nofile={hard_files}:{hard_files}"),
        "--ulimit".to_owned(),
        "nproc=32768:32768".to_owned(),
    ]
}

/// The operator's log filter: `QAO_OPERATOR_LOG` (RUST_LOG syntax) when set, else `info`.
fn log_level() -> String {
    std::env::var("QAO_OPERATOR_LOG")
        .ok()
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "info".to_owned())
}

impl OperatorProcess {
    /// Starts `quay-apitoken-operator run <args>` with only `KUBECONFIG` in its environment,
    /// so that no variable of the test's shell (WATCH_NAMESPACES, POD_NAME…) changes its flags.
    pub fn start(name: &str, kubeconfig: &Path, args: &[&str]) -> OperatorProcess {
        let mut command = Command::new(binary());
        command.env_clear().env("KUBECONFIG", kubeconfig);
        OperatorProcess::spawn(name, command, None, args)
    }

    /// Starts `run <args>` in a container of `image` as a restricted pod would run it: uid
    /// 65532, a read-only root file system, every capability dropped, no privilege escalation;
    /// the host's network, so that it reaches the harness's API server and Quay on loopback.
    pub fn start_image(
        name: &str,
        image: &str,
        kubeconfig: &Path,
        args: &[&str],
    ) -> OperatorProcess {
        let container = format!("qao-{name}-{}-{}", std::process::id(), free_port());
        let mount = format!("{}:/etc/qao/kubeconfig:ro", kubeconfig.display());
        let mut command = podman();
        command
            .args(["run", "--rm", "--name", &container, "--network", "host"])
            .args(["--read-only", "--cap-drop", "ALL", "--user", "65532:65532"])
            .args(["--security-opt", "no-new-privileges"])
            .args(ulimits())
            .args(["-v", &mount, "-e", "KUBECONFIG=/etc/qao/kubeconfig", image]);
        OperatorProcess::spawn(name, command, Some(container), args)
    }

    /// Adds `run`, the admin address and the log level to `command`, then launches it.
    fn spawn(
        name: &str,
        mut command: Command,
        container: Option<String>,
        args: &[&str],
    ) -> OperatorProcess {
        let addr = format!("127.0.0.1:{}", free_port());
        command
            .arg("run")
            .args(["--metrics-addr", &addr, "--log-level", &log_level()])
            .args(args);
        OperatorProcess::launch(name, command, container, format!("http://{addr}"))
    }

    /// Starts the binary with exactly `args` (the subcommand first) and `env`, as a pod runs
    /// it: nothing added but `KUBECONFIG`. `args` must hold `--metrics-addr=<host:port>`.
    pub fn start_as_pod(
        name: &str,
        kubeconfig: &Path,
        args: &[String],
        env: &[(String, String)],
    ) -> OperatorProcess {
        let addr = args
            .iter()
            .find_map(|a| a.strip_prefix("--metrics-addr="))
            .unwrap_or_else(|| panic!("no --metrics-addr=… in {args:?}"));
        let base = format!("http://{addr}");
        let mut command = Command::new(binary());
        command
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("KUBECONFIG", kubeconfig)
            .args(args);
        OperatorProcess::launch(name, command, None, base)
    }

    /// Starts `command` with its output in a log file and a watchdog that kills it when this
    /// test binary is gone; `base` is where its admin server answers.
    fn launch(
        name: &str,
        mut command: Command,
        container: Option<String>,
        base: String,
    ) -> OperatorProcess {
        let dir = tempfile::Builder::new()
            .prefix("qao-operator-")
            .tempdir()
            .unwrap_or_else(|e| panic!("tempdir: {e}"));
        let log = dir.path().join(format!("{name}.log"));
        let out = File::create(&log).unwrap_or_else(|e| panic!("log file: {e}"));
        let err = out.try_clone().unwrap_or_else(|e| panic!("log file: {e}"));
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the operator: {e}"));
        let watchdog = Command::new("bash")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("qao-operator-watchdog")
            .arg(std::process::id().to_string())
            .arg(child.id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        OperatorProcess {
            name: name.to_owned(),
            child,
            container,
            watchdog,
            log,
            base,
            _dir: dir,
        }
    }

    /// The operator's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// GETs an admin endpoint: (status, body), or None while nothing answers.
    pub async fn get(&self, path: &str) -> Option<(u16, String)> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .ok()?;
        let response = client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.ok()?))
    }

    /// Waits until the admin server answers (the process has started and parsed its flags).
    pub async fn wait_serving(&mut self) {
        let limit = Duration::from_secs(30);
        let served = try_wait_for(limit, || async { self.get("/healthz").await }).await;
        if served.is_none() {
            let running = self.is_running();
            panic!(
                "{}: the admin server never answered (running: {running}); log:\n{}",
                self.name,
                self.log_text()
            );
        }
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&self) {
        wait_for(Duration::from_secs(30), "operator /readyz 200", || async {
            self.get("/readyz")
                .await
                .filter(|(status, _)| *status == 200)
                .map(|_| ())
        })
        .await;
    }

    /// The current `/metrics` text.
    pub async fn metrics(&self) -> String {
        match self.get("/metrics").await {
            Some((200, body)) => body,
            other => panic!("{}: /metrics answered {other:?}", self.name),
        }
    }

    /// The value of one exact series (name plus labels), if exported.
    pub async fn sample(&self, series: &str) -> Option<f64> {
        sample(&self.metrics().await, series)
    }

    /// Reconciles this process has finished, all results together.
    pub async fn reconciles(&self) -> f64 {
        sum(&self.metrics().await, "quay_apitoken_reconciles_total")
    }

    /// Whether the process reports itself as the leader; None when the admin port is gone.
    pub async fn is_leader(&self) -> Option<bool> {
        let (status, body) = self.get("/metrics").await?;
        (status == 200).then(|| sample(&body, "quay_apitoken_leader") == Some(1.0))
    }

    /// Kills the process with SIGKILL (a crash: no Lease release, no cleanup) and reaps it.
    pub fn kill(&mut self) {
        if let Some(container) = &self.container {
            // Killing the podman client would leave the container running under conmon.
            let _ = podman()
                .args(["rm", "--force", "--time", "0", container])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Resident memory of the process in KiB (`VmRSS` of /proc/<pid>/status).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .unwrap_or_else(|e| panic!("cannot read the operator's /proc status: {e}"));
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmRSS in /proc/{}/status", self.pid()))
    }

    /// Everything the process logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        self.kill();
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        if std::thread::panicking() {
            let text = self.log_text();
            let tail: Vec<&str> = text.lines().rev().take(200).collect();
            eprintln!("--- last log lines of {} ---", self.name);
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// The name of a sample line: everything before the labels or the value.
fn series_name(line: &str) -> &str {
    let end = line.find(['{', ' ']).unwrap_or(line.len());
    &line[..end]
}

/// The value of the sample whose name-and-labels part equals `series` exactly.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (key, value) = l.rsplit_once(' ')?;
        (key == series).then(|| value.parse().ok())?
    })
}

/// The sum of every sample of `metric`, whatever its labels.
pub fn sum(text: &str, metric: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#') && series_name(l) == metric)
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

#[test]
fn samples_are_read_by_exact_series() {
    let text = "# TYPE x counter\nx_total{result=\"ok\"} 2\nx_total{result=\"Quay\"} 3\nx_total_other 9\ny 1\n";
    assert_eq!(sample(text, "x_total{result=\"ok\"}"), Some(2.0));
    assert_eq!(sample(text, "y"), Some(1.0));
    assert_eq!(sample(text, "x_total"), None);
    assert_eq!(sum(text, "x_total"), 5.0);
}
