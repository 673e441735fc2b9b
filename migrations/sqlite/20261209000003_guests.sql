-- Issue 22: guest checkout. A signed-out visitor's order has no user_id; its buyer is the cart
-- (cart_id) until Stripe's Checkout collects an e-mail, kept in guest_email. Once paid, an order is
-- bound to the account with that verified address (now, or when the address is verified later).
ALTER TABLE orders ADD COLUMN guest_email TEXT;
CREATE INDEX orders_guest_email ON orders (guest_email) WHERE user_id IS NULL;
-- One open order per guest cart, as one per account (orders_one_pending_per_buyer).
CREATE UNIQUE INDEX orders_one_pending_per_guest_cart ON orders (cart_id)
    WHERE status = 'pending' AND user_id IS NULL;
-- The key of the HMAC that signs a guest's order links (/shop/orders/{id}?key=…), made at first start.
ALTER TABLE installation ADD COLUMN link_secret TEXT;

-- A guest order bound to an account appears on its dashboard: the binding (user_id) empties it.
DROP TRIGGER orders_changed;
CREATE TRIGGER orders_changed
AFTER UPDATE OF status, receipt_url, amount_refunded, checkout_session_id, payment_intent_id, paid_at,
    amount_subtotal, amount_discount, amount_shipping, amount_tax, amount_total, promotion_code,
    shipping_rate, shipping_delivery, ship_name, ship_line1, ship_line2, ship_city, ship_state,
    ship_postal_code, ship_country, user_id ON orders
WHEN NEW.user_id IS NOT NULL
BEGIN
    INSERT INTO cache_invalidations (kind, key, created_at)
    VALUES ('user', CAST(NEW.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;
