//! The process-wide bound on reconciles at work (`--concurrency`), and how a reconcile gives
//! its slot back while it only waits: one that queues for an account's web-flow mint lock holds
//! no slot meanwhile, so mints for other accounts run in it, and it gets the next free slot
//! before any reconcile that has not started yet. Without that, a burst on one account fills
//! every slot with waiters and the other accounts' mints stop.

use prometheus_client::metrics::gauge::Gauge;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Semaphore;

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
        self.unserved.lock().unwrap_or_else(|p| p.into_inner())
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
    /// `limit` slots (at least one); `waiting` counts the reconciles that gave theirs back.
    pub fn new(limit: u16, waiting: Gauge) -> Slots {
        let limit = limit.max(1);
        Slots {
            inner: Arc::new(Inner {
                limit,
                fresh: Semaphore::new(usize::from(limit)),
                returning: Semaphore::new(0),
                unserved: Mutex::new(0),
                waiting,
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
        let held = Held {
            slots: self.clone(),
            slot: Mutex::new(Some(slot)),
        };
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

/// The slot of the reconcile running in this task, if it runs in one.
struct Held {
    slots: Slots,
    slot: Mutex<Option<Slot>>,
}

tokio::task_local! {
    static HELD: Held;
}

/// Awaits `wait` without holding the current reconcile's slot, and takes a slot again (ahead
/// of reconciles not yet started) before going on. Outside [`Slots::run`] it just awaits.
pub async fn while_waiting<F: Future>(wait: F) -> F::Output {
    let given_back = HELD
        .try_with(|held| {
            let slot = held.slot.lock().unwrap_or_else(|p| p.into_inner()).take();
            slot.map(|slot| (held.slots.clone(), slot))
        })
        .ok()
        .flatten();
    let Some((slots, slot)) = given_back else {
        return wait.await;
    };
    drop(slot);
    let counted = Waiting::count(&slots.inner.waiting);
    let output = wait.await;
    let slot = slots.acquire_returning().await;
    drop(counted);
    let _ = HELD.try_with(|held| {
        *held.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(slot);
    });
    output
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
        let slots = Slots::new(1, waiting.clone());
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
        let slots = Slots::new(1, waiting.clone());
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
        let slots = Slots::new(2, Gauge::default());
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

    #[tokio::test]
    async fn outside_a_slot_it_just_waits() {
        assert_eq!(while_waiting(async { 7 }).await, 7);
    }
}
