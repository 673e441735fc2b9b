//! Amounts as people read them: integer minor units with the currency's symbol.

/// Currencies without a minor unit (amounts are whole units).
const ZERO_DECIMAL: [&str; 16] = [
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

/// Currencies with three decimals (amounts are thousandths), as Stripe lists them.
const THREE_DECIMAL: [&str; 5] = ["bhd", "jod", "kwd", "omr", "tnd"];

/// `900, "usd"` → `$9.00`; `500, "jpy"` → `¥500`; `1500, "kwd"` → `KWD 1.500`.
pub(crate) fn money(minor: i64, currency: &str) -> String {
    let cur = currency.to_lowercase();
    let symbol = match cur.as_str() {
        "usd" => "$".to_owned(),
        "eur" => "€".to_owned(),
        "gbp" => "£".to_owned(),
        "jpy" => "¥".to_owned(),
        other => format!("{} ", other.to_uppercase()),
    };
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if ZERO_DECIMAL.contains(&cur.as_str()) {
        format!("{sign}{symbol}{abs}")
    } else if THREE_DECIMAL.contains(&cur.as_str()) {
        format!("{sign}{symbol}{}.{:03}", abs / 1000, abs % 1000)
    } else {
        format!("{sign}{symbol}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::money;

    #[test]
    fn minor_units_follow_the_currency() {
        assert_eq!(money(900, "usd"), "$9.00");
        assert_eq!(money(-5, "eur"), "-€0.05");
        assert_eq!(money(500, "JPY"), "¥500");
        assert_eq!(money(1500, "kwd"), "KWD 1.500");
        assert_eq!(money(7, "bhd"), "BHD 0.007");
    }
}
