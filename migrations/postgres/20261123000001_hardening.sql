-- Security review M3/L4: bumped by every write of a customer's billing state. A sync remembers the
-- generation before it reads Stripe and writes only if it is unchanged, so no lock is held while
-- Stripe answers and an older read can never overwrite a newer one.
ALTER TABLE users ADD COLUMN billing_generation BIGINT NOT NULL DEFAULT 0;
-- M2 and issue 9: when the last committed sync began reading Stripe. The success page reuses a fresh sync,
-- and an event created before it (with a clock margin) is already reflected, so it costs no read.
ALTER TABLE users ADD COLUMN billing_synced_at BIGINT;
-- Issue 9: the customer's subscriptions run on a Stripe test clock, whose events carry simulated
-- timestamps; for them an event's age says nothing, so each event gets its own sync.
ALTER TABLE users ADD COLUMN billing_on_test_clock INTEGER NOT NULL DEFAULT 0;
-- M4: the stored role grants access until then (NULL: the role is free, or has no end); reads
-- treat a role past this time as free, and reconciliation re-reads such customers from Stripe.
ALTER TABLE users ADD COLUMN access_until BIGINT;
-- Paid roles granted before this column existed get a day, in which reconciliation re-reads them.
UPDATE users SET access_until = CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) + 86400 WHERE role <> 'free';

-- M4: the start of the current period, from which past_due's grace period is counted.
ALTER TABLE subscriptions ADD COLUMN current_period_start BIGINT;

-- M2: the Checkout Sessions this app created, so the success page answers unknown ids locally.
CREATE TABLE checkout_sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

-- M5/M6: one row: this installation's id (namespaces our Stripe metadata and idempotency keys) and
-- the Stripe mode and account the data came from.
CREATE TABLE installation (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    install_id TEXT NOT NULL,
    stripe_mode TEXT NOT NULL CHECK (stripe_mode IN ('test', 'live')),
    stripe_account TEXT,
    -- L5: bumped by every catalog write; like billing_generation, a catalog write happens only if
    -- nobody wrote since its Stripe read began, which orders catalog writers across instances.
    catalog_generation BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- Retention: old events are deleted by received_at.
CREATE INDEX stripe_events_received_at ON stripe_events (received_at);
