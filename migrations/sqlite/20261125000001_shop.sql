-- Issue 10: the shop. A product whose Stripe metadata says kind=goods is sold at /shop with its
-- one-time price. Stripe keeps no inventory, so stock lives here: stock_on_hand is what we have,
-- stock_reserved what pending orders hold. Both change only through conditional UPDATEs
-- (... WHERE stock_on_hand - stock_reserved >= n), so two buyers can never take the last unit twice.
-- stock_seeded: the metadata's stock was copied once, on the first sync; later syncs leave stock alone.
ALTER TABLE products ADD COLUMN kind TEXT;
ALTER TABLE products ADD COLUMN slug TEXT;
ALTER TABLE products ADD COLUMN image TEXT;
ALTER TABLE products ADD COLUMN stock_on_hand BIGINT NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN stock_reserved BIGINT NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN stock_seeded INTEGER NOT NULL DEFAULT 0;

-- One order per checkout of a cart. Amounts are integer minor units computed from our catalog.
-- status: pending -> paid -> partially_refunded -> refunded, or pending -> expired | failed.
-- cart_key names the items, so a second click on "Check out" reuses the open Checkout Session.
CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    total BIGINT NOT NULL,
    cart_key TEXT NOT NULL,
    checkout_session_id TEXT UNIQUE,
    checkout_url TEXT,
    checkout_expires_at BIGINT,
    payment_intent_id TEXT,
    receipt_url TEXT,
    amount_refunded BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    paid_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX orders_user ON orders (user_id, created_at);
CREATE INDEX orders_status ON orders (status, created_at);
CREATE INDEX orders_payment_intent ON orders (payment_intent_id);

-- What was bought, as it was sold (name and price at the time).
CREATE TABLE order_items (
    order_id BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    price_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    name TEXT NOT NULL,
    unit_amount BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    PRIMARY KEY (order_id, price_id)
);

-- The dashboard lists a user's orders and is cached per user (issue 9): a change to an order empties
-- the signed-in pages on every instance, as a change to the user does.
CREATE TRIGGER orders_changed AFTER UPDATE OF status, receipt_url, amount_refunded, checkout_session_id ON orders
BEGIN
    INSERT INTO cache_invalidations (kind, key, created_at)
    VALUES ('user', CAST(NEW.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;
