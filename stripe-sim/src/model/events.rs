//! Events, webhook endpoints, delivery attempts and the dispatcher's work items.

use serde::Serialize;
use serde_json::Value;

use super::Meta;

#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) created: i64,
    pub(crate) object: Value,
    pub(crate) previous: Option<Value>,
    pub(crate) pending_webhooks: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) id: String,
    pub(crate) url: String,
    pub(crate) secret: String,
    pub(crate) enabled_events: Vec<String>,
    pub(crate) created: i64,
    pub(crate) description: Option<String>,
    pub(crate) metadata: Meta,
    pub(crate) enabled: bool,
}

impl Endpoint {
    pub(crate) fn wants(&self, kind: &str) -> bool {
        self.enabled && self.enabled_events.iter().any(|e| e == "*" || e == kind)
    }
}

/// One webhook delivery attempt, kept for the admin API and tests.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub event_id: String,
    pub event_type: String,
    pub endpoint_id: String,
    pub url: String,
    pub attempt: u32,
    pub status: Option<u16>,
    pub ok: bool,
    pub error: Option<String>,
    /// The failure was injected by a fault switch; nothing was sent.
    pub injected: bool,
    /// Wall-clock time of the attempt, unix milliseconds.
    pub at_ms: u128,
}

/// Work for the webhook dispatcher.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outgoing {
    /// A new event, for every endpoint that wants its type.
    Event(String),
    /// An existing event for one endpoint only (seed catalog replay).
    To { event: String, endpoint: String },
}
