//! When each ApiToken became Ready, seen through a watch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::Api;
use kube::runtime::watcher;
use quay_apitoken_operator::crd::ApiToken;

use crate::process::OperatorProcess;
use crate::world::is_ready_now;

/// When each ApiToken was first seen Ready for its generation, fed by a watch (no polling load
/// on the API server being measured).
pub struct ReadyWatch {
    times: Arc<Mutex<HashMap<String, Instant>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ReadyWatch {
    /// Starts watching `api`.
    pub fn start(api: Api<ApiToken>) -> ReadyWatch {
        let times: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let sink = times.clone();
        let task = tokio::spawn(async move {
            let mut events = Box::pin(watcher::watcher(api, watcher::Config::default()));
            while let Some(event) = events.next().await {
                let token = match event {
                    Ok(watcher::Event::Apply(t) | watcher::Event::InitApply(t)) => t,
                    _ => continue,
                };
                if is_ready_now(&token)
                    && let Some(name) = token.metadata.name
                {
                    let mut times = sink.lock().unwrap_or_else(|p| p.into_inner());
                    times.entry(name).or_insert_with(Instant::now);
                }
            }
        });
        ReadyWatch { times, task }
    }

    /// How many have been Ready.
    pub fn count(&self) -> usize {
        self.times.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// When the last of them became Ready.
    pub fn last(&self) -> Option<Instant> {
        let times = self.times.lock().unwrap_or_else(|p| p.into_inner());
        times.values().max().copied()
    }

    /// Waits until `n` are Ready or `patience` passes; the count reached.
    pub async fn wait(
        &self,
        n: usize,
        patience: Duration,
        operator: &mut OperatorProcess,
    ) -> usize {
        let started = Instant::now();
        loop {
            let ready = self.count();
            if ready >= n || started.elapsed() > patience {
                return ready;
            }
            assert!(
                operator.is_running(),
                "the operator exited; log:\n{}",
                operator.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ReadyWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}
