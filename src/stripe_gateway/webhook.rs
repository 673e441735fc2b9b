//! Webhook signature verification (Stripe's scheme, through async-stripe).

use super::convert::event_subject;
use super::{StripeGateway, VerifiedEvent, WebhookRejection};
use crate::domain::EventId;
use stripe_webhook::{Webhook, WebhookError};

impl StripeGateway {
    /// Verifies the signature against every configured secret (rotation) and names the event's subject.
    pub fn verify_event(
        &self,
        payload: &str,
        signature: Option<&str>,
    ) -> Result<VerifiedEvent, WebhookRejection> {
        let signature = signature.ok_or(WebhookRejection::MissingSignature)?;
        if self.webhook_secrets.is_empty() {
            return Err(WebhookRejection::NoSecret);
        }
        let mut last_error = WebhookRejection::BadSignature;
        for secret in &self.webhook_secrets {
            match Webhook::construct_event(payload, signature, secret) {
                Ok(event) => {
                    return Ok(VerifiedEvent {
                        id: EventId::from(event.id.as_str()),
                        event_type: event.type_.as_str().to_owned(),
                        created: event.created,
                        livemode: event.livemode,
                        subject: event_subject(&event.data.object),
                    });
                }
                Err(WebhookError::BadSignature | WebhookError::BadTimestamp(_)) => {}
                Err(other) => last_error = WebhookRejection::BadPayload(other.to_string()),
            }
        }
        Err(last_error)
    }
}
