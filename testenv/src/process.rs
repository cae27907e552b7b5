//! Child processes that cannot outlive the process that started them.
//!
//! Each server runs under a small shell guard that polls the parent's pid and stops the server
//! when the parent is gone, so a test binary that is killed (or simply exits, since statics are
//! never dropped) leaves no etcd or kube-apiserver behind.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const GUARD: &str = r#"
parent="$1"; shift
"$@" &
child=$!
stop() { kill -TERM "$child" 2>/dev/null; for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$child" 2>/dev/null || exit 0; sleep 0.3; done; kill -KILL "$child" 2>/dev/null; exit 0; }
trap stop TERM INT HUP
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.3 & wait $!; done
stop
"#;

/// A server started under the guard; stopping it (or dropping it) stops the server.
pub struct Guarded {
    name: String,
    child: Child,
}

impl Guarded {
    /// Starts `program args…` with its output in `log`, tied to this process's life.
    pub fn spawn(
        name: &str,
        program: &Path,
        args: &[String],
        log: &Path,
    ) -> std::io::Result<Guarded> {
        let out = File::create(log)?;
        let err = out.try_clone()?;
        let child = Command::new("bash")
            .arg("-c")
            .arg(GUARD)
            .arg("quay-testenv-guard")
            .arg(std::process::id().to_string())
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()?;
        Ok(Guarded {
            name: name.to_string(),
            child,
        })
    }

    /// Whether the server is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The server's name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Stops the server and waits for the guard to finish.
    pub fn stop(&mut self) {
        if self.is_running() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.child.id().to_string())
                .status();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.stop();
    }
}
