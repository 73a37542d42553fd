//! Why a search result matched, in words a link worker can pass on: one reason for each
//! thing the search asked for that the asset has.

use chrono::{DateTime, Utc};

use crate::domain::AssetFilter;
use crate::domain::listing::AgeRange;
use crate::domain::search::search_words;

/// What a reason is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReasonKind {
    Distance,
    Category,
    Open,
    Accessibility,
    Free,
    Age,
    Verified,
    Text,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub kind: ReasonKind,
    pub detail: String,
}

/// What the reasons need to know of the asset.
#[derive(Clone, Copy, Debug, Default)]
pub struct Facts<'a> {
    /// Metres from the search point or shape; None for a viewport.
    pub distance: Option<f64>,
    /// Names of the asset's categories that the search asked for.
    pub matched_categories: &'a [String],
    pub has_hours: bool,
    pub ages: AgeRange,
    pub last_verified_at: Option<DateTime<Utc>>,
}

/// A distance as a person says it: "here", "40 m away", "1.2 km away".
pub fn distance_words(meters: f64) -> String {
    if meters < 1.0 {
        "here: the search point is inside it".to_owned()
    } else if meters < 1_000.0 {
        format!("{} m away", (meters / 10.0).round() * 10.0)
    } else {
        format!("{:.1} km away", meters / 1_000.0)
    }
}

fn ages_words(ages: AgeRange, age: i32) -> String {
    match (ages.min, ages.max) {
        (None, None) => format!("open to all ages, {age} included"),
        (Some(lo), None) => format!("for {lo} and over"),
        (None, Some(hi)) => format!("for {hi} and under"),
        (Some(lo), Some(hi)) => format!("for ages {lo} to {hi}"),
    }
}

/// The reasons a result matched `filter`, in a fixed order.
pub fn reasons(filter: &AssetFilter, facts: Facts<'_>) -> Vec<Reason> {
    let mut out = Vec::new();
    let mut say = |kind, detail: String| out.push(Reason { kind, detail });
    if let Some(d) = facts.distance {
        say(ReasonKind::Distance, distance_words(d));
    }
    if !facts.matched_categories.is_empty() {
        say(ReasonKind::Category, facts.matched_categories.join(", "));
    }
    if let Some(at) = filter.open_at {
        let local = at.with_timezone(&chrono_tz::Europe::London);
        say(
            ReasonKind::Open,
            if facts.has_hours {
                format!("open {}", local.format("%a %-d %b %H:%M"))
            } else {
                "opening hours not known".to_owned()
            },
        );
    }
    if !filter.accessibility.is_empty() {
        let names: Vec<String> = filter
            .accessibility
            .features()
            .into_iter()
            .map(|f| f.name().to_lowercase().replace('_', " "))
            .collect();
        say(ReasonKind::Accessibility, names.join(", "));
    }
    if filter.free == Some(true) {
        say(ReasonKind::Free, "free".to_owned());
    }
    if let Some(age) = filter.age {
        say(ReasonKind::Age, ages_words(facts.ages, age));
    }
    if filter.verified_since.is_some()
        && let Some(at) = facts.last_verified_at
    {
        say(
            ReasonKind::Verified,
            format!("confirmed by its organisers on {}", at.format("%-d %b %Y")),
        );
    }
    if let Some(text) = &filter.text {
        say(
            ReasonKind::Text,
            format!("mentions {}", search_words(text).join(", ")),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_read_as_people_say_them() {
        assert_eq!(distance_words(0.2), "here: the search point is inside it");
        assert_eq!(distance_words(43.0), "40 m away");
        assert_eq!(distance_words(1_234.0), "1.2 km away");
    }

    #[test]
    fn one_reason_for_each_thing_asked() {
        let filter = AssetFilter {
            free: Some(true),
            age: Some(67),
            text: Some("walk".into()),
            ..AssetFilter::default()
        };
        let names = ["Walking".to_owned()];
        let got = reasons(
            &filter,
            Facts {
                distance: Some(1_200.0),
                matched_categories: &names,
                ages: AgeRange::new(Some(50), None).unwrap(),
                ..Facts::default()
            },
        );
        let kinds: Vec<ReasonKind> = got.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                ReasonKind::Distance,
                ReasonKind::Category,
                ReasonKind::Free,
                ReasonKind::Age,
                ReasonKind::Text
            ]
        );
        assert_eq!(got[3].detail, "for 50 and over");
    }
}
