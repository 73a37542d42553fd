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

/// A stored geometry on its way out: the GeoJSON text, turned into the response's value
/// in one pass (the `GeoJSON` scalar, as above). A viewport page holds thousands of
/// coordinates; going through `serde_json::Value` first doubled their cost.
pub struct GeoJsonText<'a>(pub &'a str);

impl async_graphql::OutputType for GeoJsonText<'_> {
    fn type_name() -> std::borrow::Cow<'static, str> {
        <GeoJson as async_graphql::OutputType>::type_name()
    }

    fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
        <GeoJson as async_graphql::OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        _: &async_graphql::ContextSelectionSet<'_>,
        field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
    ) -> async_graphql::ServerResult<Value> {
        if let Some(value) = stored(self.0) {
            return Ok(value);
        }
        serde_json::from_str(self.0).map_err(|e| {
            async_graphql::Error::from(crate::error::AppError::Internal(e.into()))
                .into_server_error(field.pos)
        })
    }
}

/// Reads the form geometry is stored in, `{"coordinates":[...],"type":"..."}` with plain
/// numbers (see `ValidGeometry::to_geojson_string`), straight into a value: a third of
/// the cost of the general parser. `None` for any other text, which the general parser
/// then reads.
fn stored(text: &str) -> Option<Value> {
    let rest = text.strip_prefix("{\"coordinates\":")?;
    let mut reader = Coordinates {
        bytes: rest.as_bytes(),
        at: 0,
    };
    let coordinates = reader.array(0)?;
    let tail = rest.get(reader.at..)?;
    let kind = tail.strip_prefix(",\"type\":\"")?.strip_suffix("\"}")?;
    if !kind.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let mut object = async_graphql::indexmap::IndexMap::with_capacity(2);
    object.insert(async_graphql::Name::new("coordinates"), coordinates);
    object.insert(
        async_graphql::Name::new("type"),
        Value::String(kind.to_owned()),
    );
    Some(Value::Object(object))
}

struct Coordinates<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Coordinates<'_> {
    /// GeoJSON nests coordinates four deep at most (a multipolygon's positions).
    const MAX_DEPTH: u8 = 4;

    fn array(&mut self, depth: u8) -> Option<Value> {
        if depth >= Self::MAX_DEPTH || self.bytes.get(self.at) != Some(&b'[') {
            return None;
        }
        self.at += 1;
        let mut items = Vec::new();
        if self.bytes.get(self.at) == Some(&b']') {
            self.at += 1;
            return Some(Value::List(items));
        }
        loop {
            let item = if self.bytes.get(self.at) == Some(&b'[') {
                self.array(depth + 1)?
            } else {
                self.number()?
            };
            items.push(item);
            match self.bytes.get(self.at)? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(Value::List(items));
                }
                _ => return None,
            }
        }
    }

    /// A number as `serde_json` reads it: integers stay integers.
    fn number(&mut self) -> Option<Value> {
        let start = self.at;
        while self
            .bytes
            .get(self.at)
            .is_some_and(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            self.at += 1;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
        let number = if text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            serde_json::Number::from(text.parse::<i64>().ok()?)
        } else {
            serde_json::Number::from_f64(text.parse::<f64>().ok()?)?
        };
        Some(Value::Number(number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_form_reads_as_the_general_parser_reads_it() {
        for text in [
            r#"{"coordinates":[-2.46592,53.609768],"type":"Point"}"#,
            r#"{"coordinates":[[[-2.696429,53.625495],[-2.6979,53.627552],[-2.7,53.6],[-2.696429,53.625495]]],"type":"Polygon"}"#,
            r#"{"coordinates":[[[[0.0,0.0],[1.0,0.0],[1.0,1.0],[0.0,0.0]]]],"type":"MultiPolygon"}"#,
            r#"{"coordinates":[[1,2],[-3,4.5e-7]],"type":"LineString"}"#,
            r#"{"coordinates":[],"type":"MultiPoint"}"#,
        ] {
            let general: Value = serde_json::from_str(text).unwrap();
            assert_eq!(stored(text), Some(general.clone()), "{text}");
            assert_eq!(
                serde_json::to_string(&stored(text)).unwrap(),
                serde_json::to_string(&general).unwrap()
            );
        }
        for other in [
            r#"{"type":"Point","coordinates":[1.0,2.0]}"#,
            r#"{"coordinates":[1.0,2.0] ,"type":"Point"}"#,
            r#"{"coordinates":[[[[[1.0]]]]],"type":"Point"}"#,
            r#"{"coordinates":[1.0,2.0],"type":"Po\"int"}"#,
            r#"{"coordinates":[1.0,"2"],"type":"Point"}"#,
            r#"{"coordinates":[1.0,2.0],"type":"Point"} "#,
        ] {
            assert_eq!(stored(other), None, "{other}");
        }
    }
}
