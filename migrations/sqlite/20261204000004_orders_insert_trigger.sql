-- A new order empties its buyer's signed-in pages on every instance too (security review 2, L6: only
-- updates were announced, so another instance's cached dashboard missed a new pending order).
CREATE TRIGGER orders_created
AFTER INSERT ON orders WHEN NEW.user_id IS NOT NULL
BEGIN
    INSERT INTO cache_invalidations (kind, key, created_at)
    VALUES ('user', CAST(NEW.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;
