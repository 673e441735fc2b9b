//! Fault injection for tests: duplicate, reorder and delay webhook deliveries, fail the first
//! N attempts, and answer API calls with 500/429 or extra latency. Switches live in memory and
//! are reachable under `/_sim/faults/…` (`admin::faults`) and through `Sim` methods.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::StatusCode;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Faults {
    /// The next N events are delivered twice (to every endpoint).
    pub duplicate_next: usize,
    /// The next N events are held back and then delivered in reverse order.
    pub shuffle_next: usize,
    /// How many events the current shuffle batch holds (for flushing).
    pub shuffle_batch: usize,
    /// Added before every delivery attempt.
    pub delivery_delay_ms: u64,
    /// Fail the next N delivery attempts to any endpoint (as if it answered 500).
    pub fail_deliveries: usize,
    /// Same, per endpoint id.
    pub fail_deliveries_for: HashMap<String, usize>,
    /// Answer the next N API calls with `api_error_status`.
    pub api_errors: usize,
    pub api_error_status: u16,
    /// Added to every API call.
    pub api_latency_ms: u64,
}

impl Faults {
    /// For the API middleware: the latency to add, and a status to answer with instead.
    pub(crate) fn take_api_fault(&mut self) -> (Duration, Option<StatusCode>) {
        let latency = Duration::from_millis(self.api_latency_ms);
        if self.api_errors == 0 {
            return (latency, None);
        }
        self.api_errors -= 1;
        let status = StatusCode::from_u16(self.api_error_status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (latency, Some(status))
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
