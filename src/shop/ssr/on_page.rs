//! Paying on our own page (`/shop/pay`): a PaymentIntent for the amount our catalog gives. The
//! browser gets only the intent's client secret and confirms it with Stripe.js; the card goes from
//! Stripe's field to Stripe, and the order is fulfilled from the intent as Stripe reports it
//! (`sync_order`), never from what the browser says.
//!
//! The reservation rule: an unpaid intent holds the stock as long as a Checkout Session would
//! (`RESERVATION_SECS`). Past that the sweep cancels the intent at Stripe (`abandoned`) and syncs
//! the order: canceled → expired, stock released; if it succeeded meanwhile, Stripe refuses the
//! cancel and the sync marks it paid. Stripe settles that race, not our clock.

use super::guest::Buyer;
use super::money::{OrderMoney, write_money};
use super::pay_details::PayDetails;
use super::payment::{
    CardPayment, NewOrder, PayError, PaymentStart, RESERVATION_SECS, WayToPay, pay_version,
    priced_lines,
};
use super::quote::Quote;
use super::{Cart, SessionCart, Shop, order_tag};
use crate::auth::User;
use crate::db::now_unix;
use crate::domain::{Money, OrderId, UserId};
use crate::error::{AppError, AppResult};
use crate::shop::{ADDRESS_INCOMPLETE, ADDRESS_NEEDED, PAY_ON_PAGE_OFF};
use crate::stripe_gateway::{CollectedShipping, IntentState, NewOrderIntent, SessionTotals};

impl Shop {
    /// The publishable key when paying on our own page is set up.
    pub fn publishable_key(&self) -> Option<&str> {
        self.config.stripe.publishable_key.as_deref()
    }

    /// Whether Stripe Tax prices the pay page (it then needs an address).
    pub fn automatic_tax(&self) -> bool {
        self.config.selling.automatic_tax
    }

    /// The countries the pay page's address may be in.
    pub fn ship_to(&self) -> Vec<String> {
        self.config
            .selling
            .ship_to
            .iter()
            .map(|c| c.to_string())
            .collect()
    }

    /// Where the browser loads Stripe.js from.
    pub fn stripe_js_url(&self) -> &str {
        self.config.stripe.js_url.as_str()
    }

    /// What `/shop/pay`'s CSP admits for Stripe.js.
    pub fn stripe_js_sources(&self) -> crate::csp::StripeJsSources {
        self.config.stripe_js_sources()
    }

    /// The PaymentIntent of this cart's order: the open one of the same cart (a retry after a
    /// declined card, a reload), or a new order with its reservation and a new intent.
    pub async fn pay_cart(
        &self,
        user: &User,
        session: &SessionCart,
        shown_version: &str,
    ) -> AppResult<CardPayment> {
        let publishable_key = self
            .publishable_key()
            .ok_or_else(|| AppError::Invalid(PAY_ON_PAGE_OFF.into()))?;
        let details = session.pay_details().await;
        let way = WayToPay::OnPage {
            publishable_key,
            shown_version,
            details: &details,
        };
        match self
            .pay_session_cart(Buyer::Account(user), session, way)
            .await?
        {
            PaymentStart::Card(payment) => Ok(payment),
            PaymentStart::Redirect(_) => Err(AppError::Internal(
                "paying on the page answered with a redirect".into(),
            )),
        }
    }

    /// Creates the order's PaymentIntent and stores it on the order, with its reservation: for the
    /// cart priced with the buyer's details (`quote`), whose amounts the order keeps as what is due.
    pub(super) async fn create_intent(
        &self,
        order: &NewOrder<'_>,
        publishable_key: &str,
        details: &PayDetails,
    ) -> Result<CardPayment, PayError> {
        let order_id = order.id;
        let quote = self.quote(order.lines, order.currency, details).await?;
        // The page offers the card form only once the quote is complete.
        if quote.missing.is_some() {
            return Err(AppError::Invalid(ADDRESS_NEEDED.into()).into());
        }
        let total = Money::new(quote.total, order.currency.to_owned());
        let tag = order_tag(self.installation.id(), order_id);
        let intent = self
            .gateway
            .create_order_intent(NewOrderIntent {
                // Only account holders pay here (`open_payment_of` refuses guests).
                customer_id: order.customer_id.ok_or(AppError::Unauthenticated)?,
                amount: total.amount,
                currency: &total.currency,
                order_id: order_id.get(),
                order_tag: &tag,
                description: &format!("Order #{order_id}"),
                idempotency_key: &format!("storefront-{tag}-intent").replace(':', "-"),
                shipping: quote.address.as_ref().filter(|_| quote.ships),
                tax_calculation: quote.tax_calculation.as_deref(),
            })
            .await?;
        self.record_intent(order_id, &intent.id, &quote).await?;
        tracing::info!(%order_id, payment_intent = %intent.id, "order payment intent created");
        Ok(CardPayment {
            order_id,
            client_secret: intent.client_secret,
            publishable_key: publishable_key.to_owned(),
            total,
        })
    }

    /// The intent on the order, with the reservation and the amounts it was asked to charge.
    async fn record_intent(
        &self,
        order_id: OrderId,
        intent_id: &str,
        quote: &Quote,
    ) -> AppResult<()> {
        sqlx::query(
            "UPDATE orders SET payment_intent_id = $2, reserved_until = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(order_id)
        .bind(intent_id)
        .bind(now_unix() + RESERVATION_SECS)
        .bind(now_unix())
        .execute(&self.db.pool)
        .await?;
        let shipping = quote
            .address
            .clone()
            .filter(|_| quote.ships)
            .map(|address| {
                let (rate, delivery) = quote.rate.clone().unzip();
                CollectedShipping {
                    address,
                    rate,
                    delivery: delivery.flatten(),
                }
            });
        let money = OrderMoney {
            totals: SessionTotals {
                subtotal: quote.subtotal,
                discount: quote.discount,
                shipping: quote.shipping,
                tax: quote.tax,
                total: quote.total,
            },
            shipping,
            promotion_code: quote.promotion_code.clone(),
            email: None,
        };
        write_money(&self.db.pool, order_id, &money).await
    }

    /// This user's unpaid on-page order of the same cart whose intent can still be paid.
    pub(super) async fn open_intent_of(
        &self,
        user: &User,
        cart: &Cart,
        order_key: &str,
        publishable_key: &str,
    ) -> AppResult<Option<CardPayment>> {
        let Some((order_id, intent_id, total, currency)) =
            sqlx::query_as::<_, (OrderId, String, i64, String)>(
                "SELECT id, payment_intent_id, COALESCE(amount_total, total), currency FROM orders \
                 WHERE user_id = $1 \
                 AND cart_id = $2 AND cart_key = $3 AND status = 'pending' AND payment_flow = 'intent' \
                 AND payment_intent_id IS NOT NULL AND reserved_until > $4 \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(user.id)
            .bind(cart.id())
            .bind(order_key)
            .bind(now_unix())
            .fetch_optional(&self.db.pool)
            .await?
        else {
            return Ok(None);
        };
        let intent = self.gateway.order_intent(&intent_id).await?;
        if intent.state == IntentState::Canceled {
            // Canceled at Stripe (by the sweep or in the dashboard): follow it, then start anew.
            self.sync_order(order_id, None).await?;
            return Ok(None);
        }
        Ok(Some(CardPayment {
            order_id,
            client_secret: intent.client_secret,
            publishable_key: publishable_key.to_owned(),
            total: Money::new(total, currency),
        }))
    }

    /// What `/shop/pay` shows: the cart priced with the details entered there, the details, and
    /// the version the card form sends back. `None` for an empty cart.
    pub async fn pay_page(
        &self,
        user_id: UserId,
        session: &SessionCart,
    ) -> AppResult<Option<PayPageView>> {
        let cart = self.current_cart(session).await?;
        if cart.is_empty() {
            return Ok(None);
        }
        let catalog = self.catalog.current();
        let (lines, currency) = priced_lines(&catalog, &cart)?;
        let mut details = session.pay_details().await;
        // A country no longer shipped to (the settings changed): the address is asked again.
        if !self
            .ship_to()
            .contains(&details.country.to_ascii_uppercase())
        {
            details.country.clear();
        }
        self.count_quote(user_id, &details)?;
        let quote = self.quote(&lines, &currency, &details).await?;
        Ok(Some(PayPageView {
            cart: self.cart_view(&cart).await?,
            version: pay_version(&catalog, &cart, &details),
            quote,
            details,
        }))
    }

    /// Keeps what the buyer entered on the pay page, once it prices the cart.
    pub async fn set_pay_details(
        &self,
        user_id: UserId,
        session: &SessionCart,
        details: PayDetails,
    ) -> AppResult<()> {
        let partly = [
            &details.name,
            &details.line1,
            &details.city,
            &details.postal_code,
        ]
        .iter()
        .any(|f| !f.trim().is_empty());
        if partly && details.address().is_none() {
            return Err(AppError::Invalid(ADDRESS_INCOMPLETE.into()));
        }
        let cart = self.cart_to_pay(session).await?;
        let catalog = self.catalog.current();
        let (lines, currency) = priced_lines(&catalog, &cart)?;
        // Refuses a country not shipped to; an unknown code is kept and shown as refused.
        self.count_quote(user_id, &details)?;
        self.quote(&lines, &currency, &details).await?;
        session.save_pay_details(&details).await
    }
}

impl Shop {
    /// A quote that asks Stripe (a code to look up, a tax to calculate) counts against the buyer's
    /// Stripe budget, like every other call a buyer's request makes.
    fn count_quote(&self, user_id: UserId, details: &PayDetails) -> AppResult<()> {
        let asks_stripe = !details.code.trim().is_empty()
            || (self.config.selling.automatic_tax && details.address().is_some());
        if asks_stripe {
            self.budget.check(user_id)?;
        }
        Ok(())
    }
}

/// `/shop/pay`'s data.
#[derive(Debug, Clone)]
pub struct PayPageView {
    /// The cart's lines, as the cart page shows them.
    pub cart: crate::shop::CartView,
    pub quote: Quote,
    pub details: PayDetails,
    pub version: String,
}
