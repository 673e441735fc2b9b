use super::UnknownName;
use std::fmt;
use std::str::FromStr;

/// A user's access tier, ordered: a user's role is the highest tier among their subscriptions that
/// grant access. Products name the tier they sell in their `role` metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Free,
    Basic,
    Pro,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Free => "free",
            Role::Basic => "basic",
            Role::Pro => "pro",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Free => "Free",
            Role::Basic => "Basic",
            Role::Pro => "Pro",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Role {
    type Err = UnknownName;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "free" => Ok(Role::Free),
            "basic" => Ok(Role::Basic),
            "pro" => Ok(Role::Pro),
            other => Err(UnknownName::new("role", other)),
        }
    }
}

/// For `#[sqlx(try_from = "String")]` on rows that carry a role column.
impl TryFrom<String> for Role {
    type Error = UnknownName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_unknown_names_are_refused() {
        for role in [Role::Free, Role::Basic, Role::Pro] {
            assert_eq!(role.as_str().parse(), Ok(role));
        }
        assert!("admin".parse::<Role>().is_err());
        assert!(Role::Free < Role::Basic && Role::Basic < Role::Pro);
    }
}
