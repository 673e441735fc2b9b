//! Money as integer minor units with its currency. Formatting never goes through floats.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    /// Minor units (cents for USD; whole yen for JPY).
    pub amount: i64,
    /// Lower-case ISO 4217 code, as Stripe sends it.
    pub currency: String,
}

/// Currencies Stripe treats as having no minor unit.
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

/// Currencies Stripe counts in thousandths.
const THREE_DECIMAL: &[&str] = &["bhd", "jod", "kwd", "omr", "tnd"];

impl Money {
    pub fn new(amount: i64, currency: impl Into<String>) -> Self {
        Self {
            amount,
            currency: currency.into().to_lowercase(),
        }
    }

    fn minor_digits(&self) -> u32 {
        let currency = self.currency.as_str();
        if ZERO_DECIMAL.contains(&currency) {
            0
        } else if THREE_DECIMAL.contains(&currency) {
            3
        } else {
            2
        }
    }

    /// "$9", "$9.50", "€290", "1,000 CHF". Whole amounts drop the ".00", as pricing pages do.
    pub fn format(&self) -> String {
        let digits = self.minor_digits();
        let scale = 10_i64.pow(digits);
        let negative = self.amount < 0;
        let abs = self.amount.unsigned_abs();
        let whole = abs / scale as u64;
        let fraction = abs % scale as u64;
        let mut number = group_thousands(whole);
        if fraction != 0 {
            number = format!("{number}.{fraction:0width$}", width = digits as usize);
        }
        let sign = if negative { "-" } else { "" };
        match self.currency.as_str() {
            "usd" => format!("{sign}${number}"),
            "eur" => format!("{sign}€{number}"),
            "gbp" => format!("{sign}£{number}"),
            "jpy" => format!("{sign}¥{number}"),
            other => format!("{sign}{number} {}", other.to_uppercase()),
        }
    }
}

fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_minor_units_exactly() {
        assert_eq!(Money::new(900, "usd").format(), "$9");
        assert_eq!(Money::new(950, "USD").format(), "$9.50");
        assert_eq!(Money::new(905, "usd").format(), "$9.05");
        assert_eq!(Money::new(29000, "eur").format(), "€290");
        assert_eq!(Money::new(123456789, "usd").format(), "$1,234,567.89");
        assert_eq!(Money::new(1500, "jpy").format(), "¥1,500");
        assert_eq!(Money::new(100000, "chf").format(), "1,000 CHF");
        assert_eq!(Money::new(-250, "usd").format(), "-$2.50");
    }

    /// Security review L17: three-decimal currencies were shown at 10x their price.
    #[test]
    fn l17_three_decimal_currencies() {
        assert_eq!(Money::new(5124, "kwd").format(), "5.124 KWD");
        assert_eq!(Money::new(10000, "bhd").format(), "10 BHD");
        assert_eq!(Money::new(10050, "jod").format(), "10.050 JOD");
    }
}
