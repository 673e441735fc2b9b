//! Buying without an account (issue 22). A signed-out visitor's cart is its own buyer: the order
//! has no user, one open order per cart (`orders_one_pending_per_guest_cart`), Stripe's hosted
//! Checkout collects the e-mail and makes the Stripe customer. The visitor reaches the order by a
//! link signed with the installation's secret (HMAC-SHA256 of the order id), which the success URL
//! and the receipt carry; once paid, the order is bound to the account with that verified address,
//! at once or when the address is verified later.

use super::Shop;
use crate::auth::User;
use crate::domain::{OrderId, UserId};
use crate::error::AppResult;
use crate::installation::LinkSecret;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::{Any, Transaction};
use std::net::IpAddr;

/// Who is paying for a cart.
#[derive(Debug, Clone, Copy)]
pub enum Buyer<'a> {
    Account(&'a User),
    /// A signed-out visitor, from this address (their Stripe budget is counted per address).
    Guest(IpAddr),
}

impl Buyer<'_> {
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Buyer::Account(user) => Some(user.id),
            Buyer::Guest(_) => None,
        }
    }
}

/// Who is looking at an order page: its owner, or anyone holding its signed link.
#[derive(Debug, Clone, Copy)]
pub enum Viewer<'a> {
    Account(UserId),
    Link(&'a str),
}

const LINK_PURPOSE: &str = "storefront guest order link v1";

fn mac_of(secret: &LinkSecret, order_id: OrderId) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{LINK_PURPOSE}:{order_id}").as_bytes());
    mac
}

/// The `key` of an order's link: 43 characters, unguessable without the secret.
pub(super) fn link_key(secret: &LinkSecret, order_id: OrderId) -> String {
    URL_SAFE_NO_PAD.encode(mac_of(secret, order_id).finalize().into_bytes())
}

/// Whether `key` is the order's (compared in constant time).
pub(super) fn link_opens(secret: &LinkSecret, order_id: OrderId, key: &str) -> bool {
    match URL_SAFE_NO_PAD.decode(key.as_bytes()) {
        Ok(bytes) => mac_of(secret, order_id).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

impl Shop {
    /// The order's page for whoever holds the link (a guest's success URL and receipt).
    pub(super) fn guest_order_path(&self, order_id: OrderId) -> String {
        format!(
            "/shop/orders/{order_id}?key={}",
            link_key(&self.installation.link_secret, order_id)
        )
    }

    /// Binds a paid guest order to the account whose verified address Checkout collected, if
    /// there is one; returns that account.
    pub(super) async fn bind_guest_order(
        &self,
        tx: &mut Transaction<'_, Any>,
        order_id: OrderId,
    ) -> AppResult<Option<UserId>> {
        let owner = sqlx::query_scalar::<_, UserId>(
            "SELECT u.id FROM orders o JOIN users u ON LOWER(u.email) = LOWER(o.guest_email) \
             WHERE o.id = $1 AND o.user_id IS NULL AND u.email_verified_at IS NOT NULL \
             ORDER BY u.id LIMIT 1",
        )
        .bind(order_id)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(user_id) = owner {
            sqlx::query("UPDATE orders SET user_id = $2 WHERE id = $1 AND user_id IS NULL")
                .bind(order_id)
                .bind(user_id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(owner)
    }

    /// When `user`'s address is verified (or changed and verified): their paid guest orders become
    /// theirs. Returns how many.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn claim_guest_orders(&self, user_id: UserId, email: &str) -> AppResult<u64> {
        let claimed = sqlx::query(
            "UPDATE orders SET user_id = $1 WHERE user_id IS NULL AND LOWER(guest_email) = LOWER($2) \
             AND status <> 'pending'",
        )
        .bind(user_id)
        .bind(email)
        .execute(&self.db.pool)
        .await?
        .rows_affected();
        if claimed > 0 {
            tracing::info!(claimed, "guest orders bound to the account");
        }
        Ok(claimed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_opens_its_own_order_only() {
        let secret = LinkSecret::from_bytes(vec![7; 32]);
        let key = link_key(&secret, OrderId::new(42));
        assert_eq!(key.len(), 43);
        assert!(link_opens(&secret, OrderId::new(42), &key));
        assert!(
            !link_opens(&secret, OrderId::new(43), &key),
            "another order"
        );
        let other = LinkSecret::from_bytes(vec![8; 32]);
        assert!(
            !link_opens(&other, OrderId::new(42), &key),
            "another installation"
        );
        assert!(!link_opens(&secret, OrderId::new(42), "not-base64!"));
        assert!(!link_opens(&secret, OrderId::new(42), &key[..42]));
    }
}
