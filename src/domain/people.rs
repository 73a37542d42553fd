//! People on the map (health champions) are never shown where they are. The public sees
//! the centre of the grid cell their point falls in, about a kilometre across, and every
//! public distance and search works from that centre; only their organization's editors
//! and moderators see the exact point.

use std::borrow::Cow;

use serde_json::json;

use crate::domain::{AssetKind, ValidGeometry};
use crate::error::{AppError, AppResult};

/// Grid cell height in degrees of latitude (about 1.1 km).
pub const CELL_LAT: f64 = 0.01;
/// Grid cell width in degrees of longitude (about 1 km in Greater Manchester).
pub const CELL_LON: f64 = 0.015;

pub fn is_person(kind: AssetKind) -> bool {
    kind == AssetKind::HealthChampion
}

/// The centre of the grid cell holding (lon, lat), rounded to 6 decimals.
pub fn approximate(lon: f64, lat: f64) -> (f64, f64) {
    let centre = |v: f64, cell: f64| (((v / cell).floor() + 0.5) * cell * 1e6).round() / 1e6;
    (centre(lon, CELL_LON), centre(lat, CELL_LAT))
}

/// The geometry the public sees for an asset of this kind.
pub fn public_geometry(
    kind: AssetKind,
    exact: &ValidGeometry,
) -> AppResult<Cow<'_, ValidGeometry>> {
    if !is_person(kind) {
        return Ok(Cow::Borrowed(exact));
    }
    let geo::Geometry::Point(p) = exact.geometry() else {
        return Err(AppError::invalid(
            "geometry",
            "a person's location is a Point",
        ));
    };
    let (lon, lat) = approximate(p.x(), p.y());
    let snapped = ValidGeometry::parse(&json!({"type": "Point", "coordinates": [lon, lat]}))?;
    Ok(Cow::Owned(snapped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_snap_to_cell_centres() {
        assert_eq!(approximate(-2.24261, 53.48084), (-2.2425, 53.485));
        assert_eq!(approximate(-2.2499, 53.4801), (-2.2425, 53.485));
        let (lon, lat) = approximate(-2.2301, 53.4899);
        assert!((lon - -2.2275).abs() < 1e-9 && (lat - 53.485).abs() < 1e-9);
    }
}
