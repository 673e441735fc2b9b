-- Issue 9: instances cache sessions and users in memory. Every change that must reach the other
-- instances' caches is written here, and each instance reads the recent rows twice a second.
-- kind 'user': key is the user id (written by the trigger below, so no write to users is missed);
-- kind 'session': key is a session id that was deleted (sign-out, a new id at sign-in, the cap).
CREATE TABLE cache_invalidations (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX cache_invalidations_created_at ON cache_invalidations (created_at);

CREATE FUNCTION note_user_change() RETURNS trigger AS $$
BEGIN
    INSERT INTO cache_invalidations (kind, key, created_at)
    VALUES ('user', CAST(COALESCE(NEW.id, OLD.id) AS TEXT), CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER users_changed AFTER UPDATE OF email, role, access_until ON users
    FOR EACH ROW EXECUTE FUNCTION note_user_change();
CREATE TRIGGER users_deleted AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION note_user_change();
