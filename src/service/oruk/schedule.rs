//! Opening hours between OpenStreetMap's `opening_hours` text and HSDS schedules (the
//! weekly subset of RFC 5545 that Open Referral uses: `freq`, `byday`, `opens_at`,
//! `closes_at`).
//!
//! Out: text made of weekly rules (`Mo-Fr 09:00-17:00; Sa 10:00-12:00; Su off; PH off`)
//! becomes one schedule per opening time and set of days; anything else (months, dates,
//! "every other week") is published as one schedule whose `description` holds the text.
//! In: weekly schedules become such rules again, so our own feed reads back as it was.

const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
const BYDAY: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
/// What the schedules say about bank holidays when the text closes on them.
pub const CLOSED_ON_BANK_HOLIDAYS: &str = "Closed on bank holidays";

/// Opening times of a day, `("09:00", "12:00")`.
type Times = Vec<(String, String)>;

/// One weekly opening: these days (Monday = 0), from `opens` to `closes` ("HH:MM").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Weekly {
    pub days: Vec<usize>,
    pub opens: String,
    pub closes: String,
}

/// Opening hours as Open Referral can say them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedules {
    /// Weekly openings (in the order of their first day), and whether bank holidays
    /// are closed.
    Weekly {
        openings: Vec<Weekly>,
        closed_on_bank_holidays: bool,
    },
    /// Text that has no weekly form: published as a description.
    Text(String),
}

fn day(text: &str) -> Option<usize> {
    DAYS.iter().position(|d| *d == text)
}

fn days(text: &str) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    for part in text.split(',') {
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (day(from)?, day(to)?);
                // Sa-Mo wraps round the week
                let mut d = from;
                loop {
                    out.push(d);
                    if d == to {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => out.push(day(part)?),
        }
    }
    Some(out)
}

fn clock(text: &str) -> Option<(u32, u32)> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
    (h <= 24 && m < 60 && (h < 24 || m == 0)).then_some((h, m))
}

fn ranges(text: &str) -> Option<Times> {
    text.split(',')
        .map(|r| {
            let (a, b) = r.split_once('-')?;
            let (ta, tb) = (clock(a)?, clock(b)?);
            // an opening that runs past midnight is not a simple weekly rule
            (ta < tb).then(|| (a.to_owned(), b.to_owned()))
        })
        .collect()
}

/// The weekly form of OSM `opening_hours` text, or the text itself.
pub fn from_osm(text: &str) -> Schedules {
    weekly(text).unwrap_or_else(|| Schedules::Text(text.to_owned()))
}

fn weekly(text: &str) -> Option<Schedules> {
    // what each day holds after every rule (a later rule for a day replaces an earlier
    // one, as in OSM)
    let mut week: [Option<Times>; 7] = Default::default();
    let mut closed_on_bank_holidays = false;
    for rule in text.split(';').map(str::trim).filter(|r| !r.is_empty()) {
        if rule == "24/7" {
            for d in &mut week {
                *d = Some(vec![("00:00".to_owned(), "24:00".to_owned())]);
            }
            continue;
        }
        let (selector, times) = rule.split_once(' ')?;
        let times = times.trim();
        if selector == "PH" {
            if matches!(times, "off" | "closed") {
                closed_on_bank_holidays = true;
                continue;
            }
            return None;
        }
        let days = days(selector)?;
        let opening = if matches!(times, "off" | "closed") {
            Vec::new()
        } else {
            ranges(times)?
        };
        for d in days {
            week[d] = Some(opening.clone());
        }
    }
    // days with the same hours share schedules
    let mut openings: Vec<Weekly> = Vec::new();
    let mut grouped: Vec<(Times, Vec<usize>)> = Vec::new();
    for (d, hours) in week.iter().enumerate() {
        let Some(hours) = hours.as_ref().filter(|h| !h.is_empty()) else {
            continue;
        };
        match grouped.iter_mut().find(|(h, _)| h == hours) {
            Some((_, days)) => days.push(d),
            None => grouped.push((hours.clone(), vec![d])),
        }
    }
    for (hours, days) in grouped {
        for (opens, closes) in hours {
            openings.push(Weekly {
                days: days.clone(),
                opens,
                closes,
            });
        }
    }
    if openings.is_empty() {
        return None;
    }
    Some(Schedules::Weekly {
        openings,
        closed_on_bank_holidays,
    })
}

/// `MO,TU,WE` for RFC 5545's `byday`.
pub fn byday(days: &[usize]) -> String {
    days.iter()
        .filter_map(|d| BYDAY.get(*d).copied())
        .collect::<Vec<_>>()
        .join(",")
}

/// Days from a `byday` (`MO,TU`; a monthly occurrence such as `2MO` is not weekly:
/// None).
pub fn parse_byday(text: &str) -> Option<Vec<usize>> {
    text.split(',')
        .map(|d| BYDAY.iter().position(|b| b.eq_ignore_ascii_case(d.trim())))
        .collect()
}

/// `Mo-Fr`, `Mo,We,Fr`, `Sa,Su`: consecutive days as ranges.
fn osm_days(days: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < days.len() {
        let mut j = i;
        while j + 1 < days.len() && days[j + 1] == days[j] + 1 {
            j += 1;
        }
        parts.push(if j >= i + 2 {
            format!("{}-{}", DAYS[days[i]], DAYS[days[j]])
        } else if j == i + 1 {
            format!("{},{}", DAYS[days[i]], DAYS[days[j]])
        } else {
            DAYS[days[i]].to_owned()
        });
        i = j + 1;
    }
    parts.join(",")
}

/// `HH:MM` from an HSDS time (`09:00`, `09:00:00`, `09:00:00Z`, `09:00+01:00`).
pub fn hhmm(time: &str) -> Option<String> {
    let t = time.get(..5)?;
    clock(t).map(|_| t.to_owned())
}

/// OSM `opening_hours` text for weekly openings.
pub fn to_osm(openings: &[Weekly], closed_on_bank_holidays: bool) -> Option<String> {
    let mut week: [Times; 7] = Default::default();
    for o in openings {
        for d in &o.days {
            if let Some(day) = week.get_mut(*d) {
                day.push((o.opens.clone(), o.closes.clone()));
            }
        }
    }
    for day in &mut week {
        day.sort();
        day.dedup();
    }
    let mut groups: Vec<(Times, Vec<usize>)> = Vec::new();
    for (d, hours) in week.iter().enumerate() {
        if hours.is_empty() {
            continue;
        }
        match groups.iter_mut().find(|(h, _)| h == hours) {
            Some((_, days)) => days.push(d),
            None => groups.push((hours.clone(), vec![d])),
        }
    }
    if groups.is_empty() {
        return None;
    }
    let mut rules: Vec<String> = groups
        .iter()
        .map(|(hours, days)| {
            let times: Vec<String> = hours.iter().map(|(a, b)| format!("{a}-{b}")).collect();
            format!("{} {}", osm_days(days), times.join(","))
        })
        .collect();
    if closed_on_bank_holidays {
        rules.push("PH off".to_owned());
    }
    Some(rules.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        match from_osm(text) {
            Schedules::Weekly {
                openings,
                closed_on_bank_holidays,
            } => to_osm(&openings, closed_on_bank_holidays).unwrap_or_default(),
            Schedules::Text(t) => t,
        }
    }

    #[test]
    fn weekly_rules_become_schedules_and_come_back() {
        let Schedules::Weekly {
            openings,
            closed_on_bank_holidays,
        } = from_osm("Mo-Fr 09:00-12:00,13:00-17:00; Sa 10:00-12:00; PH off")
        else {
            panic!("weekly")
        };
        assert!(closed_on_bank_holidays);
        assert_eq!(openings.len(), 3);
        assert_eq!(byday(&openings[0].days), "MO,TU,WE,TH,FR");
        assert_eq!(
            (openings[0].opens.as_str(), openings[0].closes.as_str()),
            ("09:00", "12:00")
        );
        assert_eq!(byday(&openings[2].days), "SA");
        for text in [
            "Mo-Fr 09:00-12:00,13:00-17:00; Sa 10:00-12:00; PH off",
            "Tu,Th 10:00-12:00",
            "Mo-Su 00:00-24:00",
            "Mo,We,Fr 08:30-13:00,14:00-17:30; Sa 09:00-12:00",
        ] {
            assert_eq!(round_trip(text), text);
        }
        // a later rule replaces an earlier one for its days
        assert_eq!(
            round_trip("Mo-Fr 09:00-17:00; We off"),
            "Mo,Tu,Th,Fr 09:00-17:00"
        );
    }

    #[test]
    fn what_has_no_weekly_form_stays_text() {
        for text in [
            "Mo-Fr 09:00-17:00; Dec 25 off",
            "Mo[1] 10:00-12:00",
            "Mo 22:00-02:00",
            "off",
        ] {
            assert_eq!(from_osm(text), Schedules::Text(text.to_owned()), "{text}");
        }
        assert_eq!(hhmm("09:30:00Z").as_deref(), Some("09:30"));
        assert_eq!(hhmm("9:30"), None);
        assert_eq!(parse_byday("MO, fr"), Some(vec![0, 4]));
        assert_eq!(parse_byday("2MO"), None);
    }
}
