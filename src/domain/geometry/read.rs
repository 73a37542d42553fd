//! Reading GeoJSON's coordinates: the CRS check, the size caps counted on the raw JSON,
//! and the geometry built from coordinates whose shape and size were checked.

use geo::orient::{Direction, Orient};
use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use serde_json::Value;

use crate::domain::validity;

use super::{GeometryError, GeometryType, MAX_PARTS, MAX_VERTICES, Reason};

/// The geometry of a known type from coordinates whose shape and size were checked.
pub(super) fn build(kind: GeometryType, coords: &Value) -> Result<Geometry<f64>, GeometryError> {
    Ok(match kind {
        GeometryType::Point => Geometry::Point(Point(position(coords, "coordinates")?)),
        GeometryType::MultiPoint => {
            let pts = positions(coords, "coordinates")?;
            non_empty(&pts, "coordinates")?;
            Geometry::MultiPoint(MultiPoint(pts.into_iter().map(Point).collect()))
        }
        GeometryType::LineString => Geometry::LineString(line(coords, "coordinates")?),
        GeometryType::MultiLineString => {
            let parts = array(coords, "coordinates")?;
            non_empty(parts, "coordinates")?;
            let lines = parts
                .iter()
                .enumerate()
                .map(|(i, p)| line(p, &format!("coordinates[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Geometry::MultiLineString(MultiLineString(lines))
        }
        GeometryType::Polygon => {
            Geometry::Polygon(polygon(coords, "coordinates")?.orient(Direction::Default))
        }
        GeometryType::MultiPolygon => {
            let parts = array(coords, "coordinates")?;
            non_empty(parts, "coordinates")?;
            let polys = parts
                .iter()
                .enumerate()
                .map(|(i, p)| polygon_rings(p, &format!("coordinates[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            if let Err(problem) = validity::check(&polys) {
                return Err(GeometryError::at(
                    Reason::InvalidPolygon,
                    &format!("coordinates[{}]", problem.polygon()),
                    problem.to_string(),
                ));
            }
            let multi = MultiPolygon(
                polys
                    .into_iter()
                    .map(|p| p.orient(Direction::Default))
                    .collect(),
            );
            Geometry::MultiPolygon(multi)
        }
    })
}

/// As GeoJSON, in revision snapshots.
pub(super) fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

pub(super) fn check_crs(crs: &Value) -> Result<(), GeometryError> {
    let name = crs
        .get("properties")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let wgs84 = [
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "urn:ogc:def:crs:OGC::CRS84",
        "urn:ogc:def:crs:EPSG::4326",
        "EPSG:4326",
    ];
    if wgs84.contains(&name) {
        Ok(())
    } else {
        Err(GeometryError::at(
            Reason::UnsupportedCrs,
            "crs",
            "only WGS84 longitude/latitude (CRS84) is accepted; omit \"crs\"",
        ))
    }
}

#[derive(Default)]
pub(super) struct Counts {
    pub(super) positions: usize,
    parts: usize,
}

/// Walks nested arrays down to `depth` levels above the positions, counting positions and
/// parts and failing as soon as a cap is passed. Recursion depth is bounded by `depth` (<= 3).
pub(super) fn count_positions(
    value: &Value,
    depth: usize,
    path: &str,
    counts: &mut Counts,
) -> Result<(), GeometryError> {
    let items = array(value, path)?;
    if depth == 0 {
        counts.positions += 1;
        if counts.positions > MAX_VERTICES {
            return Err(GeometryError::at(
                Reason::TooManyVertices,
                path,
                format!("more than {MAX_VERTICES} positions"),
            ));
        }
        return Ok(());
    }
    if depth <= 2 {
        // arrays of positions (lines, rings, multipoints) count as parts
        counts.parts += 1;
        if counts.parts > MAX_PARTS {
            return Err(GeometryError::at(
                Reason::TooManyParts,
                path,
                format!("more than {MAX_PARTS} parts"),
            ));
        }
    }
    for (i, item) in items.iter().enumerate() {
        if depth == 1 {
            counts.positions += 1;
            if counts.positions > MAX_VERTICES {
                return Err(GeometryError::at(
                    Reason::TooManyVertices,
                    &format!("{path}[{i}]"),
                    format!("more than {MAX_VERTICES} positions"),
                ));
            }
            if !item.is_array() {
                return Err(GeometryError::at(
                    Reason::BadPosition,
                    &format!("{path}[{i}]"),
                    "a position must be an array of numbers",
                ));
            }
        } else {
            count_positions(item, depth - 1, &format!("{path}[{i}]"), counts)?;
        }
    }
    Ok(())
}

fn array<'a>(value: &'a Value, path: &str) -> Result<&'a Vec<Value>, GeometryError> {
    value
        .as_array()
        .ok_or_else(|| GeometryError::at(Reason::Malformed, path, "expected an array"))
}

fn non_empty<T>(items: &[T], path: &str) -> Result<(), GeometryError> {
    if items.is_empty() {
        Err(GeometryError::at(Reason::Empty, path, "empty geometry"))
    } else {
        Ok(())
    }
}

fn position(value: &Value, path: &str) -> Result<Coord<f64>, GeometryError> {
    let items = value.as_array().ok_or_else(|| {
        GeometryError::at(
            Reason::BadPosition,
            path,
            "a position must be an array of numbers",
        )
    })?;
    // A third number is an altitude (RFC 7946 3.1.1); Assetmap keeps 2D and drops it.
    if !(2..=3).contains(&items.len()) {
        return Err(GeometryError::at(
            Reason::BadPosition,
            path,
            format!(
                "a position has 2 numbers (longitude, latitude), optionally an altitude; got {}",
                items.len()
            ),
        ));
    }
    let mut nums = [0.0_f64; 3];
    for (i, item) in items.iter().enumerate() {
        let n = item.as_f64().ok_or_else(|| {
            GeometryError::at(Reason::BadPosition, path, "coordinates must be numbers")
        })?;
        if !n.is_finite() {
            return Err(GeometryError::at(
                Reason::NonFinite,
                path,
                "coordinates must be finite",
            ));
        }
        nums[i] = n;
    }
    let (lon, lat) = (nums[0], nums[1]);
    if !(-180.0..=180.0).contains(&lon) {
        return Err(GeometryError::at(
            Reason::OutOfRange,
            path,
            format!("longitude {lon} is outside -180..180 (positions are [longitude, latitude])"),
        ));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(GeometryError::at(
            Reason::OutOfRange,
            path,
            format!("latitude {lat} is outside -90..90 (positions are [longitude, latitude])"),
        ));
    }
    Ok(Coord { x: lon, y: lat })
}

fn positions(value: &Value, path: &str) -> Result<Vec<Coord<f64>>, GeometryError> {
    array(value, path)?
        .iter()
        .enumerate()
        .map(|(i, p)| position(p, &format!("{path}[{i}]")))
        .collect()
}

fn line(value: &Value, path: &str) -> Result<LineString<f64>, GeometryError> {
    let pts = positions(value, path)?;
    non_empty(&pts, path)?;
    if pts.iter().all(|c| *c == pts[0]) {
        return Err(GeometryError::at(
            Reason::TooFewPositions,
            path,
            "a LineString needs at least two distinct positions",
        ));
    }
    Ok(LineString(pts))
}

fn ring(value: &Value, path: &str) -> Result<LineString<f64>, GeometryError> {
    let pts = positions(value, path)?;
    non_empty(&pts, path)?;
    if pts.len() < 4 {
        return Err(GeometryError::at(
            Reason::RingTooShort,
            path,
            "a ring needs at least four positions, the last equal to the first",
        ));
    }
    if pts.first() != pts.last() {
        return Err(GeometryError::at(
            Reason::RingNotClosed,
            path,
            "a ring's last position must equal its first",
        ));
    }
    Ok(LineString(pts))
}

fn polygon(value: &Value, path: &str) -> Result<Polygon<f64>, GeometryError> {
    let polygon = polygon_rings(value, path)?;
    if let Err(problem) = validity::check(std::slice::from_ref(&polygon)) {
        return Err(GeometryError::at(
            Reason::InvalidPolygon,
            path,
            problem.to_string(),
        ));
    }
    Ok(polygon)
}

/// The rings of a polygon, each well-formed, not yet checked together.
fn polygon_rings(value: &Value, path: &str) -> Result<Polygon<f64>, GeometryError> {
    let rings = array(value, path)?;
    non_empty(rings, path)?;
    let mut built = rings
        .iter()
        .enumerate()
        .map(|(i, r)| ring(r, &format!("{path}[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let exterior = built.remove(0);
    Ok(Polygon::new(exterior, built))
}
