//! Webhook signature verification, written against Stripe's documented scheme rather than the SDK's
//! parser (security review L2): the SDK checked only the last `v1` value, so deliveries during a
//! secret roll were refused, and it refused signed events whose object it could not type.
//!
//! Scheme: `Stripe-Signature: t=<unix>,v1=<hex hmac>,v1=…`; the HMAC-SHA256 of `"{t}.{payload}"`
//! under the endpoint secret must equal one `v1`, and `t` must be within the tolerance of now.

use super::{
    EventSubject, ORDER_METADATA_KEY, PaymentObject, PaymentSubject, StripeGateway, VerifiedEvent,
    WebhookRejection,
};
use crate::domain::{CustomerId, EventId, PriceId, ProductId};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// Stripe's own libraries' default: a delivery older (or newer) than this is refused as a replay.
const TOLERANCE_SECS: u64 = 300;

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
        verify_signature(
            payload,
            signature,
            &self.webhook_secrets,
            crate::db::now_unix(),
        )?;
        parse_event(payload)
    }
}

/// At most this many `v1` values: Stripe sends one per active secret of the endpoint (two during a
/// roll). Security review 2, H1: every value used to cost one HMAC of the whole body.
const MAX_V1_VALUES: usize = 8;
/// A header longer than this is refused unread. Stripe's is about 70 bytes per signature (`v1=` plus 64
/// hex digits) plus `t=…` and, in test mode, a `v0`: eight `v1` values and a `v0` fit in well under 1 KiB.
const MAX_SIGNATURE_HEADER_BYTES: usize = 1024;

/// Accepts when any `v1` value matches any secret (both sides of a roll) and `t` is fresh. The work is
/// bounded before anything is trusted: a short header, at most `MAX_V1_VALUES` well-formed values, and
/// one HMAC of the body per configured secret (each value is compared with the finished tag), so a
/// forged delivery costs what a real one does (docs/BENCHMARKS.md, "Webhook verification").
pub(super) fn verify_signature(
    payload: &str,
    header: &str,
    secrets: &[String],
    now: i64,
) -> Result<(), WebhookRejection> {
    if header.len() > MAX_SIGNATURE_HEADER_BYTES {
        return Err(WebhookRejection::BadSignature);
    }
    let mut timestamp = None;
    let mut signatures: Vec<[u8; 32]> = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => {
                let mut signature = [0u8; 32];
                // Exactly 64 hex digits, as Stripe writes them; anything else is not a signature.
                if hex::decode_to_slice(value, &mut signature).is_err()
                    || signatures.len() == MAX_V1_VALUES
                {
                    return Err(WebhookRejection::BadSignature);
                }
                signatures.push(signature);
            }
            _ => {} // v0 (test-mode legacy scheme) and future schemes are ignored, as Stripe advises.
        }
    }
    let timestamp = timestamp.ok_or(WebhookRejection::BadSignature)?;
    // `abs_diff`: `(now - t).abs()` overflowed for the smallest `t` (review 2, L11).
    if now.abs_diff(timestamp) > TOLERANCE_SECS {
        return Err(WebhookRejection::BadSignature);
    }
    let signed = format!("{timestamp}.{payload}");
    let matched = secrets.iter().any(|secret| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            return false;
        };
        mac.update(signed.as_bytes());
        // A clone of the hashed state only finishes the tag (two blocks), so each value is cheap;
        // `verify_slice` compares in constant time.
        signatures
            .iter()
            .any(|signature| mac.clone().verify_slice(signature).is_ok())
    });
    if matched {
        Ok(())
    } else {
        Err(WebhookRejection::BadSignature)
    }
}

/// The few fields the handler needs, read from the JSON itself so that an object shape the SDK does
/// not know (API version drift) is still recorded and handled.
pub(super) fn parse_event(payload: &str) -> Result<VerifiedEvent, WebhookRejection> {
    let event: Value =
        serde_json::from_str(payload).map_err(|e| WebhookRejection::BadPayload(e.to_string()))?;
    let text = |key: &str| event.get(key).and_then(Value::as_str);
    let (Some(id), Some(event_type), Some(created)) = (
        text("id"),
        text("type"),
        event.get("created").and_then(Value::as_i64),
    ) else {
        return Err(WebhookRejection::BadPayload(
            "an event needs id, type and created".into(),
        ));
    };
    let object = event.pointer("/data/object").unwrap_or(&Value::Null);
    Ok(VerifiedEvent {
        id: EventId::from(id),
        event_type: event_type.to_owned(),
        created,
        livemode: event
            .get("livemode")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        subject: subject_of(object),
        object_id: object.get("id").and_then(Value::as_str).map(str::to_owned),
    })
}

/// What the event is about: a product, a price, or the customer an object belongs to.
fn subject_of(object: &Value) -> EventSubject {
    let id = object.get("id").and_then(Value::as_str);
    // A shop order's session, intent or charge: before the customer, which they also name.
    if let Some(tag) = object
        .pointer(&format!("/metadata/{ORDER_METADATA_KEY}"))
        .and_then(Value::as_str)
    {
        return EventSubject::Order(tag.to_owned());
    }
    let kind = object.get("object").and_then(Value::as_str);
    match (kind, id) {
        (Some("payment_intent"), Some(id)) => {
            return EventSubject::Payment(PaymentSubject {
                payment_intent_id: id.to_owned(),
                kind: PaymentObject::Intent,
                customer: customer_of(object),
            });
        }
        (Some(kind @ ("charge" | "refund")), _) => {
            let intent = object.get("payment_intent");
            if let Some(id) = intent
                .and_then(Value::as_str)
                .or_else(|| intent.and_then(|i| i.get("id")).and_then(Value::as_str))
            {
                return EventSubject::Payment(PaymentSubject {
                    payment_intent_id: id.to_owned(),
                    kind: if kind == "charge" {
                        PaymentObject::Charge
                    } else {
                        PaymentObject::Refund
                    },
                    customer: customer_of(object),
                });
            }
        }
        _ => {}
    }
    match (kind, id) {
        (Some("product"), Some(id)) => EventSubject::Product(ProductId::from(id)),
        (Some("price"), Some(id)) => EventSubject::Price(PriceId::from(id)),
        (Some("customer"), Some(id)) => EventSubject::Customer(CustomerId::from(id)),
        _ => customer_of(object).map_or(EventSubject::Other, EventSubject::Customer),
    }
}

/// The object's `customer`: an id, or an expanded object carrying one.
fn customer_of(object: &Value) -> Option<CustomerId> {
    let customer = object.get("customer");
    customer
        .and_then(Value::as_str)
        .or_else(|| customer.and_then(|c| c.get("id")).and_then(Value::as_str))
        .filter(|id| id.starts_with("cus_"))
        .map(CustomerId::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, t: i64, payload: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
        mac.update(format!("{t}.{payload}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    const PAYLOAD: &str = r#"{"id":"evt_1","type":"customer.subscription.updated","created":1700000000,"livemode":false,"data":{"object":{"id":"sub_1","object":"subscription","customer":"cus_1"}}}"#;

    /// Security review L2: during a secret roll Stripe signs with both secrets; we may hold either.
    #[test]
    fn l2_any_v1_value_in_either_order_is_accepted() {
        let now = 1_700_000_000;
        let ours = sign("whsec_ours", now, PAYLOAD);
        let other = sign("whsec_other", now, PAYLOAD);
        let secrets = ["whsec_ours".to_owned()];
        for header in [
            format!("t={now},v1={other},v1={ours}"),
            format!("t={now},v1={ours},v1={other}"),
            format!("t={now},v1={ours},v0={other}"),
        ] {
            assert_eq!(verify_signature(PAYLOAD, &header, &secrets, now), Ok(()));
        }
        let rotated = ["whsec_other".to_owned(), "whsec_ours".to_owned()];
        let header = format!("t={now},v1={ours}");
        assert_eq!(verify_signature(PAYLOAD, &header, &rotated, now), Ok(()));
    }

    #[test]
    fn wrong_secret_tampered_payload_and_stale_timestamp_are_refused() {
        let now = 1_700_000_000;
        let secrets = ["whsec_ours".to_owned()];
        let forged = format!("t={now},v1={}", sign("whsec_attacker", now, PAYLOAD));
        let good = format!("t={now},v1={}", sign("whsec_ours", now, PAYLOAD));
        let stale = format!(
            "t={},v1={}",
            now - 301,
            sign("whsec_ours", now - 301, PAYLOAD)
        );
        let refused = Err(WebhookRejection::BadSignature);
        assert_eq!(verify_signature(PAYLOAD, &forged, &secrets, now), refused);
        assert_eq!(verify_signature("{}", &good, &secrets, now), refused);
        assert_eq!(verify_signature(PAYLOAD, &stale, &secrets, now), refused);
        for junk in ["", "t=,v1=", "v1=zz", "t=1700000000"] {
            assert_eq!(verify_signature(PAYLOAD, junk, &secrets, now), refused);
        }
    }

    /// Security review 2, H1: before, each `v1` value (the empty one too) cost one HMAC of the whole body,
    /// and a header of 10,000 values with one good signature among them was accepted after 10,000 of
    /// them. Now the header is refused before anything is hashed.
    #[test]
    fn h1_a_header_with_10000_v1_values_is_refused_before_hashing() {
        let now = 1_700_000_000;
        let secrets = ["whsec_ours".to_owned()];
        let good = sign("whsec_ours", now, PAYLOAD);
        let flood = format!("t={now},{}v1={good}", "v1=,".repeat(10_000));
        assert_eq!(
            verify_signature(PAYLOAD, &flood, &secrets, now),
            Err(WebhookRejection::BadSignature)
        );
        let junk = format!("t={now},{}", "v1=00,".repeat(10_000));
        assert_eq!(
            verify_signature(PAYLOAD, &junk, &secrets, now),
            Err(WebhookRejection::BadSignature)
        );
    }

    /// H1: what Stripe can send is accepted (one `v1` per active secret, up to the cap); more values,
    /// values that are not 64 hex digits and headers over the length cap are refused.
    #[test]
    fn h1_at_most_eight_well_formed_v1_values_in_a_short_header() {
        let now = 1_700_000_000;
        let secrets = ["whsec_ours".to_owned()];
        let good = sign("whsec_ours", now, PAYLOAD);
        let other = sign("whsec_other", now, PAYLOAD);
        let values = |n: usize| format!("v1={other},").repeat(n);
        let at_cap = format!("t={now},{}v1={good},v0={other}", values(MAX_V1_VALUES - 1));
        assert!(at_cap.len() <= MAX_SIGNATURE_HEADER_BYTES);
        assert_eq!(verify_signature(PAYLOAD, &at_cap, &secrets, now), Ok(()));
        let over = format!("t={now},{}v1={good}", values(MAX_V1_VALUES));
        let short = format!("t={now},v1={},v1={good}", &other[..62]);
        let padded = format!(
            "t={now},v1={good},{}",
            "x".repeat(MAX_SIGNATURE_HEADER_BYTES)
        );
        for refused in [over, short, padded] {
            assert_eq!(
                verify_signature(PAYLOAD, &refused, &secrets, now),
                Err(WebhookRejection::BadSignature),
                "{}",
                &refused[..40]
            );
        }
    }

    /// Security review 2, L11: `(now - t).abs()` overflowed (a panic with overflow checks) for the
    /// smallest `t`; any timestamp is now a plain comparison.
    #[test]
    fn l11_an_extreme_timestamp_is_refused_without_overflow() {
        let secrets = ["whsec_ours".to_owned()];
        for t in [i64::MIN, i64::MAX] {
            let header = format!("t={t},v1={}", sign("whsec_ours", t, PAYLOAD));
            assert_eq!(
                verify_signature(PAYLOAD, &header, &secrets, 1_700_000_000),
                Err(WebhookRejection::BadSignature)
            );
        }
    }

    /// Security review L2: an object the SDK could not type (new fields, new shapes) is still handled.
    #[test]
    fn l2_an_object_of_an_unknown_shape_still_names_its_customer() {
        let payload = r#"{"id":"evt_2","type":"invoice.paid","created":1,"livemode":true,
            "data":{"object":{"object":"invoice","id":"in_1","customer":{"id":"cus_9"},"lines":"new shape"}}}"#;
        let event = parse_event(payload).expect("parsed");
        assert_eq!(
            event.subject,
            EventSubject::Customer(CustomerId::from("cus_9"))
        );
        assert!(event.livemode);
        let price = r#"{"id":"evt_3","type":"price.deleted","created":1,"data":{"object":{"object":"price","id":"price_1"}}}"#;
        assert_eq!(
            parse_event(price).expect("parsed").subject,
            EventSubject::Price(PriceId::from("price_1"))
        );
        assert!(matches!(
            parse_event(r#"{"type":"x"}"#),
            Err(WebhookRejection::BadPayload(_))
        ));
    }
}
