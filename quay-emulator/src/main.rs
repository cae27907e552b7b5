//! `quay-emulator`: serves a test Quay until SIGINT/SIGTERM; prints its URL first on stdout.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use quay_emulator::seed::Seed;
use quay_emulator::{Config, Emulator, Faults};

/// A test Quay for the token endpoints.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "QUAY_EMULATOR_LISTEN", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Serve HTTPS with a certificate from a CA generated at start.
    #[arg(long, env = "QUAY_EMULATOR_TLS")]
    tls: bool,
    /// Write the CA certificate (PEM) to this file.
    #[arg(long, env = "QUAY_EMULATOR_CA_OUT")]
    ca_out: Option<String>,
    /// YAML seed file: users, organizations, applications.
    #[arg(long, env = "QUAY_EMULATOR_SEED")]
    seed: Option<String>,
    /// Play Quay 3.17: no org application token API.
    #[arg(long, env = "QUAY_EMULATOR_NO_TOKEN_API")]
    no_token_api: bool,
    /// Turn FEATURE_ASSIGN_OAUTH_TOKEN off.
    #[arg(long, env = "QUAY_EMULATOR_NO_ASSIGN")]
    no_assign: bool,
    /// Turn FEATURE_USER_INITIALIZE on.
    #[arg(long, env = "QUAY_EMULATOR_USER_INITIALIZE")]
    user_initialize: bool,
    /// OAUTH_APPLICATION_MAXIMUM_TOKEN_COUNT.
    #[arg(long, env = "QUAY_EMULATOR_MAX_TOKENS_PER_APP")]
    max_tokens_per_app: Option<usize>,
    /// Faults as JSON, e.g. '{"rules":[{"endpoint":null,"latency_ms":50,"hang":false}]}'.
    #[arg(long, env = "QUAY_EMULATOR_FAULTS")]
    faults: Option<String>,
    /// Seed of the random source behind probabilistic faults.
    #[arg(long, env = "QUAY_EMULATOR_RNG_SEED", default_value_t = 0)]
    rng_seed: u64,
    /// Start the instance's clock this many seconds ahead of the wall clock; move it further
    /// with `POST /_emulator/clock/advance`.
    #[arg(long, env = "QUAY_EMULATOR_CLOCK_OFFSET_S", default_value_t = 0)]
    clock_offset_s: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Cli {
        listen,
        tls,
        ca_out,
        seed,
        no_token_api,
        no_assign,
        user_initialize,
        max_tokens_per_app,
        faults,
        rng_seed,
        clock_offset_s,
    } = Cli::parse();
    let faults: Faults = match faults {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| format!("--faults is not valid fault JSON: {e}"))?,
        None => Faults::default(),
    };
    let config = Config {
        tls,
        token_api: !no_token_api,
        assign_oauth_token: !no_assign,
        user_initialize,
        max_tokens_per_app,
        faults,
        rng_seed,
        clock_offset: Duration::from_secs(clock_offset_s),
    };
    let emulator = Emulator::start(listen, config).await?;
    println!("{}", emulator.url());
    if let (Some(path), Some(pem)) = (ca_out, emulator.ca_cert_pem()) {
        std::fs::write(&path, pem).map_err(|e| format!("could not write the CA to {path}: {e}"))?;
    }
    if let Some(path) = seed {
        for app in Seed::load(&path)?.apply(&emulator)? {
            println!("app {}/{} client_id={}", app.org, app.name, app.client_id);
        }
    }
    wait_for_signal().await;
    emulator.shutdown().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
