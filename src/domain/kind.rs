//! Asset kinds and the geometry types each may have.

use crate::domain::geometry::{GeometryError, GeometryType, Reason};

pub use entity::asset::AssetKind;

/// Reads a kind as people write it: the stored name in any case, with `-`, `_` or
/// spaces (`green space`, `cycle-path`).
pub fn parse_kind(text: &str) -> Option<AssetKind> {
    let norm: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    AssetKind::from_stored(&norm)
}

/// What each kind of asset may be.
pub trait KindRules: Copy {
    /// The geometry types an asset of this kind may have: a park is a point or an area,
    /// a cycle path is a line, a group meets at one or more points.
    fn allowed_geometry(self) -> &'static [GeometryType];

    /// Refuses a geometry type this kind may not have, naming the ones it may.
    fn check_geometry(self, geometry: GeometryType) -> Result<(), GeometryError>;
}

impl KindRules for AssetKind {
    fn allowed_geometry(self) -> &'static [GeometryType] {
        use GeometryType::{LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
        match self {
            Self::Park | Self::GreenSpace | Self::Venue => &[Point, Polygon, MultiPolygon],
            Self::CyclePath | Self::WalkingRoute => &[LineString, MultiLineString],
            Self::CommunityGroup | Self::Charity | Self::Service => &[Point, MultiPoint],
            Self::Activity => &[Point, MultiPoint, LineString, MultiLineString],
            Self::HealthChampion => &[Point],
        }
    }

    fn check_geometry(self, geometry: GeometryType) -> Result<(), GeometryError> {
        if self.allowed_geometry().contains(&geometry) {
            return Ok(());
        }
        let allowed: Vec<&str> = self.allowed_geometry().iter().map(|g| g.as_str()).collect();
        Err(GeometryError::new(
            Reason::TypeNotAllowedForKind,
            format!(
                "a {} asset cannot be a {}; allowed: {}",
                self.as_str(),
                geometry.as_str(),
                allowed.join(", ")
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_loose_spellings() {
        assert_eq!(parse_kind("green space"), Some(AssetKind::GreenSpace));
        assert_eq!(parse_kind("cycle-path"), Some(AssetKind::CyclePath));
        assert_eq!(parse_kind("PARK"), Some(AssetKind::Park));
        assert_eq!(parse_kind("castle"), None);
    }

    #[test]
    fn a_cycle_path_is_a_line() {
        assert!(
            AssetKind::CyclePath
                .check_geometry(GeometryType::LineString)
                .is_ok()
        );
        let err = AssetKind::CyclePath
            .check_geometry(GeometryType::Point)
            .unwrap_err();
        assert_eq!(err.reason, Reason::TypeNotAllowedForKind);
        assert!(
            AssetKind::Park
                .check_geometry(GeometryType::Polygon)
                .is_ok()
        );
    }
}
