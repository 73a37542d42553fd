//! Geodesic distances in metres on the WGS84 ellipsoid, to the nearest point of a
//! geometry (0 inside a polygon), computed the way PostGIS measures `geography`:
//! the nearest point is found on the sphere, treating edges as great-circle arcs, and the
//! distance to it is then measured on the ellipsoid (Karney's geodesic). Containment and
//! crossing tests are spherical too: they run in a gnomonic projection, which maps great
//! circles to straight lines. The SQLite backend uses this; the cross-backend test holds
//! it to PostGIS's answers.

use geo::CoordsIter;
use geo::{Coord, Distance, Geodesic, Geometry, Intersects, Line, LineString, Point, Polygon};

type V3 = [f64; 3];

fn to_v3(c: Coord<f64>) -> V3 {
    let (lon, lat) = (c.x.to_radians(), c.y.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

fn from_v3(v: V3) -> Coord<f64> {
    Coord {
        x: v[1].atan2(v[0]).to_degrees(),
        y: v[2].atan2(v[0].hypot(v[1])).to_degrees(),
    }
}

fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn norm(a: V3) -> f64 {
    dot(a, a).sqrt()
}

/// Squared chord between two unit vectors: grows with the angle between them, is exact
/// for tiny angles, and needs no trigonometry, so nearest-point searches compare by it.
fn chord2(a: V3, b: V3) -> f64 {
    let (x, y, z) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    x * x + y * y + z * z
}

fn unit(a: V3) -> V3 {
    let n = norm(a);
    [a[0] / n, a[1] / n, a[2] / n]
}

/// The gnomonic projection about a point: great circles become straight lines, so
/// planar containment and crossing tests in it are exact on the sphere. It covers the
/// hemisphere around its centre; Assetmap's geometries and searches are far smaller.
struct Gnomonic {
    c: V3,
    east: V3,
    north: V3,
}

impl Gnomonic {
    fn at(center: Coord<f64>) -> Self {
        let c = to_v3(center);
        let axis = if c[2].abs() > 0.999 {
            [1.0, 0.0, 0.0]
        } else {
            [0.0, 0.0, 1.0]
        };
        let east = unit(cross(axis, c));
        let north = cross(c, east);
        Self { c, east, north }
    }

    fn project(&self, p: Coord<f64>) -> Option<Coord<f64>> {
        let v = to_v3(p);
        let d = dot(v, self.c);
        (d > 1e-3).then(|| Coord {
            x: dot(v, self.east) / d,
            y: dot(v, self.north) / d,
        })
    }

    fn chain(&self, chain: &LineString<f64>) -> Option<LineString<f64>> {
        chain
            .0
            .iter()
            .map(|p| self.project(*p))
            .collect::<Option<Vec<_>>>()
            .map(LineString)
    }

    fn polygon(&self, poly: &Polygon<f64>) -> Option<Polygon<f64>> {
        let exterior = self.chain(poly.exterior())?;
        let interiors = poly
            .interiors()
            .iter()
            .map(|r| self.chain(r))
            .collect::<Option<Vec<_>>>()?;
        Some(Polygon::new(exterior, interiors))
    }
}

/// Whether the polygon covers the point (boundary included), with great-circle edges.
fn covers(poly: &Polygon<f64>, p: Coord<f64>) -> bool {
    let g = Gnomonic::at(p);
    match g.polygon(poly) {
        Some(projected) => projected.intersects(&Coord { x: 0.0, y: 0.0 }),
        None => poly.intersects(&p),
    }
}

/// Whether two chains of great-circle arcs cross or touch.
fn chains_cross(a: &LineString<f64>, b: &LineString<f64>) -> bool {
    let Some(center) = a.0.first() else {
        return false;
    };
    let g = Gnomonic::at(*center);
    let (pa, pb) = match (g.chain(a), g.chain(b)) {
        (Some(pa), Some(pb)) => (pa, pb),
        _ => (a.clone(), b.clone()),
    };
    let b_lines: Vec<Line<f64>> = pb.lines().collect();
    pa.lines()
        .any(|la| b_lines.iter().any(|lb| la.intersects(lb)))
}

/// Metres between two positions on the WGS84 ellipsoid.
pub fn geodesic(a: Coord<f64>, b: Coord<f64>) -> f64 {
    Geodesic.distance(Point(a), Point(b))
}

/// The point of the great-circle arc `a`-`b` nearest to `p` on the sphere, with its
/// squared chord (see [`chord2`]).
fn nearest_on_arc(p: V3, a: Coord<f64>, b: Coord<f64>) -> (f64, Coord<f64>) {
    nearest_on_arc_v3(p, (a, to_v3(a)), (b, to_v3(b)))
}

fn nearest_on_arc_v3(
    p: V3,
    (a, va): (Coord<f64>, V3),
    (b, vb): (Coord<f64>, V3),
) -> (f64, Coord<f64>) {
    let (da, db) = (chord2(p, va), chord2(p, vb));
    let mut best = if da <= db { (da, a) } else { (db, b) };
    let n = cross(va, vb);
    let nn = norm(n);
    if nn < 1e-300 {
        return best;
    }
    let n = [n[0] / nn, n[1] / nn, n[2] / nn];
    let s = dot(p, n);
    let k = [p[0] - n[0] * s, p[1] - n[1] * s, p[2] - n[2] * s];
    let kn = norm(k);
    if kn < 1e-300 {
        return best;
    }
    let k = [k[0] / kn, k[1] / kn, k[2] / kn];
    // k lies on the arc when it is between a and b going the short way round
    if dot(cross(va, k), n) >= 0.0 && dot(cross(k, vb), n) >= 0.0 {
        let dk = chord2(p, k);
        if dk < best.0 {
            best = (dk, from_v3(k));
        }
    }
    best
}

/// Nearest point of a chain of arcs to `p` (on the sphere).
fn nearest_on_chain(p: Coord<f64>, chain: &LineString<f64>) -> (f64, Coord<f64>) {
    let vp = to_v3(p);
    let mut best = (f64::INFINITY, p);
    for line in chain.lines() {
        let candidate = nearest_on_arc(vp, line.start, line.end);
        if candidate.0 < best.0 {
            best = candidate;
        }
    }
    if chain.0.len() == 1 {
        best = (chord2(vp, to_v3(chain.0[0])), chain.0[0]);
    }
    best
}

fn point_to_chain(p: Coord<f64>, chain: &LineString<f64>) -> f64 {
    let (_, nearest) = nearest_on_chain(p, chain);
    geodesic(p, nearest)
}

fn point_to_polygon(p: Coord<f64>, poly: &Polygon<f64>) -> f64 {
    if covers(poly, p) {
        return 0.0;
    }
    std::iter::once(poly.exterior())
        .chain(poly.interiors())
        .map(|ring| point_to_chain(p, ring))
        .fold(f64::INFINITY, f64::min)
}

/// Metres from a chain to a chain: 0 where they cross, else between the nearest pair of
/// points found on the sphere.
fn chain_to_chain(a: &LineString<f64>, b: &LineString<f64>) -> f64 {
    if chains_cross(a, b) {
        return 0.0;
    }
    // each vertex of one chain against every arc of the other: the unit vectors are
    // worked out once per chain, not once per pair
    let va: Vec<(Coord<f64>, V3)> = a.0.iter().map(|c| (*c, to_v3(*c))).collect();
    let vb: Vec<(Coord<f64>, V3)> = b.0.iter().map(|c| (*c, to_v3(*c))).collect();
    let nearest = |p: (Coord<f64>, V3), chain: &[(Coord<f64>, V3)]| match chain {
        [only] => (chord2(p.1, only.1), only.0),
        _ => chain
            .windows(2)
            .map(|w| nearest_on_arc_v3(p.1, w[0], w[1]))
            .fold(
                (f64::INFINITY, p.0),
                |best, c| if c.0 < best.0 { c } else { best },
            ),
    };
    let mut best = (f64::INFINITY, Coord::zero(), Coord::zero());
    for p in &va {
        let (d, q) = nearest(*p, &vb);
        if d < best.0 {
            best = (d, p.0, q);
        }
    }
    for p in &vb {
        let (d, q) = nearest(*p, &va);
        if d < best.0 {
            best = (d, q, p.0);
        }
    }
    if best.0.is_infinite() {
        return f64::INFINITY;
    }
    geodesic(best.1, best.2)
}

fn rings(poly: &Polygon<f64>) -> impl Iterator<Item = &LineString<f64>> {
    std::iter::once(poly.exterior()).chain(poly.interiors())
}

/// A geometry broken into the parts PostGIS measures separately.
enum Part<'a> {
    Point(Coord<f64>),
    Chain(&'a LineString<f64>),
    Polygon(&'a Polygon<f64>),
}

fn parts(g: &Geometry<f64>) -> Vec<Part<'_>> {
    match g {
        Geometry::Point(p) => vec![Part::Point(p.0)],
        Geometry::MultiPoint(mp) => mp.0.iter().map(|p| Part::Point(p.0)).collect(),
        Geometry::LineString(l) => vec![Part::Chain(l)],
        Geometry::MultiLineString(ml) => ml.0.iter().map(Part::Chain).collect(),
        Geometry::Polygon(p) => vec![Part::Polygon(p)],
        Geometry::MultiPolygon(mp) => mp.0.iter().map(Part::Polygon).collect(),
        Geometry::Line(l) => vec![Part::Point(l.start), Part::Point(l.end)],
        Geometry::Rect(_) | Geometry::Triangle(_) | Geometry::GeometryCollection(_) => Vec::new(),
    }
}

fn part_distance(a: &Part<'_>, b: &Part<'_>) -> f64 {
    match (a, b) {
        (Part::Point(p), Part::Point(q)) => geodesic(*p, *q),
        (Part::Point(p), Part::Chain(c)) | (Part::Chain(c), Part::Point(p)) => {
            point_to_chain(*p, c)
        }
        (Part::Point(p), Part::Polygon(poly)) | (Part::Polygon(poly), Part::Point(p)) => {
            point_to_polygon(*p, poly)
        }
        (Part::Chain(a), Part::Chain(b)) => chain_to_chain(a, b),
        (Part::Chain(c), Part::Polygon(poly)) | (Part::Polygon(poly), Part::Chain(c)) => {
            if c.0.first().is_some_and(|p| covers(poly, *p)) {
                return 0.0;
            }
            rings(poly)
                .map(|ring| chain_to_chain(c, ring))
                .fold(f64::INFINITY, f64::min)
        }
        (Part::Polygon(a), Part::Polygon(b)) => {
            let a_first = a.exterior().0.first();
            let b_first = b.exterior().0.first();
            if b_first.is_some_and(|p| covers(a, *p)) || a_first.is_some_and(|p| covers(b, *p)) {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for ra in rings(a) {
                for rb in rings(b) {
                    best = best.min(chain_to_chain(ra, rb));
                }
            }
            best
        }
    }
}

/// A geometry measured against many points (the query of a corridor or area search):
/// its vertices are turned into unit vectors once, not once per candidate.
pub struct Prepared {
    /// Worked out when first measured: a viewport only asks whether geometry meets its
    /// box, which needs none of it.
    parts: std::sync::OnceLock<Vec<PreparedPart>>,
    geometry: Geometry<f64>,
    vertices: usize,
}

/// A chain of arcs with its vertices as unit vectors, and bounding caps (a centre and a
/// chord radius) over runs of segments, so far-away runs are skipped without measuring.
struct Chain {
    pts: Vec<(Coord<f64>, V3)>,
    caps: Vec<Cap>,
}

struct Cap {
    center: V3,
    radius: f64,
    /// The segments it covers: `pts[start..=end]`.
    start: usize,
    end: usize,
}

const CAP_SEGMENTS: usize = 16;

impl Chain {
    /// The nearest point of the chain to `vp` (the unit vector of `p`), by squared chord.
    fn nearest(&self, vp: V3, p: Coord<f64>) -> (f64, Coord<f64>) {
        let mut best = (f64::INFINITY, p);
        if let [only] = self.pts.as_slice() {
            return (chord2(vp, only.1), only.0);
        }
        for cap in &self.caps {
            let lower = (chord2(vp, cap.center).sqrt() - cap.radius).max(0.0);
            if lower * lower > best.0 {
                continue;
            }
            for w in self.pts[cap.start..=cap.end].windows(2) {
                let candidate = nearest_on_arc_v3(vp, w[0], w[1]);
                if candidate.0 < best.0 {
                    best = candidate;
                }
            }
        }
        best
    }
}

enum PreparedPart {
    Point(Coord<f64>),
    Chain(Chain),
    Polygon {
        rings: Vec<Chain>,
        bbox: geo::Rect<f64>,
        original: Polygon<f64>,
    },
}

fn chain_v3(chain: &LineString<f64>) -> Chain {
    let pts: Vec<(Coord<f64>, V3)> = chain.0.iter().map(|c| (*c, to_v3(*c))).collect();
    let segments = pts.len().saturating_sub(1);
    let mut caps = Vec::with_capacity(segments / CAP_SEGMENTS + 1);
    let mut start = 0;
    while start < segments {
        let end = (start + CAP_SEGMENTS).min(segments);
        let run = &pts[start..=end];
        let sum = run.iter().fold([0.0; 3], |acc, (_, v)| {
            [acc[0] + v[0], acc[1] + v[1], acc[2] + v[2]]
        });
        let center = if norm(sum) > 1e-12 {
            unit(sum)
        } else {
            run[0].1
        };
        let mut radius: f64 = run
            .iter()
            .map(|(_, v)| chord2(center, *v).sqrt())
            .fold(0.0, f64::max);
        // an arc bows outward from its chord by at most a quarter of the chord's square
        let longest = run
            .windows(2)
            .map(|w| chord2(w[0].1, w[1].1))
            .fold(0.0, f64::max);
        radius += longest / 4.0 + 1e-12;
        caps.push(Cap {
            center,
            radius,
            start,
            end,
        });
        start = end;
    }
    Chain { pts, caps }
}

impl Prepared {
    pub fn new(g: &Geometry<f64>) -> Self {
        Self {
            parts: std::sync::OnceLock::new(),
            geometry: g.clone(),
            vertices: g.coords_count(),
        }
    }

    fn parts(&self) -> &[PreparedPart] {
        self.parts.get_or_init(|| {
            use geo::BoundingRect;
            parts(&self.geometry)
                .into_iter()
                .filter_map(|part| match part {
                    Part::Point(p) => Some(PreparedPart::Point(p)),
                    Part::Chain(c) => Some(PreparedPart::Chain(chain_v3(c))),
                    Part::Polygon(poly) => Some(PreparedPart::Polygon {
                        rings: rings(poly).map(chain_v3).collect(),
                        bbox: poly.bounding_rect()?,
                        original: poly.clone(),
                    }),
                })
                .collect()
        })
    }

    pub fn geometry(&self) -> &Geometry<f64> {
        &self.geometry
    }

    pub fn vertices(&self) -> usize {
        self.vertices
    }

    /// Metres between the nearest points of the geometry and another (0 where they
    /// intersect). A geometry with a vertex inside one of our polygons is 0 at once.
    pub fn distance_to_geometry(&self, other: &Geometry<f64>) -> f64 {
        let first = parts(other).first().and_then(|part| match part {
            Part::Point(p) => Some(*p),
            Part::Chain(c) => c.0.first().copied(),
            Part::Polygon(poly) => poly.exterior().0.first().copied(),
        });
        if let Some(p) = first {
            let vp = to_v3(p);
            let covered = self.parts().iter().any(|part| match part {
                PreparedPart::Polygon {
                    rings, original, ..
                } => covers_v3(rings, vp).unwrap_or_else(|| covers(original, p)),
                _ => false,
            });
            if covered {
                return 0.0;
            }
        }
        distance_between(other, &self.geometry)
    }

    /// Metres from a position to the nearest point of the geometry (0 inside a polygon).
    pub fn distance_to_point(&self, p: Coord<f64>) -> f64 {
        let vp = to_v3(p);
        let nearest_on = |chain: &Chain| geodesic(p, chain.nearest(vp, p).1);
        let mut best = f64::INFINITY;
        for part in self.parts() {
            let d = match part {
                PreparedPart::Point(q) => geodesic(p, *q),
                PreparedPart::Chain(chain) => nearest_on(chain),
                PreparedPart::Polygon {
                    rings,
                    bbox,
                    original,
                } => {
                    let in_box = bbox.min().x <= p.x
                        && p.x <= bbox.max().x
                        && bbox.min().y <= p.y
                        && p.y <= bbox.max().y;
                    // the box is planar and great-circle edges bow out of it (by about
                    // 1% of their length), so points near the box are tested too
                    let near_box = in_box || {
                        let margin = 0.01 + 0.05 * bbox.width().max(bbox.height());
                        let (dx, dy) = (
                            (bbox.min().x - p.x).max(p.x - bbox.max().x).max(0.0),
                            (bbox.min().y - p.y).max(p.y - bbox.max().y).max(0.0),
                        );
                        dx.max(dy) < margin
                    };
                    if near_box && covers_v3(rings, vp).unwrap_or_else(|| covers(original, p)) {
                        0.0
                    } else {
                        rings.iter().map(nearest_on).fold(f64::INFINITY, f64::min)
                    }
                }
            };
            best = best.min(d);
            if best == 0.0 {
                break;
            }
        }
        best
    }
}

/// Whether rings (shell first) cover the point, by counting crossings of a ray in the
/// gnomonic projection about the point; `None` when a vertex is too far round the globe
/// for the projection.
fn covers_v3(rings: &[Chain], vp: V3) -> Option<bool> {
    let axis = if vp[2].abs() > 0.999 {
        [1.0, 0.0, 0.0]
    } else {
        [0.0, 0.0, 1.0]
    };
    let east = unit(cross(axis, vp));
    let north = cross(vp, east);
    let project = |v: V3| {
        let d = dot(v, vp);
        (d > 1e-3).then(|| (dot(v, east) / d, dot(v, north) / d))
    };
    let mut inside = false;
    for ring in rings {
        let mut prev = project(ring.pts.first()?.1)?;
        for (_, v) in &ring.pts[1..] {
            let cur = project(*v)?;
            let ((x1, y1), (x2, y2)) = (prev, cur);
            // the point is the origin: on an edge counts as covered
            let cross_z = x1 * y2 - x2 * y1;
            if cross_z == 0.0
                && x1.min(x2) <= 0.0
                && 0.0 <= x1.max(x2)
                && y1.min(y2) <= 0.0
                && 0.0 <= y1.max(y2)
            {
                return Some(true);
            }
            if (y1 > 0.0) != (y2 > 0.0) && x1 + (0.0 - y1) * (x2 - x1) / (y2 - y1) > 0.0 {
                inside = !inside;
            }
            prev = cur;
        }
    }
    Some(inside)
}

/// Metres from a position to the nearest point of a geometry (0 inside a polygon): the
/// plain form, which [`Prepared::distance_to_point`] is tested against.
#[cfg(test)]
fn distance_to_point(g: &Geometry<f64>, p: Coord<f64>) -> f64 {
    let point = Part::Point(p);
    parts(g)
        .iter()
        .map(|part| part_distance(part, &point))
        .fold(f64::INFINITY, f64::min)
}

/// Metres between the nearest points of two geometries (0 where they intersect).
pub fn distance_between(a: &Geometry<f64>, b: &Geometry<f64>) -> f64 {
    let pb = parts(b);
    let mut best = f64::INFINITY;
    for x in parts(a) {
        for y in &pb {
            best = best.min(part_distance(&x, y));
            if best == 0.0 {
                return 0.0;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests;
