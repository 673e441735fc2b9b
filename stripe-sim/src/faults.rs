//! Fault injection for tests: duplicate, reorder and delay webhook deliveries, fail the first
//! N attempts, answer API calls with 500/429 or extra latency, and hold API calls at a gate
//! until the test releases them. Switches live in memory and are reachable under
//! `/_sim/faults/…` (`admin::faults`) and through `Sim::faults()` (the gate only there).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use serde::{Serialize, Serializer};
use tokio::sync::watch;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub(crate) struct Faults {
    /// The next N events are delivered twice (to every endpoint).
    pub(crate) duplicate_next: usize,
    /// The next N events are held back and then delivered in reverse order.
    pub(crate) shuffle_next: usize,
    /// How many events the current shuffle batch holds (for flushing).
    pub(crate) shuffle_batch: usize,
    /// Added before every delivery attempt.
    pub(crate) delivery_delay_ms: u64,
    /// Fail the next N delivery attempts to any endpoint (as if it answered 500).
    pub(crate) fail_deliveries: usize,
    /// Same, per endpoint id.
    pub(crate) fail_deliveries_for: HashMap<String, usize>,
    /// Answer the next N API calls with `api_error_status`.
    pub(crate) api_errors: usize,
    pub(crate) api_error_status: u16,
    /// `Retry-After` (seconds) on injected 429s: clients that honour it wait this long.
    pub(crate) api_retry_after: u64,
    /// Added to every API call.
    pub(crate) api_latency_ms: u64,
    /// Gates holding the next API calls (shown as `{"to_hold", "held"}`).
    pub(crate) api_gates: ApiGates,
}

/// The `Retry-After` of an injected 429 unless set otherwise: long enough to be a real
/// back-off, short enough that tests with clients honouring it stay fast.
pub(crate) const DEFAULT_RETRY_AFTER: u64 = 1;

impl Default for Faults {
    fn default() -> Self {
        Self {
            duplicate_next: 0,
            shuffle_next: 0,
            shuffle_batch: 0,
            delivery_delay_ms: 0,
            fail_deliveries: 0,
            fail_deliveries_for: HashMap::new(),
            api_errors: 0,
            api_error_status: 0,
            api_retry_after: DEFAULT_RETRY_AFTER,
            api_latency_ms: 0,
            api_gates: ApiGates::default(),
        }
    }
}

/// An API call answered by the fault switch instead of the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ApiFault {
    pub(crate) status: StatusCode,
    /// Seconds, for the `Retry-After` header of a 429.
    pub(crate) retry_after: u64,
}

impl Faults {
    /// Clears every switch; calls held at a gate go on.
    pub(crate) fn reset(&mut self) {
        self.api_gates.release_all();
        *self = Self::default();
    }

    /// Whether no switch is set (released gates do not count; full ones still hold calls).
    pub(crate) fn is_clear(&mut self) -> bool {
        self.api_gates.forget_released();
        *self == Self::default()
    }

    /// For the API middleware: the gate that holds this call, if one still waits for calls.
    pub(crate) fn take_api_gate(&mut self) -> Option<Arc<GateState>> {
        self.api_gates.forget_released();
        self.api_gates.0.iter().find(|g| g.catch()).cloned()
    }

    /// For the API middleware: the latency to add, and an error to answer with instead.
    pub(crate) fn take_api_fault(&mut self) -> (Duration, Option<ApiFault>) {
        let latency = Duration::from_millis(self.api_latency_ms);
        if self.api_errors == 0 {
            return (latency, None);
        }
        self.api_errors -= 1;
        let status = StatusCode::from_u16(self.api_error_status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let fault = ApiFault {
            status,
            retry_after: self.api_retry_after,
        };
        (latency, Some(fault))
    }

    /// Whether the next delivery attempt to `endpoint` must fail.
    pub(crate) fn take_delivery_failure(&mut self, endpoint: &str) -> bool {
        if let Some(n) = self.fail_deliveries_for.get_mut(endpoint)
            && *n > 0
        {
            *n -= 1;
            return true;
        }
        if self.fail_deliveries > 0 {
            self.fail_deliveries -= 1;
            return true;
        }
        false
    }

    /// For the dispatcher: (deliver twice, hold for reordering).
    pub(crate) fn take_event_faults(&mut self) -> (bool, bool) {
        let dup = self.duplicate_next > 0;
        if dup {
            self.duplicate_next -= 1;
        }
        let hold = self.shuffle_next > 0;
        if hold {
            self.shuffle_next -= 1;
        }
        (dup, hold)
    }
}

/// What a gate has done: calls it still waits for, calls it holds, and whether it let go.
#[derive(Debug, Clone, Copy, Default)]
struct GateCounts {
    to_hold: usize,
    held: usize,
    released: bool,
}

/// The state an [`ApiGate`] shares with the API middleware; a watch channel, so that the test
/// can wait for a call to arrive and the held calls can wait for the release.
#[derive(Debug)]
pub(crate) struct GateState {
    counts: watch::Sender<GateCounts>,
}

impl GateState {
    /// Takes one more call, unless the gate is full or released.
    fn catch(&self) -> bool {
        self.counts.send_if_modified(|c| {
            let open = !c.released && c.to_hold > 0;
            if open {
                c.to_hold -= 1;
                c.held += 1;
            }
            open
        })
    }

    fn is_released(&self) -> bool {
        self.counts.borrow().released
    }

    fn release(&self) {
        self.counts.send_modify(|c| {
            c.released = true;
            c.to_hold = 0;
        });
    }

    /// Resolves once the gate is released.
    pub(crate) async fn released(&self) {
        let mut counts = self.counts.subscribe();
        // The sender lives as long as `self`, so this only returns once released.
        let _ = counts.wait_for(|c| c.released).await;
    }
}

/// The gates in [`Faults`], oldest first: a call is held by the oldest gate still waiting.
#[derive(Debug, Default)]
pub(crate) struct ApiGates(Vec<Arc<GateState>>);

impl ApiGates {
    pub(crate) fn add(&mut self, calls: usize) -> ApiGate {
        let counts = GateCounts {
            to_hold: calls,
            ..GateCounts::default()
        };
        let state = Arc::new(GateState {
            counts: watch::Sender::new(counts),
        });
        self.0.push(state.clone());
        ApiGate { state }
    }

    /// Drops released gates (the calls they held have gone on).
    fn forget_released(&mut self) {
        self.0.retain(|g| !g.is_released());
    }

    fn release_all(&mut self) {
        for gate in self.0.drain(..) {
            gate.release();
        }
    }
}

impl PartialEq for ApiGates {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| Arc::ptr_eq(a, b))
    }
}

impl Eq for ApiGates {}

impl Serialize for ApiGates {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Totals {
            to_hold: usize,
            held: usize,
        }
        let counts: Vec<GateCounts> = self.0.iter().map(|g| *g.counts.borrow()).collect();
        Totals {
            to_hold: counts.iter().map(|c| c.to_hold).sum(),
            held: counts.iter().map(|c| c.held).sum(),
        }
        .serialize(serializer)
    }
}

/// Holds the next `/v1` API calls (as many as it was made for) before anything else answers
/// them, until [`ApiGate::release`], so a test can order "the app is inside its Stripe call"
/// against something else without sleeping. Dropping the gate releases it too.
#[must_use = "dropping the gate releases it at once"]
#[derive(Debug)]
pub struct ApiGate {
    state: Arc<GateState>,
}

impl ApiGate {
    /// Resolves once every call the gate was made for is held (at once after a release).
    /// Wrap it in a timeout: it waits as long as no call comes.
    pub async fn wait_until_held(&self) {
        let mut counts = self.state.counts.subscribe();
        let _ = counts.wait_for(|c| c.to_hold == 0).await;
    }

    /// How many calls the gate has held so far (released calls included).
    pub fn held(&self) -> usize {
        self.state.counts.borrow().held
    }

    /// Lets the held calls go on and holds no more.
    pub fn release(&self) {
        self.state.release();
    }
}

impl Drop for ApiGate {
    fn drop(&mut self) {
        self.state.release();
    }
}
