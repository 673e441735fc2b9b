//! A handle for code that changes what a user's pages show (billing's sync, the shop's orders): it
//! forgets the user's cached state and signed-in pages on this instance at once. Other instances
//! learn it from the database triggers (`cache_invalidations`), so no writer can forget them.

use super::AuthCache;
use crate::domain::UserId;
use std::sync::Arc;

#[derive(Clone)]
pub struct UserPages(Arc<AuthCache>);

impl UserPages {
    pub fn new(cache: Arc<AuthCache>) -> Self {
        Self(cache)
    }

    /// The user's cached row and pages on this instance are stale now.
    pub fn forget(&self, user_id: UserId) {
        self.0.forget_user(user_id);
    }

    /// A good's stock changed: every cached page showing stock is stale on this instance at once.
    pub fn forget_stock(&self) {
        self.0.forget_stock();
    }
}
