//! PaymentIntent and PaymentMethod rules: publishable-key scoping and the client secret, create
//! validation, update and cancel by status, `Idempotency-Key` on create, card checks (the `key`
//! parameter, the publishable view and CORS are in `stripe_js`).

use serde_json::Value;

use crate::common::*;
use crate::intent_helpers::*;

#[tokio::test]
async fn publishable_keys_only_create_payment_methods_confirm_and_retrieve() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url();
        let pi = intent(base, &[]).await;
        let id = pi["id"].as_str().expect("id");
        let pm = card(base, "4242424242424242").await;
        let create = [("amount", "100"), ("currency", "usd")];
        let denied = [
            get(base, "/v1/payment_intents", PK).await,
            post(base, "/v1/payment_intents", PK, &create).await,
            post(base, &format!("/v1/payment_intents/{id}/cancel"), PK, &[]).await,
            get(base, &format!("/v1/payment_methods/{pm}"), PK).await,
            get(base, "/v1/customers", PK).await,
        ];
        for (status, body) in denied {
            assert_eq!(status, 401, "{body}");
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("cannot be made with a publishable API key"),
                "{message}"
            );
        }
        let path = format!("/v1/payment_intents/{id}/confirm");
        let (status, body) = post(base, &path, PK, &[("payment_method", pm.as_str())]).await;
        assert_eq!(
            (status, &body["error"]["param"]),
            (400, &Value::from("client_secret"))
        );
        let wrong = [
            ("payment_method", pm.as_str()),
            ("client_secret", "pi_x_secret_y"),
        ];
        let (status, body) = post(base, &path, PK, &wrong).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], "payment_intent_invalid_parameter");
        let (_, still) = get(base, &format!("/v1/payment_intents/{id}"), KEY).await;
        assert_eq!(still["status"], "requires_payment_method");
        // A live publishable key is no key at all.
        let (status, _) = post(base, &path, "pk_live_x", &wrong).await;
        assert_eq!(status, 401);
        let (status, body) = confirm(base, &pi, &pm, None).await;
        assert_eq!((status, &body["status"]), (200, &Value::from("succeeded")));
        // The secret key reaches the PaymentMethod and may confirm without the client secret.
        let (status, method) = get(base, &format!("/v1/payment_methods/{pm}"), KEY).await;
        assert_eq!((status, &method["id"]), (200, &Value::from(pm.as_str())));
        let other = intent(base, &[]).await;
        let other_path = format!(
            "/v1/payment_intents/{}/confirm",
            other["id"].as_str().expect("id")
        );
        let (status, body) = post(base, &other_path, KEY, &[("payment_method", pm.as_str())]).await;
        assert_eq!((status, &body["status"]), (200, &Value::from("succeeded")));
    })
    .await;
}

/// A create form and the (status, error code, error param) it gets.
type Case = (
    &'static [(&'static str, &'static str)],
    u16,
    &'static str,
    &'static str,
);

/// Create forms Stripe refuses, and how.
const CREATE_ERRORS: [Case; 9] = [
    (&[("currency", "usd")], 400, "parameter_missing", "amount"),
    (
        &[("amount", "0"), ("currency", "usd")],
        400,
        "parameter_invalid",
        "amount",
    ),
    (
        &[("amount", "12.5"), ("currency", "usd")],
        400,
        "parameter_invalid",
        "amount",
    ),
    (&[("amount", "100")], 400, "parameter_missing", "currency"),
    (
        &[("amount", "100"), ("currency", "xyz")],
        400,
        "parameter_invalid",
        "currency",
    ),
    (
        &[
            ("amount", "100"),
            ("currency", "usd"),
            ("customer", "cus_nope"),
        ],
        404,
        "resource_missing",
        "customer",
    ),
    (
        &[
            ("amount", "100"),
            ("currency", "usd"),
            ("payment_method_types[]", "sepa_debit"),
        ],
        400,
        "parameter_invalid",
        "payment_method_types",
    ),
    (
        &[
            ("amount", "100"),
            ("currency", "usd"),
            ("payment_method_types[]", "card"),
            ("automatic_payment_methods[enabled]", "true"),
        ],
        400,
        "parameter_invalid",
        "automatic_payment_methods",
    ),
    (
        &[("amount", "100"), ("currency", "usd"), ("confirm", "true")],
        400,
        "parameter_unknown",
        "confirm",
    ),
];

#[tokio::test]
async fn create_validates_like_stripe() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url();
        for (form, status, code, param) in CREATE_ERRORS {
            let (got, body) = post(base, "/v1/payment_intents", KEY, form).await;
            assert_eq!(got, status, "{form:?}: {body}");
            assert_eq!(body["error"]["code"], code, "{form:?}");
            assert_eq!(body["error"]["param"], param, "{form:?}");
        }
        let cus = post(base, "/v1/customers", KEY, &[("email", "i@x.io")])
            .await
            .1;
        let cus = cus["id"].as_str().expect("cus");
        let auto = [
            ("customer", cus),
            ("automatic_payment_methods[enabled]", "true"),
        ];
        let pi = intent(base, &auto).await;
        assert_eq!(pi["customer"], cus);
        assert_eq!(pi["automatic_payment_methods"]["enabled"], true);
        assert_eq!(pi["payment_method_types"], serde_json::json!(["card"]));
        let upper = [("amount", "100"), ("currency", "EUR")];
        let (status, eur) = post(base, "/v1/payment_intents", KEY, &upper).await;
        assert_eq!((status, &eur["currency"]), (200, &Value::from("eur")));
        assert_eq!(
            event_types(&sim),
            [
                "customer.created",
                "payment_intent.created",
                "payment_intent.created"
            ],
            "failed creates leave no trace"
        );
    })
    .await;
}

#[tokio::test]
async fn update_and_cancel_follow_the_status() {
    bounded(async {
        let (sim, inbox) = sim_with_hook().await;
        let base = sim.base_url();
        let pi = intent(base, &[("metadata[a]", "1"), ("metadata[b]", "2")]).await;
        let path = format!("/v1/payment_intents/{}", pi["id"].as_str().expect("id"));
        let change = [
            ("amount", "2100"),
            ("metadata[a]", ""),
            ("metadata[c]", "3"),
            ("description", "More"),
        ];
        let (status, updated) = post(base, &path, KEY, &change).await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated["amount"], 2100);
        assert_eq!(updated["metadata"], serde_json::json!({"b": "2", "c": "3"}));
        assert_eq!(updated["description"], "More");
        let (status, _) = post(base, &path, KEY, &[("customer", "cus_nope")]).await;
        assert_eq!(status, 404);
        let (status, _) = post(base, &path, KEY, &[("status", "succeeded")]).await;
        assert_eq!(status, 400);
        let cancel = format!("{path}/cancel");
        let (status, body) = post(base, &cancel, KEY, &[("cancellation_reason", "bored")]).await;
        assert_eq!(
            (status, &body["error"]["param"]),
            (400, &Value::from("cancellation_reason"))
        );
        let (status, canceled) = post(
            base,
            &cancel,
            KEY,
            &[("cancellation_reason", "requested_by_customer")],
        )
        .await;
        assert_eq!(status, 200, "{canceled}");
        assert_eq!(canceled["status"], "canceled");
        assert_eq!(canceled["cancellation_reason"], "requested_by_customer");
        assert!(canceled["canceled_at"].is_i64());
        assert_eq!(
            event_types(&sim),
            ["payment_intent.created", "payment_intent.canceled"]
        );
        let pm = card(base, "4242424242424242").await;
        for (status, body) in [
            post(base, &path, KEY, &[("amount", "500")]).await,
            post(base, &cancel, KEY, &[]).await,
            confirm(base, &pi, &pm, None).await,
        ] {
            assert_eq!(status, 400, "{body}");
            assert_eq!(body["error"]["code"], "payment_intent_unexpected_state");
        }
        inbox.wait_for_type("payment_intent.canceled").await;
        assert!(inbox.rejected.lock().expect("lock").is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_paid_intent_can_be_neither_updated_nor_canceled() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url();
        let pm = card(base, "4242424242424242").await;
        let paid = intent(base, &[]).await;
        assert_eq!(confirm(base, &paid, &pm, None).await.0, 200);
        let paid_path = format!("/v1/payment_intents/{}", paid["id"].as_str().expect("id"));
        assert_eq!(
            post(base, &paid_path, KEY, &[("description", "x")]).await.0,
            400
        );
        assert_eq!(
            post(base, &format!("{paid_path}/cancel"), KEY, &[]).await.0,
            400
        );
    })
    .await;
}

#[tokio::test]
async fn create_is_idempotent() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url();
        let send = |form: &'static [(&'static str, &'static str)]| {
            http()
                .post(format!("{base}/v1/payment_intents"))
                .bearer_auth(KEY)
                .header("Idempotency-Key", "order-9")
                .form(form)
                .send()
        };
        let first = send(&[("amount", "900"), ("currency", "usd")])
            .await
            .expect("first");
        let first: Value = first.json().await.expect("json");
        let again = send(&[("amount", "900"), ("currency", "usd")])
            .await
            .expect("again");
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        let again: Value = again.json().await.expect("json");
        assert_eq!(again["id"], first["id"]);
        assert_eq!(again["client_secret"], first["client_secret"]);
        let other = send(&[("amount", "901"), ("currency", "usd")])
            .await
            .expect("other");
        assert_eq!(other.status(), 400);
        let other: Value = other.json().await.expect("json");
        assert_eq!(other["error"]["type"], "idempotency_error");
        assert_eq!(event_types(&sim), ["payment_intent.created"]);
        assert_eq!(
            get(base, "/v1/payment_intents", KEY).await.1["data"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
    })
    .await;
}

#[tokio::test]
async fn payment_methods_check_the_card_and_show_only_its_last4() {
    bounded(async {
        let sim = sim().await;
        let base = sim.base_url();
        let form = |number: &'static str, month: &'static str, year: &'static str| {
            [
                ("type", "card"),
                ("card[number]", number),
                ("card[exp_month]", month),
                ("card[exp_year]", year),
                ("card[cvc]", "123"),
            ]
        };
        for (number, month, year, code) in [
            ("4242424242424241", "12", "2034", "incorrect_number"),
            ("4242424242424242", "12", "2001", "invalid_expiry_year"),
            ("4242424242424242", "13", "2034", "invalid_expiry_month"),
        ] {
            let (status, body) =
                post(base, "/v1/payment_methods", PK, &form(number, month, year)).await;
            assert_eq!(status, 402, "{body}");
            assert_eq!(body["error"]["type"], "card_error");
            assert_eq!(body["error"]["code"], code);
        }
        let (status, body) = post(base, "/v1/payment_methods", PK, &[("type", "card")]).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &Value::from("parameter_missing"))
        );
        let (status, pm) = post(
            base,
            "/v1/payment_methods",
            KEY,
            &form("5555555555554444", "3", "34"),
        )
        .await;
        assert_eq!(status, 200, "{pm}");
        assert_eq!(pm["card"]["brand"], "mastercard");
        assert_eq!(pm["card"]["last4"], "4444");
        assert_eq!(
            (&pm["card"]["exp_month"], &pm["card"]["exp_year"]),
            (&Value::from(3), &Value::from(2034))
        );
        assert_eq!(pm["card"]["funding"], "credit");
        assert_eq!(pm["customer"], Value::Null);
        assert!(
            !pm.to_string().contains("555555555555"),
            "the number is never rendered"
        );
        assert_shape("payment_method", &pm);
        let (status, _) = get(base, "/v1/payment_methods/pm_nope", KEY).await;
        assert_eq!(status, 404);
    })
    .await;
}
