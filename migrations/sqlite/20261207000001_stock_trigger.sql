-- Issue 20: the shop's pages are cached (server/page_cache). Every change of a good's stock is
-- announced to every instance's invalidation poll, as changes to users are, so no writer can forget
-- it and a cached "3 left" or "sold out" is stale for no longer than the poll.
CREATE TRIGGER products_stock_changed
AFTER UPDATE OF stock_on_hand, stock_reserved ON products
WHEN NEW.stock_on_hand IS NOT OLD.stock_on_hand OR NEW.stock_reserved IS NOT OLD.stock_reserved
BEGIN
    INSERT INTO cache_invalidations (kind, key, created_at)
    VALUES ('stock', NEW.id, CAST(strftime('%s', 'now') AS INTEGER));
END;
