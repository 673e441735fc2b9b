//! Dates as pages and e-mails show them.

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "December 22, 2026" in UTC, from unix seconds. Integer calendar arithmetic (days to civil date,
/// after Howard Hinnant's algorithm), so it needs no date library in either build.
pub fn format_date(unix: i64) -> String {
    let days = unix.div_euclid(86_400) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{} {day}, {year}", MONTHS[(month - 1) as usize])
}

#[cfg(test)]
mod tests {
    use super::format_date;

    #[test]
    fn dates_are_formatted_in_utc() {
        assert_eq!(format_date(0), "January 1, 1970");
        assert_eq!(format_date(1_798_070_400), "December 24, 2026");
        assert_eq!(format_date(951_782_400), "February 29, 2000");
        assert_eq!(format_date(1_709_251_199), "February 29, 2024");
        assert_eq!(format_date(-86_400), "December 31, 1969");
    }
}
