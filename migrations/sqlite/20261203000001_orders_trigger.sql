-- The orders trigger (20261125000001_shop.sql) empties the signed-in pages of an order's owner on every
-- instance when an order changes. It now also fires on the two columns the order views read that it
-- missed: payment_intent_id, which decides whether the dashboard lists an order paid on our page
-- (paying on our own page), and paid_at. Everything else is as before. The migration runs in one transaction, so
-- no write meanwhile goes unseen.
DROP TRIGGER IF EXISTS orders_changed;

CREATE TRIGGER orders_changed
AFTER UPDATE OF status, receipt_url, amount_refunded, checkout_session_id, payment_intent_id, paid_at ON orders
BEGIN
    INSERT INTO cache_invalidations (kind, key, created_at)
    VALUES ('user', CAST(NEW.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;
