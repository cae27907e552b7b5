//! When each ApiToken became Ready, seen through a watch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::Api;
use kube::runtime::watcher;
use quay_apitoken_operator::crd::ApiToken;

use crate::plan::{PATIENCE, Result};

/// When each ApiToken was first seen Ready for its current generation, fed by a watch.
pub type ReadyTimes = Arc<Mutex<HashMap<String, Instant>>>;

/// Records when each ApiToken is first Ready for its generation; a watch, so the bench adds no
/// polling load to the API server it measures.
pub fn watch_ready(api: Api<ApiToken>) -> ReadyTimes {
    let times: ReadyTimes = Arc::default();
    let sink = times.clone();
    tokio::spawn(async move {
        let mut events = Box::pin(watcher::watcher(api, watcher::Config::default()));
        while let Some(event) = events.next().await {
            let token = match event {
                Ok(watcher::Event::Apply(t) | watcher::Event::InitApply(t)) => t,
                _ => continue,
            };
            let status = token.status.as_ref();
            let is_ready = status.is_some_and(|s| {
                s.observed_generation == token.metadata.generation
                    && s.conditions
                        .iter()
                        .any(|c| c.type_ == "Ready" && c.status == "True")
            });
            if is_ready && let Some(name) = token.metadata.name {
                let mut times = sink.lock().unwrap_or_else(|p| p.into_inner());
                times.entry(name).or_insert_with(Instant::now);
            }
        }
    });
    times
}

/// Time from `since` until `name` was seen Ready.
pub async fn wait_ready(ready: &ReadyTimes, name: &str, since: Instant) -> Result<Duration> {
    loop {
        let seen = ready
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .copied();
        if let Some(at) = seen {
            return Ok(at.saturating_duration_since(since));
        }
        if since.elapsed() > PATIENCE {
            return Err(format!("{name} was not Ready after {PATIENCE:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
