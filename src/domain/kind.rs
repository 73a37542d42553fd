//! Asset kinds and the geometry types each may have.

use crate::domain::geometry::{GeometryError, GeometryType, Reason};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AssetKind {
    Park,
    GreenSpace,
    CyclePath,
    WalkingRoute,
    CommunityGroup,
    Charity,
    Activity,
    Venue,
    Service,
    HealthChampion,
}

impl AssetKind {
    pub const ALL: [AssetKind; 10] = [
        Self::Park,
        Self::GreenSpace,
        Self::CyclePath,
        Self::WalkingRoute,
        Self::CommunityGroup,
        Self::Charity,
        Self::Activity,
        Self::Venue,
        Self::Service,
        Self::HealthChampion,
    ];

    /// The stored and GraphQL name, e.g. `GREEN_SPACE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Park => "PARK",
            Self::GreenSpace => "GREEN_SPACE",
            Self::CyclePath => "CYCLE_PATH",
            Self::WalkingRoute => "WALKING_ROUTE",
            Self::CommunityGroup => "COMMUNITY_GROUP",
            Self::Charity => "CHARITY",
            Self::Activity => "ACTIVITY",
            Self::Venue => "VENUE",
            Self::Service => "SERVICE",
            Self::HealthChampion => "HEALTH_CHAMPION",
        }
    }

    /// Accepts the stored name in any case, with `-` or `_` or spaces (`green space`).
    pub fn parse(text: &str) -> Option<Self> {
        let norm: String = text
            .trim()
            .chars()
            .map(|c| match c {
                '-' | ' ' => '_',
                c => c.to_ascii_uppercase(),
            })
            .collect();
        Self::ALL.into_iter().find(|k| k.as_str() == norm)
    }

    /// The geometry types an asset of this kind may have: a park is a point or an area,
    /// a cycle path is a line, a group meets at one or more points.
    pub fn allowed_geometry(self) -> &'static [GeometryType] {
        use GeometryType::*;
        match self {
            Self::Park | Self::GreenSpace | Self::Venue => &[Point, Polygon, MultiPolygon],
            Self::CyclePath | Self::WalkingRoute => &[LineString, MultiLineString],
            Self::CommunityGroup | Self::Charity | Self::Service => &[Point, MultiPoint],
            Self::Activity => &[Point, MultiPoint, LineString, MultiLineString],
            Self::HealthChampion => &[Point],
        }
    }

    pub fn check_geometry(self, geometry: GeometryType) -> Result<(), GeometryError> {
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
        assert_eq!(AssetKind::parse("green space"), Some(AssetKind::GreenSpace));
        assert_eq!(AssetKind::parse("cycle-path"), Some(AssetKind::CyclePath));
        assert_eq!(AssetKind::parse("PARK"), Some(AssetKind::Park));
        assert_eq!(AssetKind::parse("castle"), None);
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
