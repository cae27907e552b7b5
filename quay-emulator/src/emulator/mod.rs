//! A running emulator: starting and stopping it; the handles that tests use to arrange and
//! inspect its world live in the submodules, one job each.

mod accounts;
mod apps;
mod counters;
mod switches;
mod tokens;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::model::{State, Switches};
use crate::server::{self, Shared, lock};
use crate::{faults, tls};

/// A running emulator; it stops when dropped or on [`Emulator::shutdown`].
pub struct Emulator {
    shared: Arc<Shared>,
    url: String,
    ca_pem: Option<String>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Binds `addr` (port 0 picks a free port) and starts serving.
    pub async fn start(addr: SocketAddr, config: Config) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let tls = if config.tls {
            Some(tls::generate()?)
        } else {
            None
        };
        let scheme = if config.tls { "https" } else { "http" };
        let url = format!("{scheme}://{local}");
        let switches = Switches {
            token_api: config.token_api,
            assign_oauth_token: config.assign_oauth_token,
            user_initialize: config.user_initialize,
            max_tokens_per_app: config.max_tokens_per_app,
            direct_oauth_whitelist: Vec::new(),
        };
        let mut state = State::new(url.clone(), switches);
        state.clock.advance(config.clock_offset);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            faults: Mutex::new(faults::FaultEngine::new(config.faults, config.rng_seed)),
            counts: Mutex::new(BTreeMap::new()),
            secure: config.tls,
        });
        let (stop, stopped) = watch::channel(false);
        let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
        let acceptor = tls.map(|t| t.acceptor);
        let task = tokio::spawn(server::serve(listener, acceptor, shared.clone(), stopped));
        Ok(Emulator {
            shared,
            url,
            ca_pem,
            stop,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The PEM of the CA that signed the server certificate, when serving HTTPS.
    pub fn ca_cert_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }

    /// Stops serving and waits for the listener to close.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
