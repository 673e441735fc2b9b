-- Issue 21: an erased account's orders and invoices are kept (bookkeeping law) without their buyer,
-- so `user_id` may be NULL.
ALTER TABLE orders ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE invoices ALTER COLUMN user_id DROP NOT NULL;

-- An order without a buyer has no cached pages to forget.
DROP TRIGGER orders_changed ON orders;
CREATE TRIGGER orders_changed
AFTER UPDATE OF status, receipt_url, amount_refunded, checkout_session_id, payment_intent_id, paid_at ON orders
    FOR EACH ROW WHEN (NEW.user_id IS NOT NULL) EXECUTE FUNCTION note_order_change();
