//! The loop against an in-memory Lease, on tokio's paused clock: time moves only when every
//! task waits, so the timing windows below hold however slow or busy the machine is.

#![allow(clippy::expect_used)] // a test failing loudly on a broken fixture is the point

use std::sync::atomic::Ordering;

use super::*;
use crate::leader::test_support::{ME, MemoryLeases, lease, settings};

struct Candidate {
    leading: watch::Receiver<bool>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), LeaderError>>,
}

fn start(store: &MemoryLeases, settings: LeaseSettings) -> Candidate {
    let (elector, leading) = LeaderElector::with_store(store.clone(), settings);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(elector.run(async {
        let _ = stopped.await;
    }));
    Candidate {
        leading,
        stop,
        task,
    }
}

async fn wait_leading(candidate: &mut Candidate, within: Duration) {
    tokio::time::timeout(within, candidate.leading.wait_for(|leading| *leading))
        .await
        .expect("became leader in time")
        .expect("elector alive");
}

/// Two replicas started together: exactly one leads, and keeps leading while it renews.
#[tokio::test(start_paused = true)]
async fn only_one_of_two_candidates_leads() {
    let store = MemoryLeases::default();
    let mut a = start(&store, settings("pod-a", 1_000, 600, 100));
    let mut b = start(&store, settings("pod-b", 1_000, 600, 100));
    tokio::select! {
        () = wait_leading(&mut a, Duration::from_secs(3)) => {}
        () = wait_leading(&mut b, Duration::from_secs(3)) => {}
    }
    let first = store.holder().expect("a holder");
    // Several lease durations: the leader renews, the standby never takes over.
    for _ in 0..25 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !(*a.leading.borrow() && *b.leading.borrow()),
            "two leaders at once"
        );
        assert_eq!(store.holder().as_deref(), Some(first.as_str()));
    }
    assert_eq!(store.spec().lease_transitions, Some(1));
}

/// A graceful shutdown hands over at once instead of after the lease duration.
#[tokio::test(start_paused = true)]
async fn graceful_shutdown_releases_to_the_standby() {
    let store = MemoryLeases::default();
    let mut a = start(&store, settings("pod-a", 5_000, 3_000, 100));
    wait_leading(&mut a, Duration::from_secs(2)).await;
    let mut b = start(&store, settings("pod-b", 5_000, 3_000, 100));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!*b.leading.borrow());

    let handed_over = Instant::now();
    a.stop.send(()).expect("a running");
    a.task.await.expect("no panic").expect("clean shutdown");
    assert!(!*a.leading.borrow(), "a stopped leading");
    // Well under the 5 s lease duration: the standby saw the holder cleared.
    wait_leading(&mut b, Duration::from_secs(2)).await;
    assert!(handed_over.elapsed() < Duration::from_secs(2));
    assert_eq!(store.holder().as_deref(), Some("pod-b"));
    assert_eq!(store.spec().lease_transitions, Some(2));
}

/// A crashed leader (no release) is replaced only once its lease has run out.
#[tokio::test(start_paused = true)]
async fn crashed_leader_is_replaced_after_the_lease_duration() {
    let store = MemoryLeases::default();
    let mut a = start(&store, settings("pod-a", 1_000, 600, 100));
    wait_leading(&mut a, Duration::from_secs(2)).await;
    a.task.abort();
    let crashed = Instant::now();
    let mut b = start(&store, settings("pod-b", 1_000, 600, 100));
    wait_leading(&mut b, Duration::from_secs(4)).await;
    let waited = crashed.elapsed();
    assert!(
        waited >= Duration::from_secs(1),
        "took over after only {waited:?}"
    );
    assert_eq!(store.holder().as_deref(), Some("pod-b"));
}

/// A leader cut off from the API server stops before anyone else may start.
#[tokio::test(start_paused = true)]
async fn leader_gives_up_when_renewal_fails_for_the_renew_deadline() {
    let store = MemoryLeases::default();
    let mut a = start(&store, settings("pod-a", 1_000, 600, 100));
    wait_leading(&mut a, Duration::from_secs(2)).await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    store.down.store(true, Ordering::SeqCst);
    let outage = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(3), a.task)
        .await
        .expect("gave up in time")
        .expect("no panic");
    let after = outage.elapsed();
    assert!(
        matches!(result, Err(LeaderError::Lost { .. })),
        "{result:?}"
    );
    assert!(!*a.leading.borrow(), "lost leadership is published");
    // The deadline counts from the last successful renewal (at most one retry period before
    // the outage), and must end before the 1 s lease would let a standby in.
    assert!(
        after >= Duration::from_millis(450) && after < Duration::from_millis(1_000),
        "{after:?}"
    );
}

/// Seeing another holder while leading (e.g. after a long pause) means stop at once.
#[tokio::test(start_paused = true)]
async fn leader_stops_when_another_holder_appears() {
    let store = MemoryLeases::default();
    let mut a = start(&store, settings("pod-a", 5_000, 3_000, 100));
    wait_leading(&mut a, Duration::from_secs(2)).await;
    let mut stolen = store.lease.lock().expect("lock").clone().expect("lease");
    if let Some(spec) = stolen.spec.as_mut() {
        spec.holder_identity = Some("pod-b".to_owned());
    }
    store.stored(stolen);
    let result = tokio::time::timeout(Duration::from_secs(1), a.task)
        .await
        .expect("stopped promptly")
        .expect("no panic");
    assert!(
        matches!(result, Err(LeaderError::Lost { .. })),
        "{result:?}"
    );
    assert!(!*a.leading.borrow());
}

/// Releasing a Lease someone else holds must not touch it.
#[tokio::test]
async fn release_leaves_other_holders_alone() {
    let store = MemoryLeases::default();
    store.stored(lease(Some("pod-b"), Some(15), Some(2)));
    let (elector, _leading) =
        LeaderElector::with_store(store.clone(), settings(ME, 15_000, 10_000, 2_000));
    elector.release().await.expect("nothing to release");
    assert_eq!(store.holder().as_deref(), Some("pod-b"));
    assert_eq!(store.version.load(Ordering::SeqCst), 1, "no write happened");
}
