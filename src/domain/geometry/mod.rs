//! The one geometry validation gate: both backends store only what passes here.
//!
//! Input is a GeoJSON geometry object as JSON (RFC 7946: (longitude, latitude), WGS84).
//! Checks run cheapest first, and size caps are enforced while walking the raw JSON,
//! before any geometry is built or any quadratic validity test runs.
//! Each rejection names a stable `reason` and, where it applies, a JSON `path`.

use std::fmt;

use geo::{BoundingRect, Coord, Geometry, LineString, Polygon, Rect};
use serde_json::Value;

use read::{Counts, build, check_crs, count_positions, truncate};

mod read;

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

#[cfg(test)]
mod tests;
