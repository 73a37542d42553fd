//! Geometry in a compact binary form, for exact distances without parsing GeoJSON: a
//! type byte, then counts (u32) and positions (two f64, longitude then latitude), all
//! little-endian. Decoding is a copy of numbers; what went in (a geometry that passed
//! the gate) comes out unchanged.

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};

const POINT: u8 = 1;
const MULTI_POINT: u8 = 2;
const LINE: u8 = 3;
const MULTI_LINE: u8 = 4;
const POLYGON: u8 = 5;
const MULTI_POLYGON: u8 = 6;

fn put_count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_coord(out: &mut Vec<u8>, c: Coord<f64>) {
    out.extend_from_slice(&c.x.to_le_bytes());
    out.extend_from_slice(&c.y.to_le_bytes());
}

fn put_line(out: &mut Vec<u8>, line: &LineString<f64>) {
    put_count(out, line.0.len());
    for c in &line.0 {
        put_coord(out, *c);
    }
}

fn put_polygon(out: &mut Vec<u8>, poly: &Polygon<f64>) {
    put_count(out, 1 + poly.interiors().len());
    put_line(out, poly.exterior());
    for hole in poly.interiors() {
        put_line(out, hole);
    }
}

/// The geometry as bytes (a GeometryCollection, which the gate never lets in, as an
/// empty MultiPoint).
pub fn encode(geometry: &Geometry<f64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    match geometry {
        Geometry::Point(p) => {
            out.push(POINT);
            put_coord(&mut out, p.0);
        }
        Geometry::MultiPoint(mp) => {
            out.push(MULTI_POINT);
            put_count(&mut out, mp.0.len());
            for p in &mp.0 {
                put_coord(&mut out, p.0);
            }
        }
        Geometry::LineString(l) => {
            out.push(LINE);
            put_line(&mut out, l);
        }
        Geometry::MultiLineString(ml) => {
            out.push(MULTI_LINE);
            put_count(&mut out, ml.0.len());
            for l in &ml.0 {
                put_line(&mut out, l);
            }
        }
        Geometry::Polygon(p) => {
            out.push(POLYGON);
            put_polygon(&mut out, p);
        }
        Geometry::MultiPolygon(mp) => {
            out.push(MULTI_POLYGON);
            put_count(&mut out, mp.0.len());
            for p in &mp.0 {
                put_polygon(&mut out, p);
            }
        }
        _ => {
            out.push(MULTI_POINT);
            put_count(&mut out, 0);
        }
    }
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.bytes.split_first_chunk::<N>()?;
        self.bytes = rest;
        Some(*head)
    }

    fn count(&mut self) -> Option<usize> {
        usize::try_from(u32::from_le_bytes(self.take()?)).ok()
    }

    fn coord(&mut self) -> Option<Coord<f64>> {
        Some(Coord {
            x: f64::from_le_bytes(self.take()?),
            y: f64::from_le_bytes(self.take()?),
        })
    }

    /// A count no larger than what the rest of the bytes could hold (each item at least
    /// `min_bytes`), so a damaged length never asks for a huge allocation.
    fn bounded(&mut self, min_bytes: usize) -> Option<usize> {
        let n = self.count()?;
        (n.saturating_mul(min_bytes) <= self.bytes.len()).then_some(n)
    }

    fn line(&mut self) -> Option<LineString<f64>> {
        let n = self.bounded(16)?;
        (0..n)
            .map(|_| self.coord())
            .collect::<Option<Vec<_>>>()
            .map(LineString)
    }

    fn polygon(&mut self) -> Option<Polygon<f64>> {
        let rings = self.bounded(4)?;
        let exterior = self.line()?;
        let holes = (1..rings)
            .map(|_| self.line())
            .collect::<Option<Vec<_>>>()?;
        Some(Polygon::new(exterior, holes))
    }
}

/// The geometry these bytes hold; None when they are not what [`encode`] writes.
pub fn decode(bytes: &[u8]) -> Option<Geometry<f64>> {
    let (&kind, rest) = bytes.split_first()?;
    let mut r = Reader { bytes: rest };
    let geometry = match kind {
        POINT => Geometry::Point(Point(r.coord()?)),
        MULTI_POINT => {
            let n = r.bounded(16)?;
            let points = (0..n)
                .map(|_| r.coord().map(Point))
                .collect::<Option<Vec<_>>>()?;
            Geometry::MultiPoint(MultiPoint(points))
        }
        LINE => Geometry::LineString(r.line()?),
        MULTI_LINE => {
            let n = r.bounded(4)?;
            let lines = (0..n).map(|_| r.line()).collect::<Option<Vec<_>>>()?;
            Geometry::MultiLineString(MultiLineString(lines))
        }
        POLYGON => Geometry::Polygon(r.polygon()?),
        MULTI_POLYGON => {
            let n = r.bounded(8)?;
            let polys = (0..n).map(|_| r.polygon()).collect::<Option<Vec<_>>>()?;
            Geometry::MultiPolygon(MultiPolygon(polys))
        }
        _ => return None,
    };
    r.bytes.is_empty().then_some(geometry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ValidGeometry;
    use serde_json::json;

    #[test]
    fn every_type_round_trips_exactly() {
        for g in [
            json!({"type": "Point", "coordinates": [-2.2426, 53.4808]}),
            json!({"type": "MultiPoint", "coordinates": [[-2.2, 53.4], [-2.3, 53.5]]}),
            json!({"type": "LineString", "coordinates": [[-2.2, 53.4], [-2.3, 53.5], [-2.31, 53.51]]}),
            json!({"type": "MultiLineString", "coordinates": [[[-2.2, 53.4], [-2.3, 53.5]], [[0.1, 0.2], [0.3, 0.4]]]}),
            json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]],
                                                       [[0.5, 0.2], [0.6, 0.2], [0.6, 0.3], [0.5, 0.2]]]}),
            json!({"type": "MultiPolygon", "coordinates": [[[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]],
                                                            [[[5.0, 5.0], [6.0, 5.0], [6.0, 6.0], [5.0, 5.0]]]]}),
        ] {
            let valid = ValidGeometry::parse(&g).unwrap();
            let bytes = encode(valid.geometry());
            assert_eq!(decode(&bytes).as_ref(), Some(valid.geometry()), "{g}");
        }
    }

    #[test]
    fn damaged_bytes_decode_to_nothing() {
        let line = encode(&Geometry::LineString(LineString(vec![
            Coord { x: 1.0, y: 2.0 },
            Coord { x: 3.0, y: 4.0 },
        ])));
        assert!(decode(&line[..line.len() - 1]).is_none());
        assert!(decode(&[]).is_none());
        assert!(decode(&[9]).is_none());
        let mut huge = vec![LINE];
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge).is_none(), "a damaged count asks for nothing");
        let mut trailing = line.clone();
        trailing.push(0);
        assert!(decode(&trailing).is_none());
    }
}
