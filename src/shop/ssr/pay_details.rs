//! What the buyer enters on our pay page (issue 22): where to send the order, the rate, and a
//! promotion code, kept in the session as entered and checked again at every quote.

use super::SessionCart;
use crate::domain::ShippingAddress;
use crate::error::AppResult;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const DETAILS_KEY: &str = "pay_details";

/// What the buyer entered on the pay page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayDetails {
    pub name: String,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub postal_code: String,
    pub country: String,
    /// The chosen rate's name; the first offered when empty.
    pub rate: String,
    pub code: String,
}

impl PayDetails {
    pub fn address(&self) -> Option<ShippingAddress> {
        let filled = [
            &self.name,
            &self.line1,
            &self.city,
            &self.postal_code,
            &self.country,
        ]
        .iter()
        .all(|f| !f.trim().is_empty());
        filled.then(|| ShippingAddress {
            name: self.name.trim().to_owned(),
            line1: self.line1.trim().to_owned(),
            line2: Some(self.line2.trim().to_owned()).filter(|l| !l.is_empty()),
            city: self.city.trim().to_owned(),
            state: None,
            postal_code: self.postal_code.trim().to_owned(),
            country: self.country.trim().to_ascii_uppercase(),
        })
    }

    /// Names these details in the cart's version: a change is another price.
    pub fn fingerprint(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        hex::encode(&Sha256::digest(text.as_bytes())[..8])
    }
}

impl SessionCart {
    pub async fn pay_details(&self) -> PayDetails {
        self.session()
            .get::<PayDetails>(DETAILS_KEY)
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    pub async fn save_pay_details(&self, details: &PayDetails) -> AppResult<()> {
        self.session().insert(DETAILS_KEY, details).await?;
        Ok(())
    }
}
