//! Validated search inputs: a point, a radius, a box, a buffer, a page size, a cursor.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::hours::check_time;
use crate::domain::kind::AssetKind;
use crate::domain::listing::{Accessibility, AccessibilitySet, AgeRange};
use crate::error::{AppError, AppResult};

/// A WGS84 position, longitude first.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LonLat {
    pub lon: f64,
    pub lat: f64,
}

impl LonLat {
    pub fn new(lon: f64, lat: f64) -> AppResult<Self> {
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(AppError::invalid("lon", "lon must be between -180 and 180"));
        }
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(AppError::invalid("lat", "lat must be between -90 and 90"));
        }
        Ok(Self { lon, lat })
    }
}

/// A search radius in metres: more than 0, at most [`Radius::MAX_METERS`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Radius(f64);

impl Radius {
    /// 50 km: a borough and its neighbours, never the whole map.
    pub const MAX_METERS: f64 = 50_000.0;

    pub fn meters(value: f64) -> AppResult<Self> {
        if !value.is_finite() || value <= 0.0 || value > Self::MAX_METERS {
            return Err(AppError::invalid(
                "radiusMeters",
                format!(
                    "radiusMeters must be more than 0 and at most {}",
                    Self::MAX_METERS
                ),
            ));
        }
        Ok(Self(value))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

/// A corridor half-width in metres for `assetsIntersecting`: 0 (plain intersection) to
/// [`Buffer::MAX_METERS`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Buffer(f64);

impl Buffer {
    pub const MAX_METERS: f64 = 10_000.0;

    pub fn meters(value: Option<f64>) -> AppResult<Self> {
        let value = value.unwrap_or(0.0);
        if !(0.0..=Self::MAX_METERS).contains(&value) {
            return Err(AppError::invalid(
                "bufferMeters",
                format!("bufferMeters must be between 0 and {}", Self::MAX_METERS),
            ));
        }
        Ok(Self(value))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

/// A lon/lat box that does not cross the antimeridian (min < max on both axes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BBox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl BBox {
    /// The largest box a viewport query may ask for, in square degrees (about 2.5 x 2.5
    /// degrees: a whole county at map zoom 8).
    pub const MAX_SQUARE_DEGREES: f64 = 6.25;

    pub fn new(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64) -> AppResult<Self> {
        let min = LonLat::new(min_lon, min_lat).map_err(|_| {
            AppError::invalid("bbox", "minLon/minLat must be a valid longitude/latitude")
        })?;
        let max = LonLat::new(max_lon, max_lat).map_err(|_| {
            AppError::invalid("bbox", "maxLon/maxLat must be a valid longitude/latitude")
        })?;
        if min.lon > max.lon || min.lat > max.lat {
            return Err(AppError::invalid(
                "bbox",
                "minLon must not exceed maxLon and minLat must not exceed maxLat \
                 (boxes across the antimeridian are not supported)",
            ));
        }
        if (max.lon - min.lon) * (max.lat - min.lat) > Self::MAX_SQUARE_DEGREES {
            return Err(AppError::invalid(
                "bbox",
                format!(
                    "the box is larger than {} square degrees; zoom in",
                    Self::MAX_SQUARE_DEGREES
                ),
            ));
        }
        Ok(Self {
            min_lon: min.lon,
            min_lat: min.lat,
            max_lon: max.lon,
            max_lat: max.lat,
        })
    }
}

/// `first`: 1 to [`PageSize::MAX`], [`PageSize::DEFAULT`] when omitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageSize(u64);

impl PageSize {
    pub const DEFAULT: u64 = 20;
    pub const MAX: u64 = 100;

    pub fn new(first: Option<i32>) -> AppResult<Self> {
        Self::named("first", first)
    }

    /// A page size given as the argument `field` (`first`, or `last` for a history).
    pub fn named(field: &'static str, size: Option<i32>) -> AppResult<Self> {
        match size {
            None => Ok(Self(Self::DEFAULT)),
            Some(n) if u64::try_from(n).is_ok_and(|n| (1..=Self::MAX).contains(&n)) => {
                Ok(Self(u64::from(n.unsigned_abs())))
            }
            Some(_) => Err(AppError::invalid(
                field,
                format!("{field} must be between 1 and {}", Self::MAX),
            )),
        }
    }

    pub fn get(self) -> u64 {
        self.0
    }

    /// The cost of a paged field in the query-complexity budget: its page size (as
    /// `first` would be, clamped) times the cost of one item.
    pub fn cost(first: Option<i32>, per_item: usize) -> usize {
        let size = first.map_or(Self::DEFAULT, |n| {
            // as `new` reads it: below 1 is refused there, and costs as 1 here
            u64::from(n.max(1).unsigned_abs()).min(Self::MAX)
        });
        usize::try_from(size)
            .unwrap_or(usize::MAX)
            .saturating_mul(per_item)
    }

    /// How many of `rows` (read one past the page) to keep, and whether more follow.
    pub fn split<T>(self, rows: &mut Vec<T>) -> bool {
        let limit = crate::convert::to_usize(self.0);
        let more = rows.len() > limit;
        rows.truncate(limit);
        more
    }
}

/// Filters shared by every search: any of the kinds, any of the categories (a parent
/// category matches its children), words through the full-text index, and what a link
/// worker checks (accessibility, cost, age, freshness, opening hours).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AssetFilter {
    pub kinds: Vec<AssetKind>,
    pub categories: Vec<String>,
    pub text: Option<String>,
    /// Accessibility features required; empty for none.
    pub accessibility: AccessibilitySet,
    pub free: Option<bool>,
    pub age: Option<i32>,
    pub verified_since: Option<DateTime<Utc>>,
    /// Never verified, or not since this time (stale listings).
    pub not_verified_since: Option<DateTime<Utc>>,
    /// Open at this time (checked against each asset's hours after the search).
    pub open_at: Option<DateTime<Utc>>,
    pub include_unknown_hours: bool,
}

/// The words of a text search: letters and digits, lowercased, at most
/// `AssetFilter::MAX_WORDS`; every word must match (as a word or the start of one).
pub fn search_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().chars().take(50).collect())
        .take(AssetFilter::MAX_WORDS)
        .collect()
}

/// What the full-text index holds for an asset.
pub fn search_text(name: &str, description: Option<&str>, categories: &[String]) -> String {
    let mut text = String::with_capacity(name.len() + 64);
    text.push_str(name);
    text.push('\n');
    text.push_str(description.unwrap_or(""));
    text.push('\n');
    for (i, slug) in categories.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        text.push_str(&slug.replace('-', " "));
    }
    text
}

impl AssetFilter {
    pub const MAX_TEXT_CHARS: usize = 200;
    /// The most days `verifiedWithinDays` may reach back.
    pub const MAX_DAYS: i32 = 3650;

    /// Only assets with every one of these accessibility features.
    #[must_use]
    pub fn with_accessibility(self, features: &[Accessibility]) -> Self {
        Self {
            accessibility: AccessibilitySet::of(features),
            ..self
        }
    }

    /// Only free assets (`true`) or ones known to cost something (`false`).
    #[must_use]
    pub fn with_free(self, free: Option<bool>) -> Self {
        Self { free, ..self }
    }

    /// Only assets for someone of this age (0 to 130).
    pub fn with_age(self, age: Option<i32>) -> AppResult<Self> {
        let age = age.map(AgeRange::check_age).transpose()?;
        Ok(Self { age, ..self })
    }

    /// Only assets confirmed within this many days of `now` (1 to [`Self::MAX_DAYS`]).
    pub fn verified_within(self, days: Option<i32>, now: DateTime<Utc>) -> AppResult<Self> {
        let since = days
            .map(|d| days_back("verifiedWithinDays", d).map(|back| now - back))
            .transpose()?;
        Ok(Self {
            verified_since: since,
            ..self
        })
    }

    /// Only assets open at `open_at`, or at `now` with `open_now` (not both); with
    /// `include_unknown_hours`, also those whose hours are not known.
    pub fn open(
        self,
        open_at: Option<DateTime<Utc>>,
        open_now: Option<bool>,
        include_unknown_hours: Option<bool>,
        now: DateTime<Utc>,
    ) -> AppResult<Self> {
        let open_at = match (open_at, open_now) {
            (Some(_), Some(true)) => {
                return Err(AppError::invalid(
                    "openNow",
                    "give openAt or openNow, not both",
                ));
            }
            (Some(at), _) => Some(check_time("openAt", at)?),
            (None, Some(true)) => Some(now),
            (None, _) => None,
        };
        Ok(Self {
            open_at,
            include_unknown_hours: include_unknown_hours.unwrap_or(false),
            ..self
        })
    }

    /// Listings not confirmed for `older_than_days` days, or never (for moderators).
    pub fn stale(older_than_days: i32, now: DateTime<Utc>) -> AppResult<Self> {
        Ok(Self {
            not_verified_since: Some(now - days_back("olderThanDays", older_than_days)?),
            ..Self::default()
        })
    }
    pub const MAX_WORDS: usize = 10;
    pub const MAX_LIST: usize = 50;

    pub fn new(
        kinds: Vec<AssetKind>,
        categories: Vec<String>,
        text: Option<String>,
    ) -> AppResult<Self> {
        check_lists(kinds.len(), categories.len(), Self::MAX_LIST)?;
        let text = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        if let Some(t) = &text
            && t.chars().count() > Self::MAX_TEXT_CHARS
        {
            return Err(AppError::invalid(
                "text",
                format!("text must be at most {} characters", Self::MAX_TEXT_CHARS),
            ));
        }
        if let Some(t) = &text
            && search_words(t).is_empty()
        {
            return Err(AppError::invalid(
                "text",
                "text has no words to search for (letters or digits)",
            ));
        }
        Ok(Self {
            kinds,
            categories,
            text,
            ..Self::default()
        })
    }
}

/// A number of days to look back, 1 to [`AssetFilter::MAX_DAYS`].
fn days_back(field: &'static str, days: i32) -> AppResult<chrono::Duration> {
    if (1..=AssetFilter::MAX_DAYS).contains(&days) {
        Ok(chrono::Duration::days(i64::from(days)))
    } else {
        Err(AppError::invalid(
            field,
            format!("{field} is 1 to {}", AssetFilter::MAX_DAYS),
        ))
    }
}

/// Where a page of a sorted search ends: (distance, id) for distance-ordered searches,
/// the id alone for viewport searches (distance 0). Opaque to clients.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SearchCursor {
    pub distance: f64,
    pub id: Uuid,
}

impl SearchCursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{:016x}:{}", self.distance.to_bits(), self.id))
    }

    pub fn decode(text: &str) -> AppResult<Self> {
        let bad = || AppError::invalid("after", "after is not a cursor returned by this query");
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| bad())?;
        let (bits, id) = text.split_once(':').ok_or_else(bad)?;
        let distance = f64::from_bits(u64::from_str_radix(bits, 16).map_err(|_| bad())?);
        if !distance.is_finite() || distance < 0.0 {
            return Err(bad());
        }
        let id = Uuid::parse_str(id).map_err(|_| bad())?;
        Ok(Self { distance, id })
    }

    pub fn decode_opt(text: Option<&str>) -> AppResult<Option<Self>> {
        text.map(Self::decode).transpose()
    }
}

/// A filter names at most [`AssetFilter::MAX_LIST`] kinds and as many categories; a
/// caller that has expanded categories to their children passes a higher
/// `categories_max` for the expanded list.
pub fn check_lists(kinds: usize, categories: usize, categories_max: usize) -> AppResult<()> {
    if kinds > AssetFilter::MAX_LIST || categories > categories_max {
        return Err(AppError::invalid(
            "filter",
            format!(
                "at most {} kinds and {} categories",
                AssetFilter::MAX_LIST,
                AssetFilter::MAX_LIST
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_exactly() {
        let c = SearchCursor {
            distance: 1_234.567_890_123,
            id: Uuid::now_v7(),
        };
        assert_eq!(SearchCursor::decode(&c.encode()).unwrap(), c);
        assert!(SearchCursor::decode("not-a-cursor").is_err());
    }

    #[test]
    fn radius_bounds() {
        assert!(Radius::meters(0.0).is_err());
        assert!(Radius::meters(-5.0).is_err());
        assert!(Radius::meters(f64::NAN).is_err());
        assert!(Radius::meters(Radius::MAX_METERS + 1.0).is_err());
        assert!(Radius::meters(1.0).is_ok());
    }

    #[test]
    fn bbox_rules() {
        assert!(BBox::new(-2.3, 53.4, -2.2, 53.5).is_ok());
        assert!(BBox::new(-2.2, 53.4, -2.3, 53.5).is_err());
        assert!(BBox::new(-10.0, 50.0, 10.0, 60.0).is_err());
        assert!(BBox::new(-200.0, 53.4, -2.2, 53.5).is_err());
    }

    #[test]
    fn page_size_bounds() {
        assert_eq!(PageSize::new(None).unwrap().get(), PageSize::DEFAULT);
        assert!(PageSize::new(Some(0)).is_err());
        assert!(PageSize::new(Some(101)).is_err());
    }
}
