//! Viewports and corridors: the candidates in the search's window, measured in order of
//! the least distance each can be at, until the page is settled.

use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use geo::{Coord, Intersects, Rect};
use uuid::Uuid;

use super::{Entry, Queued, R_MIN, Words, candidates, load_shapes, read, window_around};
use crate::db::Db;
use crate::domain::{BBox, Buffer, ValidGeometry};
use crate::error::AppResult;
use crate::spatial::geodesic::Prepared;
use crate::spatial::memory::tree::Box4;
use crate::spatial::memory::{SlotFilter, SqliteEngine, record};
use crate::spatial::{Hit, Search, after_cursor};

/// Candidates in a window that pass the filter, split into points (decided) and other
/// geometry (to measure), with their ids and versions.
struct Found {
    points: Vec<(u32, Uuid, Coord<f64>)>,
    shapes: Vec<(u32, Uuid, i32, Box4)>,
}

fn found(
    engine: &SqliteEngine,
    windows: &[Box4],
    filter: &SlotFilter,
    words: &Words,
) -> AppResult<Found> {
    let index = read(engine)?;
    let mut out = Found {
        points: Vec::new(),
        shapes: Vec::new(),
    };
    for seq in candidates(&index, windows) {
        let Some(slot) = index.slot(seq) else {
            continue;
        };
        if !index.passes(seq, slot, filter) || !words.allows(seq) {
            continue;
        }
        if slot.is_point() {
            out.points.push((seq, slot.id, slot.point()));
        } else {
            out.shapes.push((seq, slot.id, slot.version, slot.bounds()));
        }
    }
    Ok(out)
}

/// A candidate of a viewport or corridor search: what it is, and the least distance it
/// can be at.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    key: f64,
    id: Uuid,
    seq: u32,
    version: i32,
    point: Option<Coord<f64>>,
    bounds: Box4,
}

/// How a candidate measures up without its geometry.
enum Measured {
    At(f64),
    Out,
    NeedsGeometry,
}

/// Geometry to read at once when a candidate needs it: the next this many candidates'.
const LOOK_AHEAD: usize = 256;

/// The first `limit` of `candidates` in (distance, id) order after the cursor, measuring
/// them in (bound, id) order and stopping as soon as nothing left could come before the
/// page's last: a viewport in a town centre holds thousands of assets, a page a hundred,
/// and only the geometry of candidates that could make the page is read.
// long on purpose: one loop whose state (queue, page, geometry read) lives in locals
async fn in_order(
    db: &Db,
    engine: &SqliteEngine,
    mut candidates: Vec<Candidate>,
    after: Option<crate::domain::SearchCursor>,
    limit: usize,
    measure: impl Fn(&Candidate) -> Measured,
    measure_shape: impl Fn(&Candidate, &Prepared) -> Option<f64>,
) -> AppResult<Vec<(u32, Hit)>> {
    candidates.sort_by(|a, b| a.key.total_cmp(&b.key).then(a.id.cmp(&b.id)));
    let mut measured: BinaryHeap<Queued> = BinaryHeap::new();
    let mut loaded: HashMap<u32, Arc<Prepared>> = HashMap::new();
    let mut out = Vec::new();
    let mut next = 0;
    while out.len() < limit {
        // what is measured and sorts before every candidate left is final
        let bound = candidates.get(next).map(|c| (c.key, c.id));
        while let Some(top) = measured.peek().copied() {
            let Entry::Exact(seq, id) = top.entry else {
                break;
            };
            if bound.is_some_and(|(key, bid)| (top.key, id) >= (key, bid)) {
                break;
            }
            measured.pop();
            let hit = Hit {
                id,
                distance: top.key,
            };
            if after_cursor(&hit, after) {
                out.push((seq, hit));
                if out.len() == limit {
                    return Ok(out);
                }
            }
        }
        let Some(c) = candidates.get(next) else {
            break;
        };
        let d = match measure(c) {
            Measured::At(d) => Some(d),
            Measured::Out => None,
            Measured::NeedsGeometry => {
                let shape = loaded
                    .get(&c.seq)
                    .cloned()
                    .or_else(|| engine.cache.get(c.id, c.version));
                let Some(shape) = shape else {
                    let wanted: Vec<(u32, Uuid, i32)> = candidates[next..]
                        .iter()
                        .take(LOOK_AHEAD)
                        .filter(|c| {
                            c.point.is_none()
                                && !loaded.contains_key(&c.seq)
                                && matches!(measure(c), Measured::NeedsGeometry)
                                && engine.cache.get(c.id, c.version).is_none()
                        })
                        .map(|c| (c.seq, c.id, c.version))
                        .collect();
                    loaded.extend(load_shapes(db, engine, &wanted).await?);
                    continue;
                };
                measure_shape(c, &shape)
            }
        };
        if let Some(d) = d {
            measured.push(Queued {
                key: d,
                entry: Entry::Exact(c.seq, c.id),
            });
        }
        next += 1;
    }
    Ok(out)
}

/// The candidates in `windows` that pass the filter, each with its bound from `key`.
fn candidates_in(
    engine: &SqliteEngine,
    windows: &[Box4],
    filter: &SlotFilter,
    words: &Words,
    key: impl Fn(&Box4) -> f64,
) -> AppResult<Vec<Candidate>> {
    let found = found(engine, windows, filter, words)?;
    let mut out = Vec::with_capacity(found.points.len() + found.shapes.len());
    for (seq, id, p) in found.points {
        let bounds = [
            record::down(p.x),
            record::down(p.y),
            record::up(p.x),
            record::up(p.y),
        ];
        out.push(Candidate {
            key: key(&bounds),
            id,
            seq,
            version: 0,
            point: Some(p),
            bounds,
        });
    }
    for (seq, id, version, bounds) in found.shapes {
        out.push(Candidate {
            key: key(&bounds),
            id,
            seq,
            version,
            point: None,
            bounds,
        });
    }
    Ok(out)
}

/// How many results a search needs measured: its page, or every candidate when a
/// common word is checked after (it may drop any of them).
fn wanted(search: &Search<'_>, common: bool) -> usize {
    if common {
        usize::MAX
    } else {
        crate::convert::to_usize(search.limit)
    }
}

pub(super) async fn in_box(
    db: &Db,
    engine: &SqliteEngine,
    search: &Search<'_>,
    b: BBox,
    words: &Words,
    common: bool,
) -> AppResult<Vec<(u32, Hit)>> {
    let rect = Rect::new(
        Coord {
            x: b.min_lon,
            y: b.min_lat,
        },
        Coord {
            x: b.max_lon,
            y: b.max_lat,
        },
    );
    let window = [
        record::down(b.min_lon),
        record::down(b.min_lat),
        record::up(b.max_lon),
        record::up(b.max_lat),
    ];
    let filter = read(engine)?.slot_filter(search.filter, search.category_ids);
    let mut candidates = candidates_in(engine, &[window], &filter, words, |_| 0.0)?;
    // everything in a box is at distance 0: a page after a cursor starts after its id
    if let Some(c) = search.after {
        candidates.retain(|x| c.distance < 0.0 || x.id > c.id);
    }
    let inside = |bounds: &Box4| {
        f64::from(bounds[0]) >= b.min_lon
            && f64::from(bounds[1]) >= b.min_lat
            && f64::from(bounds[2]) <= b.max_lon
            && f64::from(bounds[3]) <= b.max_lat
    };
    in_order(
        db,
        engine,
        candidates,
        search.after,
        wanted(search, common),
        |c| match c.point {
            Some(p) if rect.intersects(&p) => Measured::At(0.0),
            Some(_) => Measured::Out,
            None if inside(&c.bounds) => Measured::At(0.0),
            None => Measured::NeedsGeometry,
        },
        |_, shape| shape.geometry().intersects(&rect).then_some(0.0),
    )
    .await
}

pub(super) async fn around(
    db: &Db,
    engine: &SqliteEngine,
    search: &Search<'_>,
    geometry: &ValidGeometry,
    buffer: Buffer,
    words: &Words,
    common: bool,
) -> AppResult<Vec<(u32, Hit)>> {
    let windows = window_around(geometry.bbox(), buffer.get());
    let filter = read(engine)?.slot_filter(search.filter, search.category_ids);
    let extent = geometry.bbox();
    let extent = [
        extent.min().x,
        extent.min().y,
        extent.max().x,
        extent.max().y,
    ];
    let candidates = candidates_in(engine, &windows, &filter, words, |b| {
        box_lower_bound(&extent, b)
    })?;
    let query = Prepared::new(geometry.geometry());
    let within = |d: f64| (d <= buffer.get()).then_some(d);
    in_order(
        db,
        engine,
        candidates,
        search.after,
        wanted(search, common),
        |c| match c.point {
            Some(p) => within(query.distance_to_point(p)).map_or(Measured::Out, Measured::At),
            None => Measured::NeedsGeometry,
        },
        |_, shape| within(query.distance_to_geometry(shape.geometry())),
    )
    .await
}

/// A distance nothing in box `b` can be nearer than to anything in `extent`: the great
/// circle on the smallest sphere across the gaps in latitude and longitude (the wrapped
/// way round when shorter), at the highest latitude either reaches, with the same room
/// as `lower_bound`.
pub(super) fn box_lower_bound(extent: &[f64; 4], b: &Box4) -> f64 {
    let b = b.map(f64::from);
    let gap_lat = (b[1] - extent[3]).max(extent[1] - b[3]).max(0.0);
    let direct = (b[0] - extent[2]).max(extent[0] - b[2]).max(0.0);
    let wrapped = (360.0 - (b[2].max(extent[2]) - b[0].min(extent[0]))).max(0.0);
    let gap_lon = direct.min(wrapped).min(180.0);
    if gap_lat == 0.0 && gap_lon == 0.0 {
        return 0.0;
    }
    let far = [b[1], b[3], extent[1], extent[3]]
        .iter()
        .fold(0.0_f64, |m, v| m.max(v.abs()))
        .min(90.0)
        .to_radians();
    let h = (gap_lat.to_radians() / 2.0).sin().powi(2)
        + far.cos().powi(2) * (gap_lon.to_radians() / 2.0).sin().powi(2);
    let d = 2.0 * R_MIN * h.sqrt().min(1.0).asin();
    (d * 0.98 - 10.0).max(0.0)
}
