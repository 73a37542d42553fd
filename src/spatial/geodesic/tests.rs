//! Tests of the parent module.

use super::*;
use geo::{LineString, polygon};

fn c(x: f64, y: f64) -> Coord<f64> {
    Coord { x, y }
}

#[test]
fn a_line_is_measured_to_its_nearest_point_not_its_middle() {
    // a 10 km east-west path; the point is 300 m north of its western end's neighbourhood
    let line = Geometry::LineString(LineString(vec![c(-2.30, 53.48), c(-2.15, 53.48)]));
    let p = c(-2.29, 53.48 + 300.0 / 111_250.0);
    let d = distance_to_point(&line, p);
    assert!((d - 300.0).abs() < 2.0, "got {d}");
}

#[test]
fn inside_a_park_is_zero_and_outside_is_to_the_edge() {
    let park = Geometry::Polygon(polygon![
        (x: -2.25, y: 53.47), (x: -2.24, y: 53.47), (x: -2.24, y: 53.48), (x: -2.25, y: 53.48), (x: -2.25, y: 53.47)
    ]);
    assert_eq!(distance_to_point(&park, c(-2.245, 53.475)), 0.0);
    let outside = distance_to_point(&park, c(-2.245, 53.49));
    let to_edge = geodesic(c(-2.245, 53.49), c(-2.245, 53.48));
    assert!((outside - to_edge).abs() < 0.5, "{outside} vs {to_edge}");
}

#[test]
fn point_to_point_is_the_ellipsoidal_geodesic() {
    // values only the WGS84 ellipsoid gives (a sphere is off by tens of metres to
    // kilometres): Karney's "Algorithms for geodesics" (2013), its examples of the
    // inverse problem, and Manchester to Wigan as GeographicLib measures it
    for (from, to, expected, within) in [
        // the paper's nearly antipodal example: 19 989 832.827 610 m
        (c(0.0, -30.0), c(179.8, 29.9), 19_989_832.827_61, 1e-3),
        // and its short one, 4.944 208 m
        (c(0.0, -30.123_45), c(0.000_05, -30.123_44), 4.944_208, 1e-6),
        (
            c(-2.2426, 53.4808),
            c(-2.6325, 53.5450),
            26_834.267_422,
            1e-3,
        ),
    ] {
        let d = geodesic(from, to);
        assert!(
            (d - expected).abs() < within,
            "{from:?} to {to:?}: {d}, expected {expected}"
        );
        let via_point = distance_to_point(&Geometry::Point(Point::from(from)), to);
        assert!((via_point - expected).abs() < within, "{via_point}");
    }
}

#[test]
fn long_edges_are_great_circles() {
    // a 5 km edge bows north of the straight lon/lat line: a point just south of
    // the line's midpoint in lon/lat is outside on the sphere, and vice versa
    let a = c(-2.40, 53.45);
    let b = c(-2.32, 53.45);
    let mid_on_arc = from_v3(unit([
        to_v3(a)[0] + to_v3(b)[0],
        to_v3(a)[1] + to_v3(b)[1],
        to_v3(a)[2] + to_v3(b)[2],
    ]));
    assert!(mid_on_arc.y > 53.45 + 1e-6, "{mid_on_arc:?}");
    let square = Polygon::new(
        LineString(vec![a, b, c(-2.32, 53.40), c(-2.40, 53.40), a]),
        vec![],
    );
    assert!(
        covers(&square, c(-2.36, 53.45 + 1e-7)),
        "between the line and the arc"
    );
    assert!(!covers(&square, c(-2.36, mid_on_arc.y + 1e-6)));
}

#[test]
fn prepared_geometry_measures_like_the_plain_one() {
    let shapes = [
        Geometry::Polygon(Polygon::new(
            LineString(vec![
                c(-2.3, 53.4),
                c(-2.2, 53.4),
                c(-2.2, 53.5),
                c(-2.3, 53.5),
                c(-2.3, 53.4),
            ]),
            vec![LineString(vec![
                c(-2.26, 53.44),
                c(-2.24, 53.44),
                c(-2.24, 53.46),
                c(-2.26, 53.44),
            ])],
        )),
        Geometry::LineString(LineString(vec![
            c(-2.3, 53.4),
            c(-2.25, 53.45),
            c(-2.1, 53.46),
        ])),
        Geometry::Point(Point::new(-2.24, 53.48)),
    ];
    for shape in &shapes {
        let prepared = Prepared::new(shape);
        for i in 0..400 {
            let p = c(
                -2.35 + f64::from(i % 20) * 0.015,
                53.38 + f64::from(i / 20) * 0.007,
            );
            let (a, b) = (distance_to_point(shape, p), prepared.distance_to_point(p));
            assert!((a - b).abs() < 1e-6, "{p:?}: {a} vs {b}");
        }
    }
}

#[test]
fn crossing_lines_are_zero_apart() {
    let a = Geometry::LineString(LineString(vec![c(0.0, 0.0), c(1.0, 1.0)]));
    let b = Geometry::LineString(LineString(vec![c(0.0, 1.0), c(1.0, 0.0)]));
    assert_eq!(distance_between(&a, &b), 0.0);
}
