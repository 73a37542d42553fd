//! What a sync client follows: changes to the public's view of assets, narrowed to a
//! box, some kinds and some categories. An asset that leaves a client's filter (moved
//! out of the box, kind or categories changed) is gone for that client.

use crate::domain::{AssetKind, BBox};
use crate::error::AppResult;

/// What the public sees of an asset, as far as a filter cares: its kind, its box
/// (min lon, min lat, max lon, max lat) and its category slugs.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub kind: AssetKind,
    pub bbox: [f64; 4],
    pub categories: Vec<String>,
}

/// A client's filter on changes. Empty lists and no box match everything.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChangeFilter {
    pub bbox: Option<BBox>,
    pub kinds: Vec<AssetKind>,
    /// Category slugs, each named one with its children; empty: any.
    pub categories: Vec<String>,
}

impl ChangeFilter {
    pub const MAX_LIST: usize = super::search::AssetFilter::MAX_LIST;

    /// A filter from what a client asked; `categories` are expanded (children included)
    /// by the caller.
    pub fn new(
        bbox: Option<BBox>,
        kinds: Vec<AssetKind>,
        categories: Vec<String>,
    ) -> AppResult<Self> {
        super::search::check_lists(kinds.len(), categories.len(), Self::MAX_LIST * 4)?;
        Ok(Self {
            bbox,
            kinds,
            categories,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.bbox.is_none() && self.kinds.is_empty() && self.categories.is_empty()
    }

    /// Whether the filter lets this view of an asset through.
    pub fn matches(&self, seen: &Seen) -> bool {
        if !self.kinds.is_empty() && !self.kinds.contains(&seen.kind) {
            return false;
        }
        if !self.categories.is_empty()
            && !seen.categories.iter().any(|c| self.categories.contains(c))
        {
            return false;
        }
        match self.bbox {
            None => true,
            Some(b) => {
                let [min_lon, min_lat, max_lon, max_lat] = seen.bbox;
                min_lon <= b.max_lon
                    && max_lon >= b.min_lon
                    && min_lat <= b.max_lat
                    && max_lat >= b.min_lat
            }
        }
    }

    /// Whether a change between these two views concerns this client: it saw the asset
    /// before, or sees it after.
    pub fn concerns(&self, before: Option<&Seen>, after: Option<&Seen>) -> bool {
        before.is_some_and(|s| self.matches(s)) || after.is_some_and(|s| self.matches(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn park_at(lon: f64, lat: f64) -> Seen {
        Seen {
            kind: AssetKind::Park,
            bbox: [lon, lat, lon, lat],
            categories: vec!["parks".into()],
        }
    }

    #[test]
    fn an_asset_that_leaves_the_box_concerns_the_client() {
        let filter = ChangeFilter::new(
            Some(BBox::new(-2.3, 53.4, -2.2, 53.5).unwrap()),
            vec![],
            vec![],
        )
        .unwrap();
        let inside = park_at(-2.25, 53.45);
        let outside = park_at(-2.0, 53.45);
        assert!(filter.matches(&inside));
        assert!(!filter.matches(&outside));
        assert!(filter.concerns(Some(&inside), Some(&outside)));
        assert!(!filter.concerns(Some(&outside), Some(&outside)));
        assert!(!filter.concerns(None, Some(&outside)));
    }

    #[test]
    fn kinds_and_categories_narrow_it() {
        let parks = ChangeFilter::new(None, vec![AssetKind::Park], vec!["parks".into()]).unwrap();
        let mut venue = park_at(0.0, 0.0);
        assert!(parks.matches(&venue));
        venue.kind = AssetKind::Venue;
        assert!(!parks.matches(&venue));
        let mut other = park_at(0.0, 0.0);
        other.categories = vec!["play".into()];
        assert!(!parks.matches(&other));
        assert!(ChangeFilter::default().matches(&other));
    }
}
