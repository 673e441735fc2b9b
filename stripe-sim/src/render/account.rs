//! JSON for the account (`GET /v1/account`): every key of Stripe's example object, filled in
//! as a fully onboarded standard account in the US that can take card payments.

use serde_json::{Value, json};

use crate::model::Account;

/// The name customers see (invoices show it as `account_name`).
pub(crate) const DISPLAY_NAME: &str = "Stripe Sim";
pub(crate) const COUNTRY: &str = "US";
const EMAIL: &str = "owner@stripe-sim.test";

/// Nothing is due: the sim's account never needs more onboarding.
fn no_requirements() -> Value {
    json!({
        "alternatives": [],
        "current_deadline": null,
        "currently_due": [],
        "disabled_reason": null,
        "errors": [],
        "eventually_due": [],
        "past_due": [],
        "pending_verification": [],
    })
}

fn business_profile() -> Value {
    json!({
        "annual_revenue": { "amount": null, "currency": null, "fiscal_year_end": null },
        "estimated_worker_count": null,
        "mcc": "5734",
        "name": DISPLAY_NAME,
        "product_description": "Software subscriptions (simulated)",
        "support_address": {
            "city": null,
            "country": COUNTRY,
            "line1": null,
            "line2": null,
            "postal_code": null,
            "state": null,
        },
        "support_email": EMAIL,
        "support_phone": null,
        "support_url": null,
        "url": null,
        "minority_owned_business_designation": null,
    })
}

fn settings() -> Value {
    json!({
        "bacs_debit_payments": { "display_name": null, "service_user_number": null },
        "branding": { "icon": null, "logo": null, "primary_color": null, "secondary_color": null },
        "card_issuing": { "tos_acceptance": { "date": null, "ip": null } },
        "card_payments": {
            "decline_on": { "avs_failure": false, "cvc_failure": true },
            "statement_descriptor_prefix": null,
            "statement_descriptor_prefix_kana": null,
            "statement_descriptor_prefix_kanji": null,
        },
        "dashboard": { "display_name": DISPLAY_NAME, "timezone": "Etc/UTC" },
        "invoices": { "default_account_tax_ids": null, "hosted_payment_method_save": "offer" },
        "payments": {
            "statement_descriptor": "STRIPE SIM",
            "statement_descriptor_kana": null,
            "statement_descriptor_kanji": null,
            "statement_descriptor_prefix_kana": null,
            "statement_descriptor_prefix_kanji": null,
        },
        "payouts": {
            "debit_negative_balances": true,
            "schedule": { "delay_days": 2, "interval": "daily" },
            "statement_descriptor": null,
        },
        "sepa_debit_payments": {},
    })
}

pub(crate) fn account(a: &Account) -> Value {
    json!({
        "id": a.id,
        "object": "account",
        "business_profile": business_profile(),
        "business_type": "company",
        "capabilities": { "card_payments": "active", "transfers": "active" },
        "charges_enabled": true,
        "controller": { "type": "account" },
        "country": COUNTRY,
        "created": a.created,
        "default_currency": "usd",
        "details_submitted": true,
        "email": EMAIL,
        "external_accounts": {
            "object": "list",
            "data": [],
            "has_more": false,
            "url": format!("/v1/accounts/{}/external_accounts", a.id),
        },
        "future_requirements": no_requirements(),
        "metadata": {},
        "payouts_enabled": true,
        "requirements": no_requirements(),
        "settings": settings(),
        "tos_acceptance": { "date": a.created, "ip": null, "user_agent": null },
        "type": "standard",
    })
}
