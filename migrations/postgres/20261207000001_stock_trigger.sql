-- Issue 20: the shop's pages are cached (server/page_cache). Every change of a good's stock is
-- announced to every instance's invalidation poll, as changes to users are, so no writer can forget
-- it and a cached "3 left" or "sold out" is stale for no longer than the poll.
CREATE FUNCTION note_stock_change() RETURNS trigger AS $$
BEGIN
    INSERT INTO cache_invalidations (kind, key, created_at)
    VALUES ('stock', NEW.id, CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER products_stock_changed
AFTER UPDATE OF stock_on_hand, stock_reserved ON products
    FOR EACH ROW
    WHEN (NEW.stock_on_hand IS DISTINCT FROM OLD.stock_on_hand
          OR NEW.stock_reserved IS DISTINCT FROM OLD.stock_reserved)
    EXECUTE FUNCTION note_stock_change();
