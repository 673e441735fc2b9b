//! The session as this app uses it: who is signed in. The only code that knows the session's keys.

use crate::domain::UserId;
use crate::error::{AppError, AppResult};
use tower_sessions::Session;

const USER_ID_KEY: &str = "user_id";

pub struct UserSession(Session);

impl UserSession {
    pub fn new(session: Session) -> Self {
        Self(session)
    }

    /// The session of the request a server function is handling.
    pub async fn of_request() -> AppResult<Self> {
        leptos_axum::extract::<Session>()
            .await
            .map(Self)
            .map_err(|e| AppError::Internal(format!("no session layer: {e}")))
    }

    pub async fn user_id(&self) -> AppResult<Option<UserId>> {
        Ok(self.0.get::<i64>(USER_ID_KEY).await?.map(UserId::new))
    }

    /// A new session id at every sign-in, so an id planted before sign-in is worthless (session
    /// fixation).
    pub async fn sign_in(&self, user_id: UserId) -> AppResult<()> {
        self.0.cycle_id().await?;
        self.0.insert(USER_ID_KEY, user_id.get()).await?;
        Ok(())
    }

    /// Deletes the session from the store and the cookie from the browser.
    pub async fn end(&self) -> AppResult<()> {
        Ok(self.0.flush().await?)
    }
}
