//! This installation's identity, kept in the database (security review M5/M6): an id that namespaces
//! our Stripe metadata and idempotency keys, and the Stripe mode and account the data came from, so
//! that a database filled in test mode is never served under live keys (or another account's).

use crate::config::StripeMode;
use crate::db::{Database, now_unix};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    pub id: String,
    pub stripe_mode: StripeMode,
    pub stripe_account: Option<String>,
    /// Signs links that open something without an account (a guest's order page).
    pub link_secret: LinkSecret,
}

/// 32 random bytes made at first start and kept in the database (every instance signs and checks
/// with the same); never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkSecret(Vec<u8>);

impl LinkSecret {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// A secret from bytes (tests).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl std::fmt::Debug for LinkSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSecret([redacted])")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InstallationError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(
        "this database holds Stripe {stored} mode data (customers, subscriptions, roles) but \
         STRIPE_SECRET_KEY is a {configured} mode key. Refusing to start, so that nothing from {stored} \
         mode is shown as paid under the other key. Use a new, empty database for {configured} mode \
         (DATABASE_URL), or go back to a {stored} mode key."
    )]
    ModeMismatch {
        stored: &'static str,
        configured: &'static str,
    },
    #[error(
        "this database was filled from Stripe account {stored} but STRIPE_SECRET_KEY belongs to \
         account {configured}. Refusing to go on, so that customers of one account are never bound \
         to the other. Use a new, empty database for this account (DATABASE_URL), or the key of \
         account {stored}."
    )]
    AccountMismatch { stored: String, configured: String },
}

fn mode_name(mode: StripeMode) -> &'static str {
    match mode {
        StripeMode::Test => "test",
        StripeMode::Live => "live",
    }
}

/// 256 random bits, hex.
fn new_link_secret() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl Installation {
    /// The id naming this installation in our Stripe metadata and idempotency keys.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The stored identity, created on first start; refuses a key of the other mode.
    pub async fn load_or_create(
        db: &Database,
        mode: StripeMode,
    ) -> Result<Self, InstallationError> {
        // Two instances starting at once on an empty database: the first insert wins, both read it.
        sqlx::query(
            "INSERT INTO installation (singleton, install_id, stripe_mode, created_at) \
             VALUES (1, $1, $2, $3) ON CONFLICT (singleton) DO NOTHING",
        )
        .bind(uuid::Uuid::new_v4().simple().to_string())
        .bind(mode_name(mode))
        .bind(now_unix())
        .execute(&db.pool)
        .await?;
        // An installation made before issue 22 gets its secret now; the first instance's wins.
        sqlx::query(
            "UPDATE installation SET link_secret = $1 WHERE singleton = 1 AND link_secret IS NULL",
        )
        .bind(new_link_secret())
        .execute(&db.pool)
        .await?;
        let (id, stored_mode, stripe_account, secret) =
            sqlx::query_as::<_, (String, String, Option<String>, Option<String>)>(
                "SELECT install_id, stripe_mode, stripe_account, link_secret FROM installation \
                 WHERE singleton = 1",
            )
            .fetch_one(&db.pool)
            .await?;
        let link_secret = secret
            .as_deref()
            .and_then(|s| hex::decode(s).ok())
            .filter(|b| b.len() == 32)
            .map(LinkSecret)
            .ok_or(InstallationError::Database(sqlx::Error::Protocol(
                "installation.link_secret is not 64 hex digits".into(),
            )))?;
        if stored_mode != mode_name(mode) {
            let other = if mode == StripeMode::Live {
                StripeMode::Test
            } else {
                StripeMode::Live
            };
            return Err(InstallationError::ModeMismatch {
                stored: mode_name(other),
                configured: mode_name(mode),
            });
        }
        Ok(Self {
            id,
            stripe_mode: mode,
            stripe_account,
            link_secret,
        })
    }

    /// Records the Stripe account the key belongs to on first contact; afterwards it must match.
    pub async fn check_account(
        &self,
        db: &Database,
        account: &str,
    ) -> Result<(), InstallationError> {
        sqlx::query(
            "UPDATE installation SET stripe_account = $1 WHERE singleton = 1 AND stripe_account IS NULL",
        )
        .bind(account)
        .execute(&db.pool)
        .await?;
        let stored = sqlx::query_scalar::<_, Option<String>>(
            "SELECT stripe_account FROM installation WHERE singleton = 1",
        )
        .fetch_one(&db.pool)
        .await?;
        match stored {
            Some(stored) if stored != account => Err(InstallationError::AccountMismatch {
                stored,
                configured: account.to_owned(),
            }),
            _ => Ok(()),
        }
    }
}
