//! Coalescing of work per key (webhook storms, docs/RELIABILITY.md). While a round of work for a key
//! runs, new requests for that key join the next round instead of starting their own; every request
//! is answered with the result of a round that started after it arrived, so nothing is answered from
//! stale work.
//!
//! Rounds run in a spawned task: a caller that goes away (a closed connection) cannot strand the
//! requests queued behind it. A round that panics answers its requests with None and the queue goes
//! on (security review 2, L10: it stayed "running" for ever, and every later caller for that key
//! waited for its request timeout).

use futures_util::FutureExt;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::watch;

pub struct Coalescer<T, R> {
    queues: Mutex<HashMap<String, Arc<Queue<T, R>>>>,
}

struct Queue<T, R> {
    state: Mutex<State<T>>,
    /// The newest finished round: the last ticket it covered, and its result (None: it panicked).
    finished: watch::Sender<Option<(u64, Option<Arc<R>>)>>,
}

struct State<T> {
    /// Tickets handed out so far; a round covers every ticket up to the count when it starts.
    requested: u64,
    running: bool,
    /// What the requests of the next round brought along (their webhook events).
    pending: Vec<T>,
}

impl<T, R> Default for Coalescer<T, R> {
    fn default() -> Self {
        Self {
            queues: Mutex::default(),
        }
    }
}

fn lock<V>(mutex: &Mutex<V>) -> MutexGuard<'_, V> {
    // The guarded data stays consistent at every await-free step, so a poisoned lock is still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T, R> Coalescer<T, R>
where
    T: Send + 'static,
    R: Send + Sync + 'static,
{
    /// Queues `item` for `key` and returns the result of the first round that starts after this call.
    /// `round` does the work for a batch of items; it is called for the first request of a burst
    /// and then once more for everything that arrived while it ran. None only if the round panicked,
    /// which leaves the result unknown.
    pub async fn run<F, Fut>(
        self: &Arc<Self>,
        key: &str,
        item: Option<T>,
        round: F,
    ) -> Option<Arc<R>>
    where
        F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send,
    {
        let queue = Member::join(self, key);
        let (ticket, start) = {
            let mut state = lock(&queue.queue.state);
            state.pending.extend(item);
            state.requested += 1;
            let start = !state.running;
            state.running = true;
            (state.requested, start)
        };
        let mut finished = queue.queue.finished.subscribe();
        if start {
            let driver = Member::join(self, key);
            tokio::spawn(async move { driver.drive(round).await });
        }
        let done = finished
            .wait_for(|round| {
                round
                    .as_ref()
                    .is_some_and(|(covered, _)| *covered >= ticket)
            })
            .await
            .ok()?;
        done.as_ref().and_then(|(_, result)| result.clone())
    }

    /// How many keys have a queue (for tests: the map empties itself).
    #[cfg(test)]
    fn keys(&self) -> usize {
        lock(&self.queues).len()
    }

    /// Tickets handed out for `key` so far (for tests).
    #[cfg(test)]
    fn requested(&self, key: &str) -> u64 {
        lock(&self.queues)
            .get(key)
            .map_or(0, |queue| lock(&queue.state).requested)
    }
}

/// A handle on one key's queue; the last handle to go removes the queue from the map.
struct Member<T, R> {
    owner: Arc<Coalescer<T, R>>,
    key: String,
    queue: Arc<Queue<T, R>>,
}

impl<T, R> Member<T, R> {
    fn join(owner: &Arc<Coalescer<T, R>>, key: &str) -> Self {
        let queue = lock(&owner.queues)
            .entry(key.to_owned())
            .or_insert_with(|| {
                Arc::new(Queue {
                    state: Mutex::new(State {
                        requested: 0,
                        running: false,
                        pending: Vec::new(),
                    }),
                    finished: watch::Sender::new(None),
                })
            })
            .clone();
        Self {
            owner: owner.clone(),
            key: key.to_owned(),
            queue,
        }
    }

    async fn drive<F, Fut>(self, round: F)
    where
        F: Fn(Vec<T>) -> Fut,
        Fut: Future<Output = R>,
    {
        loop {
            let (covers, batch) = {
                let mut state = lock(&self.queue.state);
                (state.requested, std::mem::take(&mut state.pending))
            };
            let result = match AssertUnwindSafe(round(batch)).catch_unwind().await {
                Ok(result) => Some(Arc::new(result)),
                Err(_) => {
                    tracing::error!(key = %self.key, "a coalesced round panicked; its requests get no result");
                    None
                }
            };
            let mut state = lock(&self.queue.state);
            self.queue.finished.send_replace(Some((covers, result)));
            if state.requested == covers {
                state.running = false;
                return;
            }
        }
    }
}

impl<T, R> Drop for Member<T, R> {
    fn drop(&mut self) {
        let mut queues = lock(&self.owner.queues);
        // Two references left: the map's and ours. Joining takes the map lock, which we hold.
        if Arc::strong_count(&self.queue) == 2 {
            queues.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// A burst of requests for one key costs two rounds: the first, and one for everything that
    /// arrived while it ran; each request sees a round that started after it arrived.
    #[tokio::test]
    async fn a_burst_costs_two_rounds_and_every_request_sees_a_later_round() {
        let coalescer: Arc<Coalescer<usize, (usize, Vec<usize>)>> = Arc::default();
        let rounds = Arc::new(AtomicUsize::new(0));
        // The first round waits until the whole burst has queued behind it.
        let first_round_may_finish = Arc::new(tokio::sync::Notify::new());
        let mut calls = Vec::new();
        for n in 0..20 {
            let (coalescer, counter) = (coalescer.clone(), rounds.clone());
            let gate = first_round_may_finish.clone();
            calls.push(tokio::spawn(async move {
                let result = coalescer
                    .run("cus_1", Some(n), move |batch| {
                        let (counter, gate) = (counter.clone(), gate.clone());
                        async move {
                            let round = counter.fetch_add(1, Ordering::SeqCst) + 1;
                            if round == 1 {
                                gate.notified().await;
                            }
                            (round, batch)
                        }
                    })
                    .await;
                (n, result)
            }));
            if n == 0 {
                // The first call's round is under way before the others arrive.
                while rounds.load(Ordering::SeqCst) == 0 {
                    tokio::task::yield_now().await;
                }
            }
        }
        while coalescer.requested("cus_1") < 20 {
            tokio::task::yield_now().await;
        }
        first_round_may_finish.notify_one();
        let mut seen = Vec::new();
        for call in calls {
            let (n, result) = call.await.expect("task");
            let (round, batch) = &*result.expect("a result");
            // The first call may see round 2 already (a later round is as good); the rest must.
            assert!(n == 0 || *round == 2, "{n} was answered by round {round}");
            if *round == 2 {
                assert!(batch.contains(&n) || n == 0, "{n} not in round 2's batch");
            }
            seen.extend(batch.iter().copied());
        }
        assert_eq!(
            rounds.load(Ordering::SeqCst),
            2,
            "one round plus one follow-up"
        );
        for n in 1..20 {
            assert!(seen.contains(&n), "{n} was in no round");
        }
        assert_eq!(coalescer.keys(), 0, "the map empties itself");
    }

    /// Each key's round waits until both are running at once: serial rounds would never finish (the
    /// timeout only turns that hang into a failure).
    #[tokio::test]
    async fn different_keys_run_in_parallel() {
        let coalescer: Arc<Coalescer<(), usize>> = Arc::default();
        let both_running = Arc::new(tokio::sync::Barrier::new(2));
        let round = move |_| {
            let both_running = both_running.clone();
            async move {
                both_running.wait().await;
                1
            }
        };
        let (a, b) = tokio::time::timeout(Duration::from_secs(30), async {
            tokio::join!(
                coalescer.run("cus_a", None, round.clone()),
                coalescer.run("cus_b", None, round.clone())
            )
        })
        .await
        .expect("both rounds ran at the same time");
        assert_eq!((a.as_deref(), b.as_deref()), (Some(&1), Some(&1)));
    }

    /// Security review 2, L10: a panicking round left its queue "running" for ever, so its callers and
    /// every later one for that key waited until their request timed out.
    #[tokio::test]
    async fn l10_a_panicking_round_answers_none_and_the_key_recovers() {
        let coalescer: Arc<Coalescer<(), usize>> = Arc::default();
        let answers = tokio::time::timeout(Duration::from_secs(30), async {
            let failed = coalescer
                .run("cus_1", None, |_| async { panic!("a bug in the round") })
                .await;
            let next = coalescer.run("cus_1", None, |_| async { 7 }).await;
            (failed, next)
        })
        .await
        .expect("no caller waits for ever");
        assert_eq!(answers.0, None, "the panicked round has no result");
        assert_eq!(answers.1.as_deref(), Some(&7), "the key works again");
        assert_eq!(coalescer.keys(), 0, "and its queue is gone");
    }
}
