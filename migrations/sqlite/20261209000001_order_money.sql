-- Issue 22: an order's money as Stripe charged it, and where it ships.
-- `total` stays what our catalog priced the goods at (the subtotal we asked for); Stripe adds
-- shipping and tax and takes off discounts, so the amounts below are copied from its Checkout
-- Session (or, on our own page, from what we asked its PaymentIntent to charge) and never
-- recomputed. NULL amount_total: Stripe has not said yet (an order from before this change).
ALTER TABLE orders ADD COLUMN amount_subtotal BIGINT;
ALTER TABLE orders ADD COLUMN amount_discount BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN amount_shipping BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN amount_tax BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN amount_total BIGINT;
-- The promotion code the buyer entered, as they typed it.
ALTER TABLE orders ADD COLUMN promotion_code TEXT;
-- The chosen rate's name and delivery estimate, and the address Stripe collected.
ALTER TABLE orders ADD COLUMN shipping_rate TEXT;
ALTER TABLE orders ADD COLUMN shipping_delivery TEXT;
ALTER TABLE orders ADD COLUMN ship_name TEXT;
ALTER TABLE orders ADD COLUMN ship_line1 TEXT;
ALTER TABLE orders ADD COLUMN ship_line2 TEXT;
ALTER TABLE orders ADD COLUMN ship_city TEXT;
ALTER TABLE orders ADD COLUMN ship_state TEXT;
ALTER TABLE orders ADD COLUMN ship_postal_code TEXT;
ALTER TABLE orders ADD COLUMN ship_country TEXT;
-- Goods sent by post (product metadata shippable=true); the others are downloads.
ALTER TABLE products ADD COLUMN shippable INTEGER NOT NULL DEFAULT 0;

-- The order page and the dashboard show these: a change must empty the buyer's cached pages.
DROP TRIGGER orders_changed;
CREATE TRIGGER orders_changed
AFTER UPDATE OF status, receipt_url, amount_refunded, checkout_session_id, payment_intent_id, paid_at,
    amount_subtotal, amount_discount, amount_shipping, amount_tax, amount_total, promotion_code,
    shipping_rate, shipping_delivery, ship_name, ship_line1, ship_line2, ship_city, ship_state,
    ship_postal_code, ship_country ON orders
WHEN NEW.user_id IS NOT NULL
BEGIN
    INSERT INTO cache_invalidations (kind, key, created_at)
    VALUES ('user', CAST(NEW.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;
