//! `Sim::faults()`: the fault switches of a running sim, set through a handle so that there is
//! no copy of them to change by mistake (the same switches as `/_sim/faults/…`).

use std::time::Duration;

use serde_json::Value;

use crate::faults::ApiGate;
use crate::shared::Shared;

/// The fault switches of one sim. Every call changes the running sim at once.
pub struct FaultSwitches<'a> {
    pub(crate) shared: &'a Shared,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl FaultSwitches<'_> {
    /// Delivers the next `n` events twice (to every endpoint).
    pub fn duplicate_next_events(&self, n: usize) {
        self.shared.faults_mut(|f| f.duplicate_next = n);
    }

    /// Holds the next `n` events and then delivers them in reverse order.
    pub fn shuffle_next_events(&self, n: usize) {
        self.shared.faults_mut(|f| {
            f.shuffle_next = n;
            f.shuffle_batch = n;
        });
    }

    /// Releases events held by [`FaultSwitches::shuffle_next_events`] before the batch is full.
    pub fn release_shuffled(&self) {
        self.shared.flush_shuffled();
    }

    /// Waits `d` before every delivery attempt.
    pub fn delay_deliveries(&self, d: Duration) {
        self.shared.faults_mut(|f| f.delivery_delay_ms = millis(d));
    }

    /// Fails the next `n` delivery attempts (to `endpoint`, or to any endpoint) with a 500.
    pub fn fail_next_deliveries(&self, n: usize, endpoint: Option<&str>) {
        self.shared.faults_mut(|f| match endpoint {
            Some(e) => {
                f.fail_deliveries_for.insert(e.to_owned(), n);
            }
            None => f.fail_deliveries = n,
        });
    }

    /// Answers the next `n` API calls with `status` (500, 502–504 or 429).
    pub fn fail_next_api_calls(&self, n: usize, status: u16) {
        self.shared.faults_mut(|f| {
            f.api_errors = n;
            f.api_error_status = status;
        });
    }

    /// `Retry-After` (seconds) sent with injected 429s; 1 until changed.
    pub fn set_api_retry_after(&self, secs: u64) {
        self.shared.faults_mut(|f| f.api_retry_after = secs);
    }

    /// Adds `d` to every API call.
    pub fn set_api_latency(&self, d: Duration) {
        self.shared.faults_mut(|f| f.api_latency_ms = millis(d));
    }

    /// Holds the next `/v1` API call until the returned gate is released (or dropped).
    pub fn hold_next_api_call(&self) -> ApiGate {
        self.hold_next_api_calls(1)
    }

    /// Holds the next `n` `/v1` API calls until the returned gate is released (or dropped).
    /// Held calls then meet the other switches (latency, injected errors) as usual. With
    /// several gates, a call is held by the oldest one that still waits for calls.
    pub fn hold_next_api_calls(&self, n: usize) -> ApiGate {
        self.shared.faults_mut(|f| f.api_gates.add(n))
    }

    /// Clears every switch, releases shuffled events and calls held at a gate.
    pub fn reset(&self) {
        self.shared.reset_faults();
    }

    /// Whether no switch is set (as after [`FaultSwitches::reset`]).
    pub fn is_clear(&self) -> bool {
        self.shared.faults_mut(|f| f.is_clear())
    }

    /// The switches as `GET /_sim/faults` shows them (a copy: changing it changes nothing).
    pub fn snapshot(&self) -> Value {
        self.shared
            .faults_mut(|f| serde_json::to_value(&*f))
            .unwrap_or_default()
    }
}
