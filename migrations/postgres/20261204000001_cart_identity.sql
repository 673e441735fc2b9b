-- A cart's identity and one open order per buyer (docs/RELIABILITY.md, security review 2: M2, H2, L9).
-- cart_id: the random id a cart gets with its first item; every order records the cart it was made
-- from, so once any order of a cart is paid, the cart is known to be bought (on every instance).
ALTER TABLE orders ADD COLUMN cart_id TEXT;
CREATE INDEX orders_cart_id ON orders (cart_id) WHERE cart_id IS NOT NULL;

-- One pending order per buyer, enforced by the database, so one account holds at most one order's
-- stock and a double submit cannot make two orders. Orders older than a buyer's newest pending one
-- end first (expired, their stock released); were one of them paid at Stripe after all, its sync
-- reports the payment of an ended order to the operator (RELIABILITY.md, L2).
UPDATE products SET stock_reserved = stock_reserved - (
    SELECT COALESCE(SUM(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
    WHERE i.product_id = products.id AND o.status = 'pending' AND EXISTS (
        SELECT 1 FROM orders newer WHERE newer.user_id = o.user_id AND newer.status = 'pending'
        AND newer.id > o.id));
UPDATE orders SET status = 'expired' WHERE status = 'pending' AND EXISTS (
    SELECT 1 FROM orders newer WHERE newer.user_id = orders.user_id AND newer.status = 'pending'
    AND newer.id > orders.id);
CREATE UNIQUE INDEX orders_one_pending_per_buyer ON orders (user_id) WHERE status = 'pending';
