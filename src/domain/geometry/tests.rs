//! Tests of the parent module.

use super::*;
use serde_json::json;

#[expect(
    clippy::needless_pass_by_value,
    reason = "the tests hand over json! values they build in place"
)]
fn reason(v: Value) -> Reason {
    match ValidGeometry::parse(&v) {
        Ok(g) => panic!("expected a rejection, got {g:?}"),
        Err(e) => e.reason,
    }
}

#[test]
fn accepts_a_point_and_drops_altitude() {
    let g =
        ValidGeometry::parse(&json!({"type": "Point", "coordinates": [-2.3, 53.4, 40.0]})).unwrap();
    assert_eq!(g.geometry_type(), GeometryType::Point);
    assert_eq!(
        g.to_geojson_value(),
        json!({"type": "Point", "coordinates": [-2.3, 53.4]})
    );
}

#[test]
fn orients_polygon_rings_counter_clockwise() {
    // clockwise exterior in, counter-clockwise out
    let g = ValidGeometry::parse(&json!({"type": "Polygon", "coordinates": [
        [[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]
    ]}))
    .unwrap();
    let out = g.to_geojson_value();
    assert_eq!(out["coordinates"][0][1], json!([1.0, 0.0]));
}

#[test]
fn rejects_each_rule_with_its_reason() {
    assert_eq!(reason(json!([1, 2])), Reason::Malformed);
    assert_eq!(reason(json!({"type": "Point"})), Reason::Malformed);
    assert_eq!(
        reason(json!({"type": "GeometryCollection", "geometries": []})),
        Reason::UnsupportedType
    );
    assert_eq!(
        reason(json!({"type": "Feature", "geometry": null})),
        Reason::UnsupportedType
    );
    assert_eq!(
        reason(json!({"type": "Point", "coordinates": [200.0, 10.0]})),
        Reason::OutOfRange
    );
    assert_eq!(
        reason(json!({"type": "Point", "coordinates": [1.0, 91.0]})),
        Reason::OutOfRange
    );
    assert_eq!(
        reason(json!({"type": "Point", "coordinates": [1.0]})),
        Reason::BadPosition
    );
    assert_eq!(
        reason(json!({"type": "Point", "coordinates": [1.0, 2.0, 3.0, 4.0]})),
        Reason::BadPosition
    );
    assert_eq!(
        reason(json!({"type": "Point", "coordinates": ["1", 2.0]})),
        Reason::BadPosition
    );
    assert_eq!(
        reason(json!({"type": "MultiPoint", "coordinates": []})),
        Reason::Empty
    );
    assert_eq!(
        reason(json!({"type": "LineString", "coordinates": [[1.0, 1.0], [1.0, 1.0]]})),
        Reason::TooFewPositions
    );
    assert_eq!(
        reason(
            json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]]})
        ),
        Reason::RingNotClosed
    );
    assert_eq!(
        reason(json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]]})),
        Reason::RingTooShort
    );
    // a bow tie crosses itself
    assert_eq!(
        reason(
            json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]})
        ),
        Reason::InvalidPolygon
    );
    assert_eq!(
        reason(json!({"type": "Point", "coordinates": [1.0, 2.0],
            "crs": {"type": "name", "properties": {"name": "EPSG:27700"}}})),
        Reason::UnsupportedCrs
    );
}

#[test]
fn reports_where_the_fault_is() {
    let err = ValidGeometry::parse(
        &json!({"type": "LineString", "coordinates": [[1.0, 1.0], [1.0, 95.0]]}),
    )
    .unwrap_err();
    assert_eq!(err.path.as_deref(), Some("coordinates[1]"));
}

#[test]
fn caps_vertices_before_building_anything() {
    let coords: Vec<Value> = (0..=MAX_VERTICES)
        .map(|i| json!([0.0, i as f64 * 1e-5]))
        .collect();
    let err =
        ValidGeometry::parse(&json!({"type": "LineString", "coordinates": coords})).unwrap_err();
    assert_eq!(err.reason, Reason::TooManyVertices);
    let parts: Vec<Value> = (0..=MAX_PARTS)
        .map(|_| json!([[0.0, 0.0], [1.0, 1.0]]))
        .collect();
    let err = ValidGeometry::parse(&json!({"type": "MultiLineString", "coordinates": parts}))
        .unwrap_err();
    assert_eq!(err.reason, Reason::TooManyParts);
}

#[test]
fn the_stored_text_is_the_normalised_object_printed() {
    let cases = [
        json!({"type": "Point", "coordinates": [-2.2426, 53.4808]}),
        json!({"type": "Point", "coordinates": [2, -0.1e-7, 40]}),
        json!({"type": "MultiPoint", "coordinates": [[-2.1, 53.1], [-2.0, 53.0]]}),
        json!({"type": "LineString", "coordinates": [[-2.35, 53.42], [-2.300_000_1, 53.45], [-2.24, 53.47]]}),
        json!({"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3.5]]]}),
        json!({"type": "Polygon", "coordinates": [
            [[0, 0], [0, 4], [4, 4], [4, 0], [0, 0]],
            [[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]]}),
        json!({"type": "MultiPolygon", "coordinates": [
            [[[0, 0], [1, 0], [1, 1], [0, 0]]],
            [[[5, 5], [6, 5], [6, 6], [5, 5]]]]}),
    ];
    for case in cases {
        let g = ValidGeometry::parse(&case).unwrap();
        assert_eq!(
            g.to_geojson_string(),
            g.to_geojson_value().to_string(),
            "{case}"
        );
        assert_eq!(ValidGeometry::parse_str(&g.to_geojson_string()).unwrap(), g);
    }
}
