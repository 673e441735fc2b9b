-- Issue 21: verified addresses, single-use links (password reset, address verification) and the list
-- of a user's signed-in sessions.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

-- A link's token is stored only as its SHA-256; `email` is the address the link was mailed to (for a
-- change of address, the new one, applied when its link is followed); `next_path` is where a
-- verification link continues to. Single use: `used_at` is set by the one UPDATE that takes it.
CREATE TABLE account_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('reset_password', 'verify_email')),
    token_hash TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    next_path TEXT,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

-- Which stored sessions are signed in as whom (the session store writes it beside tower_sessions, whose
-- data is opaque), for the account page's list and "sign out everywhere else".
CREATE TABLE user_sessions (
    session_id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    signed_in_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);

-- Pages show whether the address is verified, so its change must reach every instance's cache.
DROP TRIGGER IF EXISTS users_changed;
CREATE TRIGGER users_changed AFTER UPDATE OF email, role, access_until, email_verified_at ON users
BEGIN
    INSERT INTO cache_invalidations (kind, key, created_at)
    VALUES ('user', CAST(NEW.id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;
