-- Billing state mirrored from Stripe. Written only by catalog sync and sync_customer.
-- Booleans are stored as 0/1 integers so one code path reads both backends.

CREATE TABLE products (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    active INTEGER NOT NULL,
    role TEXT,
    features TEXT NOT NULL DEFAULT '[]',
    sort_order BIGINT NOT NULL DEFAULT 0,
    livemode INTEGER NOT NULL,
    updated_at BIGINT NOT NULL
);

-- No foreign key to products: a price may arrive (by webhook) before its product.
CREATE TABLE prices (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL,
    active INTEGER NOT NULL,
    currency TEXT NOT NULL,
    unit_amount BIGINT,
    recurring_interval TEXT,
    interval_count BIGINT NOT NULL DEFAULT 1,
    trial_period_days BIGINT,
    lookup_key TEXT,
    livemode INTEGER NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX prices_product_id ON prices (product_id);

CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL,
    status TEXT NOT NULL,
    price_id TEXT,
    quantity BIGINT NOT NULL DEFAULT 1,
    cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
    current_period_end BIGINT,
    trial_end BIGINT,
    canceled_at BIGINT,
    ended_at BIGINT,
    created BIGINT NOT NULL,
    livemode INTEGER NOT NULL,
    synced_at BIGINT NOT NULL
);
CREATE INDEX subscriptions_user_id ON subscriptions (user_id);
CREATE INDEX subscriptions_customer_id ON subscriptions (customer_id);

CREATE TABLE invoices (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
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
CREATE INDEX invoices_user_id ON invoices (user_id, created);

-- Written in the same transaction as the event's effects: an event is applied exactly once.
CREATE TABLE stripe_events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    created BIGINT NOT NULL,
    livemode INTEGER NOT NULL,
    received_at BIGINT NOT NULL
);
