//! What the client asks of its caller around its waits and requests. The caller (the
//! operator's concurrency slots) decides what a wait or a host costs; the client knows
//! nothing of slots.

use futures::future::BoxFuture;

/// How the caller spends the client's waits and paces its requests.
pub trait Pace: Send + Sync {
    /// Awaits `wait`, a queue behind another caller (an account's mint lock): the caller
    /// may lend what it holds to others meanwhile.
    fn while_waiting<'a>(&'a self, wait: BoxFuture<'a, ()>) -> BoxFuture<'a, ()>;

    /// Returns once the caller may send a request to `host` (a Quay root URL).
    fn before_request<'a>(&'a self, host: &'a str) -> BoxFuture<'a, ()>;
}

/// No pacing: waits are awaited as they are, requests go at once.
pub struct Unpaced;

impl Pace for Unpaced {
    fn while_waiting<'a>(&'a self, wait: BoxFuture<'a, ()>) -> BoxFuture<'a, ()> {
        wait
    }

    fn before_request<'a>(&'a self, _host: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(std::future::ready(()))
    }
}
