-- Issue 11: paying on our own page. payment_flow says how an order is paid:
--   'checkout': Stripe's hosted Checkout (checkout_session_id set when the session is created);
--   'intent':   a PaymentIntent confirmed on /shop/pay with Stripe.js (payment_intent_id set when the
--               intent is created).
-- For both, checkout_expires_at is when the stock reservation ends if the order is still unpaid.
ALTER TABLE orders ADD COLUMN payment_flow TEXT NOT NULL DEFAULT 'checkout';
CREATE INDEX orders_flow ON orders (payment_flow, status, checkout_expires_at);
