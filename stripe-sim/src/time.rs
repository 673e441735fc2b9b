//! Calendar arithmetic on unix seconds (UTC) without a date crate: billing periods advance by
//! calendar months, and hosted pages show dates.

/// Seconds in a day (billing days, trials and retry schedules count in these).
pub(crate) const DAY: i64 = 86_400;

/// Days since 1970-01-01 → (year, month 1-12, day 1-31). Howard Hinnant's civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Adds calendar months, clamping the day to the target month's length (Jan 31 → Feb 28).
pub(crate) fn add_months(ts: i64, months: i64) -> i64 {
    let days = ts.div_euclid(DAY);
    let secs = ts.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    let total = y * 12 + i64::from(m) - 1 + months;
    let ny = total.div_euclid(12);
    let nm = u32::try_from(total.rem_euclid(12) + 1).unwrap_or(1);
    let nd = d.min(days_in_month(ny, nm));
    days_from_civil(ny, nm, nd) * DAY + secs
}

/// (year, month 1-12) of a unix time, for card expiry checks.
pub(crate) fn year_month(ts: i64) -> (i64, i64) {
    let (y, m, _) = civil_from_days(ts.div_euclid(DAY));
    (y, i64::from(m))
}

/// `2026-03-14` style date for pages.
pub(crate) fn date(ts: i64) -> String {
    let (y, m, d) = civil_from_days(ts.div_euclid(DAY));
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let name = NAMES
        .get(usize::try_from(m).unwrap_or(1).saturating_sub(1))
        .unwrap_or(&"Jan");
    format!("{name} {d}, {y}")
}

pub(crate) fn wall_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_clamp_and_roll_years() {
        // 2024-01-31T10:00:00Z
        let jan31 = days_from_civil(2024, 1, 31) * DAY + 36_000;
        let feb = add_months(jan31, 1);
        assert_eq!(civil_from_days(feb / DAY), (2024, 2, 29));
        assert_eq!(feb % DAY, 36_000);
        let next_year = add_months(jan31, 12);
        assert_eq!(civil_from_days(next_year / DAY), (2025, 1, 31));
        assert_eq!(date(0), "Jan 1, 1970");
    }
}
