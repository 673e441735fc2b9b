-- The order model (docs/ARCHITECTURE.md, Shop).
-- An unpaid order's stock reservation ends at reserved_until, whichever way it is paid (hosted
-- Checkout: its session's expiry; on our page: the intent's reservation window).
ALTER TABLE orders RENAME COLUMN checkout_expires_at TO reserved_until;
-- What Stripe charged for the order, in minor units of its currency, once paid: refunds and "fully
-- refunded" are measured against it, never against our catalog total.
ALTER TABLE orders ADD COLUMN amount_charged BIGINT;
-- Fulfilment, beside the payment status and independent of it: 'unfulfilled', later 'shipped' and
-- 'delivered' (the operator's console). A shipped order is refunded like any other.
ALTER TABLE orders ADD COLUMN fulfilment TEXT NOT NULL DEFAULT 'unfulfilled';
