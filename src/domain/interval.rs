use super::UnknownName;
use std::fmt;
use std::str::FromStr;

/// How often a subscription price renews. Plans are sold monthly or yearly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interval {
    #[default]
    Month,
    Year,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Interval {
    type Err = UnknownName;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "month" => Ok(Interval::Month),
            "year" => Ok(Interval::Year),
            other => Err(UnknownName::new("interval", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_round_trip() {
        for interval in [Interval::Month, Interval::Year] {
            assert_eq!(interval.to_string().parse(), Ok(interval));
        }
        assert!("week".parse::<Interval>().is_err());
    }
}
