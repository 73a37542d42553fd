//! The one geometry validation gate: both backends store only what passes here.
//!
//! Input is a GeoJSON geometry object as JSON (RFC 7946: (longitude, latitude), WGS84).
//! Checks run cheapest first, and size caps are enforced while walking the raw JSON,
//! before any geometry is built or any quadratic validity test runs.
//! Each rejection names a stable `reason` and, where it applies, a JSON `path`.

use std::fmt;

use geo::orient::{Direction, Orient};
use geo::{
    BoundingRect, Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point,
    Polygon, Rect,
};
use serde_json::Value;

use crate::domain::validity;

/// The most positions one geometry may hold. Validity checking grows faster than
/// linearly with the vertex count; real park and ward outlines hold a few hundred.
pub const MAX_VERTICES: usize = 5_000;
/// The most parts (points, lines, polygons or rings) one geometry may hold.
pub const MAX_PARTS: usize = 500;

/// The geometry types Assetmap stores. GeometryCollection is not among them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeometryType {
    Point,
    MultiPoint,
    LineString,
    MultiLineString,
    Polygon,
    MultiPolygon,
}

impl GeometryType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Point => "Point",
            Self::MultiPoint => "MultiPoint",
            Self::LineString => "LineString",
            Self::MultiLineString => "MultiLineString",
            Self::Polygon => "Polygon",
            Self::MultiPolygon => "MultiPolygon",
        }
    }
}

/// Why a geometry was rejected. The names are part of the API (`extensions.reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Not a JSON object with `type` and `coordinates`.
    Malformed,
    /// A Feature, FeatureCollection or GeometryCollection, or an unknown type.
    UnsupportedType,
    /// A `crs` member naming anything but WGS84 longitude/latitude.
    UnsupportedCrs,
    /// No coordinates at all, or an empty part.
    Empty,
    TooManyVertices,
    TooManyParts,
    /// A position that is not 2 or 3 numbers.
    BadPosition,
    NonFinite,
    OutOfRange,
    /// A LineString with fewer than two distinct positions.
    TooFewPositions,
    /// A polygon ring whose last position differs from its first.
    RingNotClosed,
    /// A ring with fewer than four positions (three distinct corners and the closing one).
    RingTooShort,
    /// Self-intersection, holes outside the shell, rings crossing: not a valid polygon.
    InvalidPolygon,
    /// The geometry type is not one this asset kind may have.
    TypeNotAllowedForKind,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "MALFORMED",
            Self::UnsupportedType => "UNSUPPORTED_TYPE",
            Self::UnsupportedCrs => "UNSUPPORTED_CRS",
            Self::Empty => "EMPTY",
            Self::TooManyVertices => "TOO_MANY_VERTICES",
            Self::TooManyParts => "TOO_MANY_PARTS",
            Self::BadPosition => "BAD_POSITION",
            Self::NonFinite => "NON_FINITE",
            Self::OutOfRange => "OUT_OF_RANGE",
            Self::TooFewPositions => "TOO_FEW_POSITIONS",
            Self::RingNotClosed => "RING_NOT_CLOSED",
            Self::RingTooShort => "RING_TOO_SHORT",
            Self::InvalidPolygon => "INVALID_POLYGON",
            Self::TypeNotAllowedForKind => "TYPE_NOT_ALLOWED_FOR_KIND",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct GeometryError {
    pub reason: Reason,
    pub message: String,
    /// Where in the GeoJSON object, e.g. `coordinates[0][3]`.
    pub path: Option<String>,
}

impl GeometryError {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            path: None,
        }
    }

    fn at(reason: Reason, path: &str, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            path: Some(path.to_owned()),
        }
    }
}

impl fmt::Display for GeometryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "invalid geometry at {path}: {}", self.message),
            None => write!(f, "invalid geometry: {}", self.message),
        }
    }
}

impl std::error::Error for GeometryError {}

/// A geometry that passed every rule: finite, in range, within the caps, valid, with
/// rings oriented as RFC 7946 asks (exterior counter-clockwise, holes clockwise).
#[derive(Clone, Debug, PartialEq)]
pub struct ValidGeometry {
    geometry: Geometry<f64>,
    kind: GeometryType,
    bbox: Rect<f64>,
    vertices: usize,
}

impl ValidGeometry {
    /// Parses and validates a GeoJSON geometry object.
    pub fn parse(value: &Value) -> Result<Self, GeometryError> {
        let obj = value.as_object().ok_or_else(|| {
            GeometryError::new(Reason::Malformed, "expected a GeoJSON geometry object")
        })?;
        let type_name = obj
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| GeometryError::at(Reason::Malformed, "type", "missing \"type\""))?;
        let kind = match type_name {
            "Point" => GeometryType::Point,
            "MultiPoint" => GeometryType::MultiPoint,
            "LineString" => GeometryType::LineString,
            "MultiLineString" => GeometryType::MultiLineString,
            "Polygon" => GeometryType::Polygon,
            "MultiPolygon" => GeometryType::MultiPolygon,
            "Feature" | "FeatureCollection" => {
                return Err(GeometryError::at(
                    Reason::UnsupportedType,
                    "type",
                    format!("expected a geometry object, not a {type_name}"),
                ));
            }
            other => {
                return Err(GeometryError::at(
                    Reason::UnsupportedType,
                    "type",
                    format!(
                        "unsupported geometry type {:?}: use Point, MultiPoint, LineString, \
                         MultiLineString, Polygon or MultiPolygon",
                        truncate(other, 40)
                    ),
                ));
            }
        };
        if let Some(crs) = obj.get("crs") {
            check_crs(crs)?;
        }
        let coords = obj.get("coordinates").ok_or_else(|| {
            GeometryError::at(Reason::Malformed, "coordinates", "missing \"coordinates\"")
        })?;

        let depth = match kind {
            GeometryType::Point => 0,
            GeometryType::MultiPoint | GeometryType::LineString => 1,
            GeometryType::MultiLineString | GeometryType::Polygon => 2,
            GeometryType::MultiPolygon => 3,
        };
        // Cheap first pass over the raw JSON: shape and size caps, nothing built yet.
        let mut counts = Counts::default();
        count_positions(coords, depth, "coordinates", &mut counts)?;

        let geometry = build(kind, coords)?;
        let bbox = geometry
            .bounding_rect()
            .ok_or_else(|| GeometryError::new(Reason::Empty, "the geometry has no positions"))?;
        Ok(Self {
            geometry,
            kind,
            bbox,
            vertices: counts.positions,
        })
    }

    /// Parses GeoJSON text (as stored) through the same gate.
    pub fn parse_str(text: &str) -> Result<Self, GeometryError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|_| GeometryError::new(Reason::Malformed, "not valid JSON"))?;
        Self::parse(&value)
    }

    pub fn geometry(&self) -> &Geometry<f64> {
        &self.geometry
    }

    pub fn geometry_type(&self) -> GeometryType {
        self.kind
    }

    /// (min lon, min lat) to (max lon, max lat).
    pub fn bbox(&self) -> Rect<f64> {
        self.bbox
    }

    pub fn vertex_count(&self) -> usize {
        self.vertices
    }

    /// The normalised GeoJSON object, as stored and as returned to clients.
    pub fn to_geojson_value(&self) -> Value {
        let value = geojson::GeometryValue::from(&self.geometry);
        serde_json::to_value(geojson::Geometry::new(value)).unwrap_or(Value::Null)
    }

    /// The same object as text, written directly (an import writes one per asset; going
    /// through a `serde_json::Value` cost more than validating the geometry). Keys in
    /// the order `to_geojson_value` prints them, numbers as `serde_json` prints them.
    pub fn to_geojson_string(&self) -> String {
        let mut out = Vec::with_capacity(48 + self.vertices * 24);
        out.extend_from_slice(b"{\"coordinates\":");
        match &self.geometry {
            Geometry::Point(p) => write_position(&mut out, p.0),
            Geometry::MultiPoint(m) => {
                write_list(&mut out, &m.0, |out, p| write_position(out, p.0));
            }
            Geometry::LineString(l) => write_line(&mut out, l),
            Geometry::MultiLineString(m) => write_list(&mut out, &m.0, write_line),
            Geometry::Polygon(p) => write_polygon(&mut out, p),
            Geometry::MultiPolygon(m) => write_list(&mut out, &m.0, write_polygon),
            // the gate builds nothing else; keep the general path for completeness
            _ => return self.to_geojson_value().to_string(),
        }
        out.extend_from_slice(b",\"type\":\"");
        out.extend_from_slice(self.kind.as_str().as_bytes());
        out.extend_from_slice(b"\"}");
        String::from_utf8(out).unwrap_or_default()
    }
}

fn write_number(out: &mut Vec<u8>, v: f64) {
    // serde_json writes non-finite numbers as null, as the Value path does
    let _ = serde_json::to_writer(&mut *out, &v);
}

fn write_position(out: &mut Vec<u8>, c: Coord<f64>) {
    out.push(b'[');
    write_number(out, c.x);
    out.push(b',');
    write_number(out, c.y);
    out.push(b']');
}

fn write_list<T>(out: &mut Vec<u8>, items: &[T], mut each: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(out, item);
    }
    out.push(b']');
}

fn write_line(out: &mut Vec<u8>, line: &LineString<f64>) {
    write_list(out, &line.0, |out, c| write_position(out, *c));
}

fn write_polygon(out: &mut Vec<u8>, polygon: &Polygon<f64>) {
    out.push(b'[');
    write_line(out, polygon.exterior());
    for ring in polygon.interiors() {
        out.push(b',');
        write_line(out, ring);
    }
    out.push(b']');
}

/// The geometry of a known type from coordinates whose shape and size were checked.
fn build(kind: GeometryType, coords: &Value) -> Result<Geometry<f64>, GeometryError> {
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
impl serde::Serialize for ValidGeometry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_geojson_value().serialize(serializer)
    }
}

/// From GeoJSON, through the gate.
impl<'de> serde::Deserialize<'de> for ValidGeometry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::parse(&value).map_err(serde::de::Error::custom)
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn check_crs(crs: &Value) -> Result<(), GeometryError> {
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
struct Counts {
    positions: usize,
    parts: usize,
}

/// Walks nested arrays down to `depth` levels above the positions, counting positions and
/// parts and failing as soon as a cap is passed. Recursion depth is bounded by `depth` (<= 3).
fn count_positions(
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

#[cfg(test)]
mod tests;
