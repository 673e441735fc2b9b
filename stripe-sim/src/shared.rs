//! State shared by the HTTP handlers, the webhook dispatcher and the delivery tasks: the store,
//! the fault switches and the idempotency cache (each behind its own lock), and the outbox
//! hand-off to the dispatcher.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::watch;

use crate::faults::Faults;
use crate::idempotency::IdemStore;
use crate::model::Outgoing;
use crate::store::Store;

/// Messages for the webhook dispatcher (`webhooks::dispatcher`).
#[derive(Debug)]
pub(crate) enum Msg {
    Out(Outgoing),
    /// Release events held by the shuffle fault.
    Flush,
}

/// How webhook deliveries are attempted (the delivery part of `SimConfig`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeliveryPolicy {
    /// Attempts per event and endpoint, the first included.
    pub(crate) max_attempts: u32,
    /// Wait before the first retry; doubles on each further retry.
    pub(crate) retry_base: Duration,
    /// Per-attempt timeout.
    pub(crate) timeout: Duration,
}

pub(crate) struct Shared {
    store: Mutex<Store>,
    faults: Mutex<Faults>,
    idem: Mutex<IdemStore>,
    tx: UnboundedSender<Msg>,
    /// Events and deliveries not finished yet (queued, in flight, or waiting to retry).
    pending: AtomicUsize,
    /// `/v1` requests received, for tests that assert the app made no Stripe call.
    api_requests: AtomicUsize,
    pub(crate) delivery: DeliveryPolicy,
    /// The client webhook deliveries go out with.
    pub(crate) http: reqwest::Client,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn new(
        store: Store,
        delivery: DeliveryPolicy,
        http: reqwest::Client,
        tx: UnboundedSender<Msg>,
    ) -> Self {
        let (shutdown, _) = watch::channel(false);
        Self {
            store: Mutex::new(store),
            faults: Mutex::new(Faults::default()),
            idem: Mutex::new(IdemStore::default()),
            tx,
            pending: AtomicUsize::new(0),
            api_requests: AtomicUsize::new(0),
            delivery,
            http,
            shutdown,
        }
    }

    /// Runs `change` on the store, then hands the events it created to the dispatcher (after
    /// the lock is released, so domain code stays synchronous and lock-safe).
    pub(crate) fn with<T>(&self, change: impl FnOnce(&mut Store) -> T) -> T {
        let (out, outbox) = {
            let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
            let out = change(&mut store);
            (out, std::mem::take(&mut store.outbox))
        };
        for outgoing in outbox {
            self.add_pending();
            if self.tx.send(Msg::Out(outgoing)).is_err() {
                self.finish_pending();
            }
        }
        out
    }

    pub(crate) fn read<T>(&self, look: impl FnOnce(&Store) -> T) -> T {
        look(&self.store.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn count_api_request(&self) {
        self.api_requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn api_requests(&self) -> usize {
        self.api_requests.load(Ordering::Relaxed)
    }

    pub(crate) fn faults_mut<T>(&self, change: impl FnOnce(&mut Faults) -> T) -> T {
        change(&mut self.faults.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn idem<T>(&self, change: impl FnOnce(&mut IdemStore) -> T) -> T {
        change(&mut self.idem.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn reset_faults(&self) {
        self.faults_mut(Faults::reset);
        let _ = self.tx.send(Msg::Flush);
    }

    pub(crate) fn flush_shuffled(&self) {
        self.faults_mut(|f| f.shuffle_next = 0);
        let _ = self.tx.send(Msg::Flush);
    }

    /// Events and deliveries still queued, in flight or waiting for a retry.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    pub(crate) fn add_pending(&self) {
        self.pending.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn finish_pending(&self) {
        self.pending.fetch_sub(1, Ordering::SeqCst);
    }

    /// Tells the server and every delivery task to stop.
    pub(crate) fn shut_down(&self) {
        let _ = self.shutdown.send(true);
    }

    /// Resolves once [`Shared::shut_down`] has been called.
    pub(crate) fn shutdown_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stop = self.shutdown.subscribe();
        async move {
            let _ = stop.wait_for(|s| *s).await;
        }
    }

    /// Sleeps unless the sim shuts down first; returns false on shutdown.
    pub(crate) async fn sleep(&self, duration: Duration) -> bool {
        let mut stop = self.shutdown.subscribe();
        if *stop.borrow() {
            return false;
        }
        tokio::select! {
            () = tokio::time::sleep(duration) => true,
            _ = stop.changed() => false,
        }
    }
}
