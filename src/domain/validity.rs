//! Polygon validity (OGC simple features) without quadratic work on ordinary shapes.
//!
//! `geo`'s own check compares every edge with every other edge, which takes about a
//! second for a 5 000-vertex ring. Here the edges go into an R-tree and only edges whose
//! boxes meet are compared; the rules are the usual ones: rings have three distinct
//! points and do not cross or touch themselves, rings of a polygon cross nowhere (a touch
//! at one point is allowed), holes lie inside the shell and not inside each other, and
//! the polygons of a MultiPolygon do not overlap.

use std::collections::HashSet;
use std::fmt;

use geo::coordinate_position::CoordPos;
use geo::line_intersection::{LineIntersection, line_intersection};
use geo::{BoundingRect, CoordinatePosition, Line, LineString, Polygon, Rect};
use rstar::{AABB, RTree, RTreeObject};

/// What is wrong, and where (polygon and ring indexes, ring 0 the shell).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    TooFewDistinctPoints {
        polygon: usize,
        ring: usize,
    },
    SelfIntersection {
        polygon: usize,
        ring: usize,
    },
    RingsCross {
        polygon: usize,
        ring: usize,
        other: usize,
    },
    HoleOutsideShell {
        polygon: usize,
        ring: usize,
    },
    HoleInsideHole {
        polygon: usize,
        ring: usize,
        other: usize,
    },
    PolygonsOverlap {
        polygon: usize,
        other: usize,
    },
}

impl Problem {
    /// The polygon the problem is in, for the JSON path.
    pub fn polygon(&self) -> usize {
        match self {
            Self::TooFewDistinctPoints { polygon, .. }
            | Self::SelfIntersection { polygon, .. }
            | Self::RingsCross { polygon, .. }
            | Self::HoleOutsideShell { polygon, .. }
            | Self::HoleInsideHole { polygon, .. }
            | Self::PolygonsOverlap { polygon, .. } => *polygon,
        }
    }
}

fn ring_name(ring: usize) -> String {
    if ring == 0 {
        "the exterior ring".to_owned()
    } else {
        format!("interior ring {}", ring - 1)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooFewDistinctPoints { ring, .. } => {
                write!(
                    f,
                    "{} must have at least 3 distinct points",
                    ring_name(*ring)
                )
            }
            Self::SelfIntersection { ring, .. } => {
                write!(f, "{} crosses or touches itself", ring_name(*ring))
            }
            Self::RingsCross { ring, other, .. } => {
                write!(f, "{} and {} cross", ring_name(*ring), ring_name(*other))
            }
            Self::HoleOutsideShell { ring, .. } => {
                write!(f, "{} is not inside the exterior ring", ring_name(*ring))
            }
            Self::HoleInsideHole { ring, other, .. } => {
                write!(f, "{} lies inside {}", ring_name(*ring), ring_name(*other))
            }
            Self::PolygonsOverlap { polygon, other } => {
                write!(f, "polygons {polygon} and {other} overlap")
            }
        }
    }
}

struct Edge {
    line: Line<f64>,
    polygon: usize,
    ring: usize,
    index: usize,
    ring_edges: usize,
}

impl RTreeObject for Edge {
    type Envelope = AABB<[f64; 2]>;

    fn envelope(&self) -> Self::Envelope {
        let (a, b) = (self.line.start, self.line.end);
        AABB::from_corners([a.x.min(b.x), a.y.min(b.y)], [a.x.max(b.x), a.y.max(b.y)])
    }
}

fn rings(p: &Polygon<f64>) -> impl Iterator<Item = &LineString<f64>> {
    std::iter::once(p.exterior()).chain(p.interiors())
}

/// Checks one polygon, or the polygons of a MultiPolygon together.
pub fn check(polygons: &[Polygon<f64>]) -> Result<(), Problem> {
    let mut edges = Vec::new();
    for (pi, polygon) in polygons.iter().enumerate() {
        for (ri, ring) in rings(polygon).enumerate() {
            let distinct: HashSet<(u64, u64)> = ring
                .0
                .iter()
                .map(|c| (c.x.to_bits(), c.y.to_bits()))
                .collect();
            if distinct.len() < 3 {
                return Err(Problem::TooFewDistinctPoints {
                    polygon: pi,
                    ring: ri,
                });
            }
            // repeated points make zero-length edges: allowed, and nothing to compare
            let lines: Vec<Line<f64>> = ring.lines().filter(|l| l.start != l.end).collect();
            let ring_edges = lines.len();
            edges.extend(lines.into_iter().enumerate().map(|(index, line)| Edge {
                line,
                polygon: pi,
                ring: ri,
                index,
                ring_edges,
            }));
        }
    }
    let tree = RTree::bulk_load(edges);
    for edge in &tree {
        for other in tree.locate_in_envelope_intersecting(&edge.envelope()) {
            let key = |e: &Edge| (e.polygon, e.ring, e.index);
            if key(other) <= key(edge) {
                continue;
            }
            check_pair(edge, other)?;
        }
    }
    for (pi, polygon) in polygons.iter().enumerate() {
        check_holes(pi, polygon)?;
    }
    check_overlaps(polygons)
}

fn check_pair(a: &Edge, b: &Edge) -> Result<(), Problem> {
    let Some(meeting) = line_intersection(a.line, b.line) else {
        return Ok(());
    };
    let point = match meeting {
        LineIntersection::Collinear { intersection } if intersection.start != intersection.end => {
            None
        }
        LineIntersection::Collinear { intersection } => Some((intersection.start, false)),
        LineIntersection::SinglePoint {
            intersection,
            is_proper,
        } => Some((intersection, is_proper)),
    };
    if a.polygon == b.polygon && a.ring == b.ring {
        // consecutive edges share their common vertex, and only that
        let consecutive = b.index == a.index + 1 || (a.index == 0 && b.index + 1 == a.ring_edges);
        let shared = if b.index == a.index + 1 {
            a.line.end
        } else {
            a.line.start
        };
        return match point {
            Some((p, _)) if consecutive && p == shared => Ok(()),
            _ => Err(Problem::SelfIntersection {
                polygon: a.polygon,
                ring: a.ring,
            }),
        };
    }
    match point {
        // rings and polygons may touch at a point, never cross or share an edge
        Some((_, false)) => Ok(()),
        _ if a.polygon == b.polygon => Err(Problem::RingsCross {
            polygon: a.polygon,
            ring: a.ring,
            other: b.ring,
        }),
        _ => Err(Problem::PolygonsOverlap {
            polygon: a.polygon,
            other: b.polygon,
        }),
    }
}

/// Where a ring lies relative to an area: inside or outside, judged by its first vertex
/// that is not on the area's boundary (none such: on the boundary all the way).
fn position_of(ring: &LineString<f64>, area: &Polygon<f64>) -> CoordPos {
    ring.0
        .iter()
        .map(|c| area.coordinate_position(c))
        .find(|p| *p != CoordPos::OnBoundary)
        .unwrap_or(CoordPos::OnBoundary)
}

fn boxes_meet(a: Option<Rect<f64>>, b: Option<Rect<f64>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a.min().x <= b.max().x
                && b.min().x <= a.max().x
                && a.min().y <= b.max().y
                && b.min().y <= a.max().y
        }
        _ => false,
    }
}

fn check_holes(pi: usize, polygon: &Polygon<f64>) -> Result<(), Problem> {
    let shell = Polygon::new(polygon.exterior().clone(), Vec::new());
    let holes: Vec<Polygon<f64>> = polygon
        .interiors()
        .iter()
        .map(|h| Polygon::new(h.clone(), Vec::new()))
        .collect();
    for (hi, hole) in polygon.interiors().iter().enumerate() {
        if position_of(hole, &shell) != CoordPos::Inside {
            return Err(Problem::HoleOutsideShell {
                polygon: pi,
                ring: hi + 1,
            });
        }
        for (oi, other) in holes.iter().enumerate() {
            if oi != hi
                && boxes_meet(hole.bounding_rect(), other.bounding_rect())
                && position_of(hole, other) != CoordPos::Outside
            {
                return Err(Problem::HoleInsideHole {
                    polygon: pi,
                    ring: hi + 1,
                    other: oi + 1,
                });
            }
        }
    }
    Ok(())
}

fn check_overlaps(polygons: &[Polygon<f64>]) -> Result<(), Problem> {
    let boxes: Vec<Option<Rect<f64>>> = polygons.iter().map(BoundingRect::bounding_rect).collect();
    for (a, pa) in polygons.iter().enumerate() {
        for (b, pb) in polygons.iter().enumerate() {
            if a != b
                && boxes_meet(boxes[a], boxes[b])
                && position_of(pa.exterior(), pb) != CoordPos::Outside
            {
                return Err(Problem::PolygonsOverlap {
                    polygon: a.min(b),
                    other: a.max(b),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Coord, MultiPolygon, Validation, polygon};

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    fn square(x: f64, y: f64, s: f64) -> LineString<f64> {
        LineString(vec![
            c(x, y),
            c(x + s, y),
            c(x + s, y + s),
            c(x, y + s),
            c(x, y),
        ])
    }

    #[test]
    // long on purpose: a table of cases, one per rule
    fn the_usual_rules() {
        assert!(
            check(&[Polygon::new(
                square(0.0, 0.0, 4.0),
                vec![square(1.0, 1.0, 1.0)]
            )])
            .is_ok()
        );
        let bow_tie = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0), (x: 1.0, y: 0.0), (x: 0.0, y: 1.0), (x: 0.0, y: 0.0)];
        assert!(matches!(
            check(&[bow_tie]),
            Err(Problem::SelfIntersection { .. })
        ));
        let spike = Polygon::new(
            LineString(vec![
                c(0.0, 0.0),
                c(2.0, 0.0),
                c(2.0, 2.0),
                c(2.0, 3.0),
                c(2.0, 2.0),
                c(0.0, 2.0),
                c(0.0, 0.0),
            ]),
            vec![],
        );
        assert!(matches!(
            check(&[spike]),
            Err(Problem::SelfIntersection { .. })
        ));
        let outside = Polygon::new(square(0.0, 0.0, 1.0), vec![square(5.0, 5.0, 1.0)]);
        assert!(matches!(
            check(&[outside]),
            Err(Problem::HoleOutsideShell { ring: 1, .. })
        ));
        let crossing = Polygon::new(square(0.0, 0.0, 2.0), vec![square(1.0, 1.0, 2.0)]);
        assert!(matches!(
            check(&[crossing]),
            Err(Problem::RingsCross { .. })
        ));
        let nested = Polygon::new(
            square(0.0, 0.0, 10.0),
            vec![square(1.0, 1.0, 5.0), square(2.0, 2.0, 1.0)],
        );
        assert!(matches!(
            check(&[nested]),
            Err(Problem::HoleInsideHole { .. })
        ));
        let touching_hole = Polygon::new(
            square(0.0, 0.0, 4.0),
            vec![LineString(vec![
                c(0.0, 2.0),
                c(1.0, 1.0),
                c(1.0, 3.0),
                c(0.0, 2.0),
            ])],
        );
        assert!(
            check(&[touching_hole]).is_ok(),
            "a hole may touch the shell at a point"
        );
        let overlapping = [
            Polygon::new(square(0.0, 0.0, 2.0), vec![]),
            Polygon::new(square(1.0, 1.0, 2.0), vec![]),
        ];
        assert!(matches!(
            check(&overlapping),
            Err(Problem::PolygonsOverlap { .. })
        ));
        let inside = [
            Polygon::new(square(0.0, 0.0, 4.0), vec![]),
            Polygon::new(square(1.0, 1.0, 1.0), vec![]),
        ];
        assert!(matches!(
            check(&inside),
            Err(Problem::PolygonsOverlap { .. })
        ));
        let island_in_lake = [
            Polygon::new(square(0.0, 0.0, 4.0), vec![square(1.0, 1.0, 2.0)]),
            Polygon::new(square(1.5, 1.5, 1.0), vec![]),
        ];
        assert!(check(&island_in_lake).is_ok());
        let degenerate = Polygon::new(
            LineString(vec![c(0.0, 0.0), c(1.0, 1.0), c(0.0, 0.0), c(0.0, 0.0)]),
            vec![],
        );
        assert!(matches!(
            check(&[degenerate]),
            Err(Problem::TooFewDistinctPoints { .. })
        ));
    }

    /// splitmix64, for a fixed set of random polygons
    fn next(state: &mut u64) -> f64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform draw from 0 to `n - 1`.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a draw in [0, 1) scaled to a small count is a small non-negative integer"
    )]
    fn below(state: &mut u64, n: usize) -> usize {
        (next(state) * n as f64) as usize
    }

    #[test]
    fn agrees_with_geo_on_random_polygons() {
        let mut state = 42;
        let (mut valid, mut invalid) = (0, 0);
        for _ in 0..3_000 {
            let n = 3 + below(&mut state, 6);
            let mut ring: Vec<Coord<f64>> = (0..n)
                .map(|_| c(next(&mut state) * 10.0, next(&mut state) * 10.0))
                .collect();
            ring.push(ring[0]);
            let mut holes = Vec::new();
            if next(&mut state) < 0.4 {
                let (x, y) = (next(&mut state) * 8.0, next(&mut state) * 8.0);
                holes.push(square(x, y, next(&mut state) * 3.0 + 0.1));
            }
            let p = Polygon::new(LineString(ring), holes);
            let extra = Polygon::new(
                square(next(&mut state) * 10.0, next(&mut state) * 10.0, 1.0),
                vec![],
            );
            let multi = vec![p.clone(), extra];
            assert_eq!(
                check(std::slice::from_ref(&p)).is_ok(),
                p.is_valid(),
                "{p:?}: {:?}",
                check(std::slice::from_ref(&p))
            );
            let geo_multi = MultiPolygon(multi.clone());
            assert_eq!(
                check(&multi).is_ok(),
                geo_multi.is_valid(),
                "{geo_multi:?}: {:?}",
                check(&multi)
            );
            if p.is_valid() {
                valid += 1;
            } else {
                invalid += 1;
            }
        }
        assert!(
            valid > 300 && invalid > 300,
            "{valid} valid, {invalid} invalid"
        );
    }
}
