//! What the webhook route accepts: signatures (forged, stale, rotated secrets), livemode and size.

use super::{events_recorded, times_recorded};
use crate::helpers::{
    TestApp, WEBHOOK_SECRET, deliver, event_json, signature_header, signed, v1_signature,
};
use storefront::db::now_unix;

#[tokio::test]
async fn forged_or_stale_signatures_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.settle_webhooks().await;
    let before = events_recorded(&app).await;
    let payload = event_json(
        "evt_forged",
        "customer.created",
        false,
        serde_json::json!({"id": "cus_x", "object": "customer"}),
    );
    let forged = signature_header(&payload, "whsec_not_ours", now_unix());
    let stale = signature_header(&payload, WEBHOOK_SECRET, now_unix() - 301);
    for (name, signature) in [
        ("forged", Some(forged.as_str())),
        ("stale", Some(stale.as_str())),
        ("missing", None),
    ] {
        let response = deliver(&app, &payload, signature).await;
        assert_eq!(response.status(), 400, "{name}");
    }
    let tampered = payload.replace("cus_x", "cus_y");
    assert_eq!(
        deliver(&app, &tampered, Some(&signed(&payload)))
            .await
            .status(),
        400,
        "body changed after signing"
    );
    assert_eq!(events_recorded(&app).await, before);
}

#[tokio::test]
async fn a_rotated_secret_still_verifies() {
    let secrets = format!("whsec_new_secret,{WEBHOOK_SECRET}");
    let app = TestApp::spawn_with(&[("STRIPE_WEBHOOK_SECRET", secrets.as_str())]).await;
    let payload = event_json(
        "evt_rotation",
        "balance.available",
        false,
        serde_json::json!({"object": "balance"}),
    );
    let old = signature_header(&payload, WEBHOOK_SECRET, now_unix());
    assert_eq!(deliver(&app, &payload, Some(&old)).await.status(), 200);
    let new_payload = event_json(
        "evt_rotation_2",
        "balance.available",
        false,
        serde_json::json!({"object": "balance"}),
    );
    let new = signature_header(&new_payload, "whsec_new_secret", now_unix());
    assert_eq!(deliver(&app, &new_payload, Some(&new)).await.status(), 200);
}

/// Security review L2: during a secret roll Stripe sends one `v1` per secret; whichever we hold and
/// wherever it stands in the header, the delivery verifies.
#[tokio::test]
async fn l2_a_signature_header_with_several_v1_values_verifies_in_either_order() {
    let app = TestApp::spawn().await;
    for (n, ours_first) in [(1, true), (2, false)] {
        let payload = event_json(
            &format!("evt_roll_{n}"),
            "balance.available",
            false,
            serde_json::json!({"object": "balance"}),
        );
        let t = now_unix();
        let ours = v1_signature(&payload, WEBHOOK_SECRET, t);
        let theirs = v1_signature(&payload, "whsec_rolled_not_deployed", t);
        let header = if ours_first {
            format!("t={t},v1={ours},v1={theirs}")
        } else {
            format!("t={t},v1={theirs},v1={ours}")
        };
        let response = deliver(&app, &payload, Some(&header)).await;
        assert_eq!(response.status(), 200, "ours first: {ours_first}");
    }
}

/// Security review L2: an object shaped in a way no SDK version knows is still recorded and handled.
#[tokio::test]
async fn l2_a_signed_event_with_an_unexpected_object_shape_is_handled() {
    let app = TestApp::spawn().await;
    let payload = event_json(
        "evt_new_shape",
        "customer.subscription.updated",
        false,
        serde_json::json!({"object": "subscription", "id": "sub_new", "customer": "cus_not_ours",
            "items": "a shape from a future API version", "status": 42}),
    );
    let response = deliver(&app, &payload, Some(&signed(&payload))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.expect("body"), "unknown customer");
    assert_eq!(times_recorded(&app, "evt_new_shape").await, 1);
}

#[tokio::test]
async fn unknown_types_are_acknowledged_once_and_livemode_mismatch_is_refused() {
    let app = TestApp::spawn().await;
    let payload = event_json(
        "evt_unknown_1",
        "radar.early_fraud_warning.created",
        false,
        serde_json::json!({"object": "radar.early_fraud_warning"}),
    );
    let first = deliver(&app, &payload, Some(&signed(&payload))).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.text().await.expect("body"), "ignored");
    let again = deliver(&app, &payload, Some(&signed(&payload))).await;
    assert_eq!(again.text().await.expect("body"), "duplicate");
    assert_eq!(times_recorded(&app, "evt_unknown_1").await, 1);

    let live = event_json(
        "evt_live_1",
        "balance.available",
        true,
        serde_json::json!({"object": "balance"}),
    );
    assert_eq!(
        deliver(&app, &live, Some(&signed(&live))).await.status(),
        400
    );
    assert_eq!(times_recorded(&app, "evt_live_1").await, 0);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let huge = "x".repeat(600 * 1024);
    assert_eq!(
        deliver(&app, &huge, Some(&signed(&huge))).await.status(),
        413
    );
}
