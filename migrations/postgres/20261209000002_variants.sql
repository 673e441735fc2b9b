-- Issue 22: a good can have options (the hoodie's sizes), each its own Stripe price with its own
-- stock. Stock moves from products to prices: every order line names its price, and the same
-- conditional UPDATEs (... WHERE stock_on_hand - stock_reserved >= n) now guard each option.
-- A product's metadata `stock` (no options) seeds its prices; a price's own `stock` wins.
ALTER TABLE products ADD COLUMN option_name TEXT;
ALTER TABLE products ADD COLUMN initial_stock BIGINT;
ALTER TABLE prices ADD COLUMN option_label TEXT;
ALTER TABLE prices ADD COLUMN sort_order BIGINT NOT NULL DEFAULT 0;
ALTER TABLE prices ADD COLUMN stock_on_hand BIGINT NOT NULL DEFAULT 0;
ALTER TABLE prices ADD COLUMN stock_reserved BIGINT NOT NULL DEFAULT 0;
ALTER TABLE prices ADD COLUMN stock_seeded INTEGER NOT NULL DEFAULT 0;

-- Until now a good was sold at its one-time prices' cheapest only; its stock goes to each of its
-- one-time prices (the others were never on sale, so nothing was reserved on them).
UPDATE prices SET
    stock_on_hand = (SELECT p.stock_on_hand FROM products p WHERE p.id = prices.product_id),
    stock_reserved = (SELECT p.stock_reserved FROM products p WHERE p.id = prices.product_id),
    stock_seeded = (SELECT p.stock_seeded FROM products p WHERE p.id = prices.product_id)
WHERE recurring_interval IS NULL
  AND product_id IN (SELECT id FROM products WHERE kind = 'goods');

DROP TRIGGER products_stock_changed ON products;

ALTER TABLE products DROP COLUMN stock_on_hand;
ALTER TABLE products DROP COLUMN stock_reserved;
ALTER TABLE products DROP COLUMN stock_seeded;

-- Every change of an option's stock is announced to every instance's page caches (issue 20).
CREATE TRIGGER prices_stock_changed
AFTER UPDATE OF stock_on_hand, stock_reserved ON prices
    FOR EACH ROW
    WHEN (NEW.stock_on_hand IS DISTINCT FROM OLD.stock_on_hand
          OR NEW.stock_reserved IS DISTINCT FROM OLD.stock_reserved)
    EXECUTE FUNCTION note_stock_change();
