-- The order sweep looks at each stale order on its own schedule (security review 2, M3): an order it
-- could not settle (Stripe failing for it, a payment still settling) is looked at again after a
-- doubling pause, so it can neither stop the sweep nor keep newer stale orders from being reached.
ALTER TABLE orders ADD COLUMN sweep_after BIGINT;
ALTER TABLE orders ADD COLUMN sweep_looks INTEGER NOT NULL DEFAULT 0;
