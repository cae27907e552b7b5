//! `quay-testenv up`: starts a local control plane, writes its kubeconfig, and runs until
//! SIGINT/SIGTERM (or, with `--exit-after-ready`, until it has printed where it is).

use std::path::PathBuf;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut kubeconfig_out: Option<PathBuf> = None;
    let mut options = quay_testenv::Options::default();
    let mut exit_after_ready = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "up" => {}
            "--kubeconfig-out" => kubeconfig_out = it.next().map(PathBuf::from),
            "--controller-manager" => options.controller_manager = true,
            "--exit-after-ready" => exit_after_ready = true,
            other => {
                eprintln!(
                    "unknown argument {other}; usage: quay-testenv up [--kubeconfig-out FILE] [--controller-manager] [--exit-after-ready]"
                );
                std::process::exit(2);
            }
        }
    }
    let plane = match quay_testenv::ControlPlane::start(options).await {
        Ok(plane) => plane,
        Err(e) => {
            eprintln!("quay-testenv: {e}");
            std::process::exit(1);
        }
    };
    if let Some(out) = &kubeconfig_out
        && let Err(e) = std::fs::copy(plane.kubeconfig_path(), out)
    {
        eprintln!("quay-testenv: cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
    println!(
        "kubeconfig {}",
        kubeconfig_out
            .as_deref()
            .unwrap_or(plane.kubeconfig_path())
            .display()
    );
    println!("dir {}", plane.dir().display());
    println!("url {}", plane.url());
    if exit_after_ready {
        return;
    }
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            eprintln!("quay-testenv: cannot listen for SIGTERM: {e}");
            std::process::exit(1);
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    drop(plane);
}
