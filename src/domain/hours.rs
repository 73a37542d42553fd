//! Opening hours in OpenStreetMap's `opening_hours` syntax, evaluated with the
//! `opening-hours` crate in the Europe/London time zone, with the public holidays of
//! England and Wales (`PH`).
//!
//! The crate's United Kingdom calendar holds the holidays every nation shares (Good
//! Friday, the May bank holidays, Christmas, Boxing Day and one-off holidays such as
//! coronations), with substitute days. England and Wales add New Year's Day (or the
//! Monday after), Easter Monday and the summer bank holiday (the last Monday of August);
//! those three follow fixed rules and are added here. Scotland's and Northern Ireland's
//! own holidays are not England's and are left out.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Europe::London;
use chrono_tz::Tz;
use compact_calendar::CompactCalendar;
use opening_hours::localization::{Country, TzLocation};
use opening_hours::{Context, ContextHolidays, OpeningHours};

use crate::error::{AppError, AppResult};

/// The longest opening-hours text accepted.
pub const MAX_CHARS: usize = 500;
/// How far ahead `next_open` looks.
pub const HORIZON_DAYS: i64 = 366;

type Localized = OpeningHours<TzLocation<Tz>>;

/// Easter Sunday in the Gregorian calendar (the anonymous algorithm).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// The bank holidays England and Wales have on top of the United Kingdom's shared ones.
pub fn england_and_wales_only(year: i32) -> Vec<NaiveDate> {
    let mut days = Vec::new();
    if let Some(new_year) = NaiveDate::from_ymd_opt(year, 1, 1) {
        days.push(match new_year.weekday() {
            Weekday::Sat => new_year + Duration::days(2),
            Weekday::Sun => new_year + Duration::days(1),
            _ => new_year,
        });
    }
    if let Some(easter) = easter_sunday(year) {
        days.push(easter + Duration::days(1));
    }
    if let Some(end_of_august) = NaiveDate::from_ymd_opt(year, 8, 31) {
        let back = i64::from(end_of_august.weekday().num_days_from_monday());
        days.push(end_of_august - Duration::days(back));
    }
    days
}

static HOLIDAYS: LazyLock<ContextHolidays> = LazyLock::new(|| {
    let shared = Country::GB.holidays();
    let mut public: CompactCalendar = shared.get_public().clone();
    for year in 2000..=2100 {
        for day in england_and_wales_only(year) {
            public.insert(day);
        }
    }
    ContextHolidays::new(Arc::new(public), Arc::new(shared.get_school().clone()))
});

/// Whether `date` is a public holiday in England and Wales.
pub fn is_bank_holiday(date: NaiveDate) -> bool {
    HOLIDAYS.get_public().contains(date)
}

/// Years a time asked about may fall in: the span of the holiday calendar.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2099;

/// Checks a time to evaluate hours at.
pub fn check_time(field: &'static str, at: DateTime<Utc>) -> AppResult<DateTime<Utc>> {
    if YEARS.contains(&at.year()) {
        Ok(at)
    } else {
        Err(AppError::invalid(
            field,
            format!(
                "{field} must fall between {} and {}",
                YEARS.start(),
                YEARS.end()
            ),
        ))
    }
}

/// Opening hours that parsed, ready to evaluate in Europe/London.
#[derive(Clone)]
pub struct Hours {
    text: String,
    parsed: Localized,
}

impl std::fmt::Debug for Hours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Hours").field(&self.text).finish()
    }
}

impl PartialEq for Hours {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl serde::Serialize for Hours {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Hours {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

impl Hours {
    /// Parses OSM `opening_hours` text, e.g. `Mo-Fr 09:00-12:00,13:00-17:00; PH off`.
    pub fn parse(text: &str) -> AppResult<Self> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_CHARS {
            return Err(AppError::invalid(
                "openingHours",
                format!(
                    "openingHours is 1 to {MAX_CHARS} characters of OpenStreetMap opening_hours syntax"
                ),
            ));
        }
        let parsed: OpeningHours = text.parse().map_err(|e: <OpeningHours as std::str::FromStr>::Err| {
            let detail: String = e.to_string().chars().take(300).collect();
            AppError::invalid(
                "openingHours",
                format!(
                    "openingHours is not valid OpenStreetMap opening_hours syntax (e.g. \"Mo-Fr 09:00-17:00; Sa 10:00-12:00; PH off\"): {detail}"
                ),
            )
        })?;
        let context = Context::default()
            .with_holidays(HOLIDAYS.clone())
            .with_locale(TzLocation::new(London));
        Ok(Self {
            text: text.to_owned(),
            parsed: parsed.with_context(context),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Open at this instant (false when closed or unknown).
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        self.parsed.is_open(at.with_timezone(&London))
    }

    /// The first instant at or after `after` when it is open, within a year; None if it
    /// does not open in that time.
    pub fn next_open(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let horizon = after + Duration::days(HORIZON_DAYS);
        let mut t = after.with_timezone(&London);
        for _ in 0..10_000 {
            if self.parsed.is_open(t) {
                return Some(t.with_timezone(&Utc));
            }
            let next = self.parsed.next_change(t)?;
            if next <= t || next.with_timezone(&Utc) > horizon {
                return None;
            }
            t = next;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn london(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        London
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn england_and_wales_bank_holidays() {
        for (y, m, d) in [
            (2026, 1, 1),
            (2026, 4, 3),  // Good Friday
            (2026, 4, 6),  // Easter Monday
            (2026, 5, 4),  // early May
            (2026, 5, 25), // spring
            (2026, 8, 31), // summer
            (2026, 12, 25),
            (2026, 12, 28), // Boxing Day falls on a Saturday: Monday instead
            (2027, 1, 1),
            (2022, 1, 3), // New Year's Day on a Saturday
            (2023, 5, 8), // the coronation
        ] {
            let day = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
            assert!(is_bank_holiday(day), "{day} should be a bank holiday");
        }
        for (y, m, d) in [
            (2026, 1, 2),
            (2026, 3, 17),
            (2026, 7, 13),
            (2026, 8, 3),
            (2026, 11, 30),
        ] {
            let day = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
            assert!(
                !is_bank_holiday(day),
                "{day} is not a bank holiday in England"
            );
        }
        assert_eq!(easter_sunday(2025), NaiveDate::from_ymd_opt(2025, 4, 20));
        assert_eq!(easter_sunday(2027), NaiveDate::from_ymd_opt(2027, 3, 28));
    }

    #[test]
    fn sessions_midnight_holidays_and_time_zone() {
        let h = Hours::parse("Mo-Fr 09:30-12:00,13:30-16:00; PH off")
            .unwrap_or_else(|e| panic!("{e:?}"));
        // two sessions a day, in London time across the clock change
        assert!(h.is_open(london(2026, 11, 23, 10, 0)));
        assert!(!h.is_open(london(2026, 11, 23, 12, 30)));
        assert!(h.is_open(london(2026, 7, 1, 15, 0)));
        assert!(!h.is_open(london(2026, 7, 1, 16, 30)));
        // the summer bank holiday
        assert!(!h.is_open(london(2026, 8, 31, 10, 0)));
        assert_eq!(
            h.next_open(london(2026, 8, 31, 10, 0)),
            Some(london(2026, 9, 1, 9, 30))
        );
        assert_eq!(
            h.next_open(london(2026, 11, 23, 12, 30)),
            Some(london(2026, 11, 23, 13, 30))
        );
        // past midnight
        let late = Hours::parse("Fr-Sa 20:00-02:00").unwrap_or_else(|e| panic!("{e:?}"));
        assert!(late.is_open(london(2026, 11, 28, 1, 30))); // early Saturday, from Friday
        assert!(!late.is_open(london(2026, 11, 28, 3, 0)));
        assert!(!late.is_open(london(2026, 11, 30, 1, 0))); // early Monday: Sunday was shut
        assert!(Hours::parse("Mo-Fr 9-5 whenever").is_err());
        assert!(Hours::parse("").is_err());
        assert_eq!(
            Hours::parse("off")
                .ok()
                .and_then(|h| h.next_open(london(2026, 1, 1, 0, 0))),
            None
        );
    }
}
