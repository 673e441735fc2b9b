-- Issue 21: an erased account's orders and invoices are kept (bookkeeping law) without their buyer,
-- so `user_id` may be NULL. SQLite cannot drop a NOT NULL, so both tables are rebuilt. Dropping
-- `orders` deletes its items by cascade (foreign keys cannot be switched off inside the migration's
-- transaction), so the items are set aside first and put back.
CREATE TABLE order_items_kept AS SELECT * FROM order_items;

CREATE TABLE orders_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT REFERENCES users (id),
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    total BIGINT NOT NULL,
    cart_key TEXT NOT NULL,
    checkout_session_id TEXT UNIQUE,
    checkout_url TEXT,
    reserved_until BIGINT,
    payment_intent_id TEXT,
    receipt_url TEXT,
    amount_refunded BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    paid_at BIGINT,
    updated_at BIGINT NOT NULL,
    payment_flow TEXT NOT NULL DEFAULT 'checkout',
    amount_charged BIGINT,
    fulfilment TEXT NOT NULL DEFAULT 'unfulfilled',
    cart_id TEXT,
    sweep_after BIGINT,
    sweep_looks INTEGER NOT NULL DEFAULT 0,
    attention TEXT
);
INSERT INTO orders_rebuilt (id, user_id, status, currency, total, cart_key, checkout_session_id,
    checkout_url, reserved_until, payment_intent_id, receipt_url, amount_refunded, created_at, paid_at,
    updated_at, payment_flow, amount_charged, fulfilment, cart_id, sweep_after, sweep_looks, attention)
SELECT id, user_id, status, currency, total, cart_key, checkout_session_id, checkout_url,
    reserved_until, payment_intent_id, receipt_url, amount_refunded, created_at, paid_at, updated_at,
    payment_flow, amount_charged, fulfilment, cart_id, sweep_after, sweep_looks, attention
FROM orders;
DROP TABLE orders;
ALTER TABLE orders_rebuilt RENAME TO orders;
INSERT INTO order_items SELECT * FROM order_items_kept;
DROP TABLE order_items_kept;

CREATE INDEX orders_user ON orders (user_id, created_at);
CREATE INDEX orders_status ON orders (status, created_at);
CREATE INDEX orders_payment_intent ON orders (payment_intent_id);
CREATE INDEX orders_flow ON orders (payment_flow, status, reserved_until);
CREATE INDEX orders_cart_id ON orders (cart_id) WHERE cart_id IS NOT NULL;
CREATE UNIQUE INDEX orders_one_pending_per_buyer ON orders (user_id) WHERE status = 'pending';

-- An order without a buyer has no cached pages to forget.
CREATE TRIGGER orders_changed
AFTER UPDATE OF status, receipt_url, amount_refunded, checkout_session_id, payment_intent_id, paid_at ON orders
WHEN NEW.user_id IS NOT NULL
BEGIN
    INSERT INTO cache_invalidations (kind, key, created_at)
    VALUES ('user', CAST(NEW.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER orders_created
AFTER INSERT ON orders WHEN NEW.user_id IS NOT NULL
BEGIN
    INSERT INTO cache_invalidations (kind, key, created_at)
    VALUES ('user', CAST(NEW.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TABLE invoices_rebuilt (
    id TEXT PRIMARY KEY,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL,
    subscription_id TEXT,
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_due BIGINT NOT NULL,
    amount_paid BIGINT NOT NULL,
    hosted_invoice_url TEXT,
    created BIGINT NOT NULL,
    synced_at BIGINT NOT NULL
);
INSERT INTO invoices_rebuilt (id, user_id, customer_id, subscription_id, status, currency, amount_due,
    amount_paid, hosted_invoice_url, created, synced_at)
SELECT id, user_id, customer_id, subscription_id, status, currency, amount_due, amount_paid,
    hosted_invoice_url, created, synced_at
FROM invoices;
DROP TABLE invoices;
ALTER TABLE invoices_rebuilt RENAME TO invoices;
CREATE INDEX invoices_user_id ON invoices (user_id, created);
