//! The `GeoJSON` scalar.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// An RFC 7946 GeoJSON geometry object: `{"type": "Point", "coordinates": [lon, lat]}`.
/// Positions are (longitude, latitude) in WGS84 (EPSG:4326). Types: Point, MultiPoint,
/// LineString, MultiLineString, Polygon, MultiPolygon. As input, the object itself or the
/// same object as a JSON string. Output polygons have counter-clockwise exterior rings.
#[derive(Clone, Debug, PartialEq)]
pub struct GeoJson(pub serde_json::Value);

#[Scalar(name = "GeoJSON")]
impl ScalarType for GeoJson {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(text) => serde_json::from_str(&text)
                .map(GeoJson)
                .map_err(|_| InputValueError::custom("the GeoJSON string is not valid JSON")),
            Value::Object(_) => value
                .into_json()
                .map(GeoJson)
                .map_err(|_| InputValueError::custom("not a GeoJSON object")),
            _ => Err(InputValueError::custom(
                "expected a GeoJSON geometry object",
            )),
        }
    }

    fn to_value(&self) -> Value {
        Value::from_json(self.0.clone()).unwrap_or(Value::Null)
    }
}
