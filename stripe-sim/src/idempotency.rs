//! The `Idempotency-Key` cache behind the `/v1` middleware (`http::idempotency`). The first
//! request with a key claims it; its response is stored and replayed for the same request,
//! while a different request under the same key is refused, as Stripe does.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::StatusCode;

/// A stored idempotent result, or a marker that the first request is still running.
#[derive(Debug, Clone)]
enum Entry {
    InFlight {
        fingerprint: String,
    },
    Done {
        fingerprint: String,
        status: StatusCode,
        body: Bytes,
    },
}

/// What the middleware does with a request that carries a key.
#[derive(Debug)]
pub(crate) enum Claim {
    /// First use of the key: run the request, then [`IdemStore::settle`] it.
    Fresh,
    /// Same key, same request, already answered: send the stored response again.
    Replay { status: StatusCode, body: Bytes },
    /// Same key, same request, still running (409).
    InFlight,
    /// Same key, different request (400).
    Mismatch,
}

/// Keys seen so far, with their request fingerprints (`METHOD path\nbody`).
#[derive(Debug, Default)]
pub(crate) struct IdemStore {
    entries: HashMap<String, Entry>,
}

impl IdemStore {
    /// Looks `key` up; an unknown key is marked in flight for `fingerprint`.
    pub(crate) fn claim(&mut self, key: &str, fingerprint: &str) -> Claim {
        match self.entries.get(key) {
            None => {
                self.entries.insert(
                    key.to_owned(),
                    Entry::InFlight {
                        fingerprint: fingerprint.to_owned(),
                    },
                );
                Claim::Fresh
            }
            Some(Entry::Done {
                fingerprint: f,
                status,
                body,
            }) if f == fingerprint => Claim::Replay {
                status: *status,
                body: body.clone(),
            },
            Some(Entry::InFlight { fingerprint: f }) if f == fingerprint => Claim::InFlight,
            Some(_) => Claim::Mismatch,
        }
    }

    /// Stores the answer to a fresh request. Only successes and card errors (402) are kept;
    /// after anything else (validation errors, faults) the key can be used again.
    pub(crate) fn settle(
        &mut self,
        key: String,
        fingerprint: String,
        status: StatusCode,
        body: Bytes,
    ) {
        if status.is_success() || status == StatusCode::PAYMENT_REQUIRED {
            self.entries.insert(
                key,
                Entry::Done {
                    fingerprint,
                    status,
                    body,
                },
            );
        } else {
            self.entries.remove(&key);
        }
    }
}
