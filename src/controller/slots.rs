//! The process-wide bound on reconciles at work (`--concurrency`), and how a reconcile gives
//! its slot back while it only waits: one that queues for an account's web-flow mint lock holds
//! no slot meanwhile, so mints for other accounts run in it, and it gets the next free slot
//! before any reconcile that has not started yet. Without that, a burst on one account fills
//! every slot with waiters and the other accounts' mints stop.
//!
//! Two more fences keep one Quay host from stalling the rest: the reconciles talking to one
//! host hold at most its share of the slots (one that must wait for it waits without a slot),
//! and a reconcile is stopped once it has worked its deadline in a slot ([`bounded`]).

use futures::future::BoxFuture;
use prometheus_client::metrics::gauge::Gauge;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The slots one Quay host's reconciles may hold: half, at least one. A host that stops
/// answering then holds half the slots at most, for at most the reconcile deadline each, and
/// the other half serves every other host; half still lets one busy host use most of the
/// process, since the other hosts rarely fill theirs.
pub fn host_share(limit: u16) -> usize {
    usize::from(limit / 2).max(1)
}

/// Slots shared by every controller of the process.
#[derive(Clone)]
pub struct Slots {
    inner: Arc<Inner>,
}

struct Inner {
    limit: u16,
    /// Free slots for reconciles that start.
    fresh: Semaphore,
    /// Slots handed over to reconciles coming back from a wait.
    returning: Semaphore,
    /// Returning reconciles that no slot has been handed to yet.
    unserved: Mutex<usize>,
    /// Reconciles between giving their slot back and getting one again.
    waiting: Gauge,
    /// Slots one Quay host's reconciles may hold at once.
    share: usize,
    /// Each Quay host at work, and its share.
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Reconciles waiting, without a slot, for their host's share.
    waiting_for_host: Gauge,
}

/// One slot; given back when dropped.
pub struct Slot {
    inner: Arc<Inner>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.inner.release();
    }
}

impl Inner {
    fn unserved(&self) -> MutexGuard<'_, usize> {
        locked(&self.unserved)
    }

    /// A returning reconcile first, else the next that starts.
    fn release(&self) {
        let mut unserved = self.unserved();
        if *unserved > 0 {
            *unserved -= 1;
            self.returning.add_permits(1);
        } else {
            self.fresh.add_permits(1);
        }
    }
}

impl Slots {
    /// `limit` slots (at least one); `waiting` counts the reconciles that gave theirs back to
    /// wait for a lock, `waiting_for_host` those waiting for their Quay host's share.
    pub fn new(limit: u16, waiting: Gauge, waiting_for_host: Gauge) -> Slots {
        let limit = limit.max(1);
        Slots {
            inner: Arc::new(Inner {
                limit,
                fresh: Semaphore::new(usize::from(limit)),
                returning: Semaphore::new(0),
                unserved: Mutex::new(0),
                waiting,
                share: host_share(limit),
                hosts: Mutex::new(HashMap::new()),
                waiting_for_host,
            }),
        }
    }

    /// How many reconciles may work at once.
    pub fn limit(&self) -> u16 {
        self.inner.limit
    }

    /// Slots free right now.
    #[cfg(test)]
    fn free(&self) -> usize {
        self.inner.fresh.available_permits()
    }

    /// Waits for a slot, in the order reconciles asked.
    pub async fn acquire(&self) -> Slot {
        // Never closed, so the error arm cannot happen; a slot is still owed then.
        if let Ok(permit) = self.inner.fresh.acquire().await {
            permit.forget();
        }
        Slot {
            inner: self.inner.clone(),
        }
    }

    /// Waits for a slot ahead of every reconcile that has not started.
    async fn acquire_returning(&self) -> Slot {
        {
            let mut unserved = self.inner.unserved();
            if let Ok(permit) = self.inner.fresh.try_acquire() {
                permit.forget();
                return Slot {
                    inner: self.inner.clone(),
                };
            }
            *unserved += 1;
        }
        let mut waiting = Returning {
            inner: self.inner.clone(),
            served: false,
        };
        if let Ok(permit) = self.inner.returning.acquire().await {
            permit.forget();
        }
        waiting.served = true;
        Slot {
            inner: self.inner.clone(),
        }
    }

    /// Runs the work `start` makes in a slot, which [`while_waiting`] inside it may give back
    /// for a while. The work is made only once the slot is there: a reconcile's future is
    /// large, and a thousand queued ones must not each hold one.
    pub async fn run<F: Future>(&self, start: impl FnOnce() -> F) -> F::Output {
        let slot = self.acquire().await;
        let held = Arc::new(Held {
            slots: self.clone(),
            slot: Mutex::new(Some(slot)),
            share: Mutex::new(None),
            lent: Mutex::new(Lent::default()),
        });
        Box::pin(HELD.scope(held, start())).await
    }
}

/// A returning reconcile that stopped waiting (its reconcile was dropped) before it got its
/// slot: the slot handed to it, or its place in line, must not be lost.
struct Returning {
    inner: Arc<Inner>,
    served: bool,
}

impl Drop for Returning {
    fn drop(&mut self) {
        if self.served {
            return;
        }
        let mut unserved = self.inner.unserved();
        if *unserved > 0 {
            *unserved -= 1;
            return;
        }
        // A slot was handed over for this waiter: pass it on.
        if let Ok(permit) = self.inner.returning.try_acquire() {
            permit.forget();
            drop(unserved);
            self.inner.release();
        }
    }
}

/// One reconcile counted as waiting, until it has a slot again or is dropped.
struct Waiting<'a>(&'a Gauge);

impl<'a> Waiting<'a> {
    fn count(gauge: &'a Gauge) -> Self {
        gauge.inc();
        Waiting(gauge)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The slot of the reconcile running in this task, if it runs in one, and what it holds.
struct Held {
    slots: Slots,
    slot: Mutex<Option<Slot>>,
    /// The share of the Quay host this reconcile talks to.
    share: Mutex<Option<HostShare>>,
    /// Time the slot was given back, so that waiting does not count against the deadline.
    lent: Mutex<Lent>,
}

/// How long a reconcile has been without its slot.
#[derive(Default)]
struct Lent {
    total: Duration,
    since: Option<Instant>,
}

impl Lent {
    fn now(&self) -> Duration {
        let running = self.since.map_or(Duration::ZERO, |since| since.elapsed());
        self.total.saturating_add(running)
    }
}

tokio::task_local! {
    static HELD: Arc<Held>;
}

/// What the reconcile of this task holds, if it runs in [`Slots::run`].
fn held() -> Option<Arc<Held>> {
    HELD.try_with(Arc::clone).ok()
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Held {
    /// Gives the slot back; returns it, to be dropped once the caller is ready.
    fn lend(&self) -> Option<Slot> {
        let slot = locked(&self.slot).take();
        if slot.is_some() {
            locked(&self.lent).since = Some(Instant::now());
        }
        slot
    }

    /// Takes a slot again, ahead of reconciles not yet started.
    async fn take_back(&self) {
        let slot = self.slots.acquire_returning().await;
        *locked(&self.slot) = Some(slot);
        let mut lent = locked(&self.lent);
        if let Some(since) = lent.since.take() {
            lent.total = lent.total.saturating_add(since.elapsed());
        }
    }

    /// The host whose share this reconcile holds.
    fn host(&self) -> Option<String> {
        locked(&self.share).as_ref().map(|share| share.host.clone())
    }

    /// Waits, without the slot, for a share of `host`; the slot comes back after.
    async fn wait_for_share(&self, host: &str) {
        let slot = self.lend();
        drop(slot);
        let counted = Waiting::count(&self.slots.inner.waiting_for_host);
        let share = self.slots.inner.share_of(host).await;
        drop(counted);
        *locked(&self.share) = Some(share);
        self.take_back().await;
    }
}

/// Awaits `wait` without holding the current reconcile's slot or its host's share, and takes
/// them again (the slot ahead of reconciles not yet started) before going on. Outside
/// [`Slots::run`] it just awaits.
pub async fn while_waiting<F: Future>(wait: F) -> F::Output {
    let Some(held) = held() else {
        return wait.await;
    };
    let host = held.host();
    let share = locked(&held.share).take();
    let Some(slot) = held.lend() else {
        *locked(&held.share) = share;
        return wait.await;
    };
    drop((slot, share));
    let counted = Waiting::count(&held.slots.inner.waiting);
    let output = wait.await;
    drop(counted);
    match host {
        Some(host) => held.wait_for_share(&host).await,
        None => held.take_back().await,
    }
    output
}

/// Before this reconcile talks to `host`: takes a share of that host's slots, waiting for one
/// without the reconcile's slot when the host's share is all in use. A reconcile holds one
/// host's share at a time, so two reconciles never wait for each other's host. Outside
/// [`Slots::run`] it returns at once.
pub async fn enter_host(host: &str) {
    let Some(held) = held() else {
        return;
    };
    let current = locked(&held.share).take();
    if current.as_ref().is_some_and(|share| share.host == host) {
        *locked(&held.share) = current;
        return;
    }
    // Another host's share goes first: holding it while waiting could deadlock.
    drop(current);
    let share = held.slots.inner.try_share_of(host);
    match share {
        Some(share) => *locked(&held.share) = Some(share),
        None => held.wait_for_share(host).await,
    }
}

/// The Quay client's pacing by the slots of the reconcile in its task: a queue for a lock is
/// waited [`while_waiting`], and a request goes once [`enter_host`] has the host's share.
pub struct SlotPace;

impl crate::quay::Pace for SlotPace {
    fn while_waiting<'a>(&'a self, wait: BoxFuture<'a, ()>) -> BoxFuture<'a, ()> {
        Box::pin(while_waiting(wait))
    }

    fn before_request<'a>(&'a self, host: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(enter_host(host))
    }
}

/// A reconcile stopped at its deadline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the reconcile was stopped after working {} s, its deadline, {}; it will be tried again \
     later (a slow or unanswering Quay, or a connection Secret `timeout` close to the deadline)",
    .limit.as_secs(),
    match .host { Some(host) => format!("while talking to Quay at {host}"), None => "before it talked to Quay".to_owned() }
)]
pub struct Overran {
    /// The Quay host the reconcile was talking to, if any.
    pub host: Option<String>,
    /// The deadline.
    pub limit: Duration,
}

/// Runs `work` for at most `limit` of time in its slot (time given back while waiting does not
/// count), then drops it. Dropping is safe where a crash is: a mint records its intent before
/// Quay is asked. Outside [`Slots::run`] the limit counts all time.
pub async fn bounded<F: Future>(limit: Duration, work: F) -> Result<F::Output, Overran> {
    let held = held();
    let lent = || {
        held.as_ref()
            .map(|h| locked(&h.lent).now())
            .unwrap_or_default()
    };
    let (started, lent_before) = (Instant::now(), lent());
    let mut work = std::pin::pin!(work);
    loop {
        let idle = lent().saturating_sub(lent_before);
        let used = started.elapsed().saturating_sub(idle);
        if used >= limit {
            return Err(Overran {
                host: held.as_ref().and_then(|h| h.host()),
                limit,
            });
        }
        // While the slot is lent `used` stands still: look again once `limit - used` passed.
        tokio::select! {
            output = &mut work => return Ok(output),
            () = tokio::time::sleep(limit - used) => {}
        }
    }
}

/// One reconcile's share of a Quay host; given back when dropped.
struct HostShare {
    host: String,
    /// `None` only if the host's semaphore were closed, which never happens.
    permit: Option<OwnedSemaphorePermit>,
    inner: Arc<Inner>,
}

impl Drop for HostShare {
    fn drop(&mut self) {
        // The permit first: it keeps the semaphore in use.
        drop(self.permit.take());
        self.inner.forget_idle(&self.host);
    }
}

/// A reconcile in line for a host's share.
struct Queued {
    inner: Arc<Inner>,
    host: String,
    semaphore: Option<Arc<Semaphore>>,
}

impl Drop for Queued {
    fn drop(&mut self) {
        drop(self.semaphore.take());
        self.inner.forget_idle(&self.host);
    }
}

impl Inner {
    fn hosts(&self) -> MutexGuard<'_, HashMap<String, Arc<Semaphore>>> {
        locked(&self.hosts)
    }

    /// The semaphore of `host`, made on first use.
    fn host_semaphore(&self, host: &str) -> Arc<Semaphore> {
        self.hosts()
            .entry(host.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.share)))
            .clone()
    }

    fn try_share_of(self: &Arc<Self>, host: &str) -> Option<HostShare> {
        let permit = self.host_semaphore(host).try_acquire_owned().ok()?;
        Some(HostShare {
            host: host.to_owned(),
            permit: Some(permit),
            inner: self.clone(),
        })
    }

    async fn share_of(self: &Arc<Self>, host: &str) -> HostShare {
        // Forgets the host if this waiter was its last, even when the wait is dropped.
        let queued = Queued {
            inner: self.clone(),
            host: host.to_owned(),
            semaphore: Some(self.host_semaphore(host)),
        };
        let semaphore = queued.semaphore.clone();
        let permit = match semaphore {
            Some(semaphore) => semaphore.acquire_owned().await.ok(),
            None => None,
        };
        HostShare {
            host: host.to_owned(),
            permit,
            inner: self.clone(),
        }
    }

    /// Drops the semaphore of a host nobody holds or waits for, so that the map does not
    /// grow with every host ever named.
    fn forget_idle(&self, host: &str) {
        let mut hosts = self.hosts();
        let idle = hosts.get(host).is_some_and(|semaphore| {
            Arc::strong_count(semaphore) == 1 && semaphore.available_permits() == self.share
        });
        if idle {
            hosts.remove(host);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;
    use tokio::sync::oneshot;

    /// One slot, and a reconcile that took it and gave it back to wait until `open` is sent.
    async fn one_waiting() -> (
        Slots,
        Gauge,
        oneshot::Sender<()>,
        tokio::task::JoinHandle<Result<(), oneshot::error::RecvError>>,
    ) {
        let waiting = Gauge::default();
        let slots = Slots::new(1, waiting.clone(), Gauge::default());
        let (open, opened) = oneshot::channel::<()>();
        let waiter = tokio::spawn({
            let slots = slots.clone();
            async move { slots.run(|| while_waiting(opened)).await }
        });
        while waiting.get() == 0 {
            tokio::task::yield_now().await;
        }
        (slots, waiting, open, waiter)
    }

    #[tokio::test]
    async fn a_waiter_gives_its_slot_to_the_next_reconcile() {
        let (slots, waiting, open, waiter) = one_waiting().await;
        assert_eq!(slots.free(), 1);
        let second = tokio::time::timeout(Duration::from_secs(5), slots.run(|| async { 2 }))
            .await
            .expect("the second reconcile ran while the first one waited");
        assert_eq!(second, 2);
        assert_eq!(waiting.get(), 1, "the waiter is counted while it waits");
        open.send(()).expect("waiter alive");
        waiter.await.expect("waiter").expect("opened");
        assert_eq!(slots.free(), 1);
        assert_eq!(waiting.get(), 0);
    }

    #[tokio::test]
    async fn a_returning_reconcile_goes_before_new_ones() {
        let waiting = Gauge::default();
        let slots = Slots::new(1, waiting.clone(), Gauge::default());
        let (open, opened) = oneshot::channel::<()>();
        let (order_tx, mut order) = tokio::sync::mpsc::unbounded_channel();
        let first = tokio::spawn({
            let (slots, order_tx) = (slots.clone(), order_tx.clone());
            async move {
                slots
                    .run(|| async move {
                        let _ = while_waiting(opened).await;
                        order_tx.send("returned").ok();
                    })
                    .await
            }
        });
        while waiting.get() == 0 {
            tokio::task::yield_now().await;
        }
        // A reconcile takes the slot the waiter gave back, and holds it.
        let holder = slots.acquire().await;
        open.send(()).expect("waiter alive");
        // A new reconcile queues behind the returning one.
        let late = tokio::spawn({
            let slots = slots.clone();
            async move {
                slots
                    .run(|| async move {
                        order_tx.send("new").ok();
                    })
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(holder);
        first.await.expect("first");
        late.await.expect("late");
        assert_eq!(order.recv().await, Some("returned"));
        assert_eq!(order.recv().await, Some("new"));
        assert_eq!(slots.free(), 1);
    }

    #[tokio::test]
    async fn never_more_at_work_than_the_limit() {
        let slots = Slots::new(2, Gauge::default(), Gauge::default());
        let at_work = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (slots, at_work, most, lock) =
                (slots.clone(), at_work.clone(), most.clone(), lock.clone());
            tasks.push(tokio::spawn(async move {
                slots
                    .run(|| async move {
                        let enter = || {
                            let now = at_work.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                        };
                        enter();
                        at_work.fetch_sub(1, Ordering::SeqCst);
                        let _guard = while_waiting(lock.lock()).await;
                        enter();
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        at_work.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
            }));
        }
        for task in tasks {
            task.await.expect("task");
        }
        assert!(most.load(Ordering::SeqCst) <= 2);
        assert_eq!(slots.free(), 2);
    }

    #[tokio::test]
    async fn a_dropped_returning_waiter_loses_no_slot() {
        let (slots, waiting, open, waiter) = one_waiting().await;
        let holder = slots.acquire().await;
        open.send(()).expect("waiter alive");
        tokio::time::sleep(Duration::from_millis(20)).await;
        // The waiter is now queued for a returning slot; its reconcile is dropped.
        waiter.abort();
        let _ = waiter.await;
        assert_eq!(waiting.get(), 0, "a dropped waiter is no longer counted");
        drop(holder);
        let again = tokio::time::timeout(Duration::from_secs(5), slots.acquire())
            .await
            .expect("the slot came back");
        drop(again);
        assert_eq!(slots.free(), 1);
    }

    /// Four slots: a host's share is two. Two reconciles of a hanging host hold it; a third
    /// waits for it without a slot; another host still has two slots.
    #[tokio::test]
    async fn one_host_holds_at_most_its_share() {
        let host_waiting = Gauge::default();
        let slots = Slots::new(4, Gauge::default(), host_waiting.clone());
        let (_hang, hung) = tokio::sync::watch::channel(());
        let mut stuck = Vec::new();
        for _ in 0..3 {
            let (slots, mut hung) = (slots.clone(), hung.clone());
            stuck.push(tokio::spawn(async move {
                slots
                    .run(|| async move {
                        enter_host("http://dead").await;
                        let _ = hung.changed().await;
                    })
                    .await
            }));
        }
        while host_waiting.get() < 1 {
            tokio::task::yield_now().await;
        }
        assert_eq!(slots.free(), 2, "the waiter gave its slot back");
        let others = async {
            let one = slots.run(|| async { enter_host("http://alive").await });
            let two = slots.run(|| async { enter_host("http://alive").await });
            futures::future::join(one, two).await
        };
        tokio::time::timeout(Duration::from_secs(5), others)
            .await
            .expect("another host's reconciles ran beside the dead host's");
        for task in &stuck {
            task.abort();
        }
        for task in stuck {
            let _ = task.await;
        }
        assert_eq!(host_waiting.get(), 0);
        assert_eq!(slots.free(), 4);
        assert!(slots.inner.hosts().is_empty(), "idle hosts are forgotten");
    }

    /// A reconcile waiting for a lock gives its host's share back too, and takes it again after.
    #[tokio::test]
    async fn a_lock_waiter_gives_its_share_back() {
        let slots = Slots::new(2, Gauge::default(), Gauge::default());
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        let held = lock.clone().lock_owned().await;
        let waiter = tokio::spawn({
            let (slots, lock) = (slots.clone(), lock.clone());
            async move {
                slots
                    .run(|| async move {
                        enter_host("http://q").await;
                        let _guard = while_waiting(lock.lock()).await;
                        HELD.try_with(|h| h.host()).ok().flatten()
                    })
                    .await
            }
        });
        while slots.inner.waiting.get() == 0 {
            tokio::task::yield_now().await;
        }
        // The share is one slot: free again while the first waits for the lock.
        let other = slots.run(|| async { enter_host("http://q").await });
        tokio::time::timeout(Duration::from_secs(5), other)
            .await
            .expect("the host's share was free");
        drop(held);
        let host = waiter.await.expect("waiter");
        assert_eq!(host.as_deref(), Some("http://q"), "the share came back");
        assert_eq!(slots.free(), 2);
    }

    /// The deadline stops work that holds its slot too long, naming the host, and does not
    /// count time spent waiting without the slot.
    #[tokio::test]
    async fn the_deadline_counts_only_time_in_the_slot() {
        let slots = Slots::new(1, Gauge::default(), Gauge::default());
        let limit = Duration::from_millis(200);
        let overran = slots
            .run(|| async move {
                enter_host("http://slow").await;
                bounded(limit, std::future::pending::<()>()).await
            })
            .await
            .expect_err("stopped");
        assert_eq!(overran.host.as_deref(), Some("http://slow"));
        assert!(overran.to_string().contains("http://slow"), "{overran}");
        let waited = slots
            .run(|| async move {
                let wait = while_waiting(tokio::time::sleep(limit * 2));
                bounded(limit, wait).await
            })
            .await;
        assert_eq!(waited, Ok(()), "waiting without the slot is not work");
        assert_eq!(slots.free(), 1);
    }

    #[tokio::test]
    async fn outside_a_slot_it_just_waits() {
        assert_eq!(while_waiting(async { 7 }).await, 7);
    }
}
