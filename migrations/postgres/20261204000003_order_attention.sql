-- Why an order needs the operator (security review 2, L2), or NULL: Stripe's state cannot be reached
-- from ours (paid at Stripe after we ended the order; a refund that failed after we counted it), or
-- Stripe charged another amount or currency than the order's. The order is left as it was, and the
-- operator console (and the log, at error level) says what happened.
ALTER TABLE orders ADD COLUMN attention TEXT;
