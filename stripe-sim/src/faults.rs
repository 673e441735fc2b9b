//! Fault injection for tests: duplicate, reorder and delay webhook deliveries, fail the first
//! N attempts, and answer API calls with 500/429 or extra latency. Switches live in memory and
//! are reachable under `/_sim/faults/…` (`admin::faults`) and through `Sim` methods.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::StatusCode;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
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
    /// `Retry-After` (seconds) on injected 429s: clients that honour it wait this long.
    pub api_retry_after: u64,
    /// Added to every API call.
    pub api_latency_ms: u64,
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
