-- The mail outbox (src/mail): a mail is written here in the transaction of the change that causes it,
-- so a rollback drops it too, and a worker on each instance sends it over SMTP.
-- dedupe_key names the occasion (receipt:order:42): a second insert for it is a no-op, so each
-- occasion gets at most one row. message_id is fixed at insert, so a mail sent twice (SMTP accepted
-- it but marking it sent failed) carries the same Message-ID both times.
-- A worker claims a due row by setting lease_until (and counting the attempt) in one conditional
-- UPDATE; a row whose lease has run out is due again. Times are unix seconds.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    message_id TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_error TEXT,
    sent_at BIGINT,
    created_at BIGINT NOT NULL
);
-- The worker's scan: unsent rows by due time (sent rows drop out of the index).
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
