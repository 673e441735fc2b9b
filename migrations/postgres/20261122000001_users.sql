CREATE TABLE users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'free' CHECK (role IN ('free', 'basic', 'pro')),
    stripe_customer_id TEXT UNIQUE,
    created_at BIGINT NOT NULL
);
