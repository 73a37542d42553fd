//! The three searches over the in-memory index. Nearby walks the trees nearest first
//! (best-first, by a lower bound on the distance to each box) and measures exact
//! geodesic distances only for candidates whose bound could still put them in the page,
//! stopping once the page is full and the next bound is farther. Viewports and corridors
//! read the candidates in their window. Lines and areas are measured on their decoded
//! geometry; a search that needs geometry not in the cache pauses, reads what it needs
//! in one query, and goes on.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use geo::{Coord, Rect};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use uuid::Uuid;

mod nearby;
mod window;

use super::tree::Box4;
use super::{MemoryIndex, SqliteEngine, record, shape};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::spatial::geodesic::Prepared;
use crate::spatial::{Hit, Search, Shape, sort_and_page};
use nearby::nearest;
use window::{around, in_box};

/// The smallest radius of curvature of the WGS84 ellipsoid (the meridian's, at the
/// equator): no geodesic is shorter than a great circle on a sphere this size.
const R_MIN: f64 = 6_335_439.0;
/// Metres in one degree of latitude, rounded down, so windows err on the large side.
const METERS_PER_DEGREE_LAT: f64 = 110_000.0;
/// Metres in one degree of longitude at the equator, rounded down.
const METERS_PER_DEGREE_LON: f64 = 111_000.0;

/// A distance nothing in the box can be nearer than: a great circle on the smallest
/// sphere to the box's nearest position, with room for the box's edges being parallels
/// and not great circles.
pub fn lower_bound(c: Coord<f64>, b: &Box4) -> f64 {
    Origin::new(c).lower_bound(b)
}

/// A search's centre, with what every bound from it needs computed once.
#[derive(Clone, Copy, Debug)]
struct Origin {
    c: Coord<f64>,
    lat: f64,
    cos_lat: f64,
}

impl Origin {
    fn new(c: Coord<f64>) -> Self {
        let lat = c.y.to_radians();
        Self {
            c,
            lat,
            cos_lat: lat.cos(),
        }
    }

    fn lower_bound(&self, b: &Box4) -> f64 {
        let c = self.c;
        let x = c.x.clamp(f64::from(b[0]), f64::from(b[2]));
        let y = c.y.clamp(f64::from(b[1]), f64::from(b[3]));
        if x == c.x && y == c.y {
            return 0.0;
        }
        let p2 = y.to_radians();
        let dp = p2 - self.lat;
        let dl = (x - c.x).to_radians();
        let h = (dp / 2.0).sin().powi(2) + self.cos_lat * p2.cos() * (dl / 2.0).sin().powi(2);
        let d = 2.0 * R_MIN * h.sqrt().min(1.0).asin();
        (d * 0.98 - 10.0).max(0.0)
    }
}

/// Search windows in f32 boxes: one, or two where a window wraps across the
/// antimeridian.
fn window_around(rect: Rect<f64>, meters: f64) -> Vec<Box4> {
    let dlat = meters / METERS_PER_DEGREE_LAT * 1.01;
    let lat = (
        (rect.min().y - dlat).max(-90.0),
        (rect.max().y + dlat).min(90.0),
    );
    let far_lat = lat.0.abs().max(lat.1.abs());
    let lons = if far_lat >= 89.0 {
        vec![(-180.0, 180.0)]
    } else {
        let dlon = meters / (METERS_PER_DEGREE_LON * far_lat.to_radians().cos()) * 1.01;
        let (lo, hi) = (rect.min().x - dlon, rect.max().x + dlon);
        if hi - lo >= 360.0 {
            vec![(-180.0, 180.0)]
        } else if lo < -180.0 {
            vec![(lo + 360.0, 180.0), (-180.0, hi)]
        } else if hi > 180.0 {
            vec![(lo, 180.0), (-180.0, hi - 360.0)]
        } else {
            vec![(lo, hi)]
        }
    };
    lons.into_iter()
        .map(|(lo, hi)| {
            [
                record::down(lo),
                record::down(lat.0),
                record::up(hi),
                record::up(lat.1),
            ]
        })
        .collect()
}

/// The row numbers of live assets with a piece in any of the windows, once each.
fn candidates(index: &MemoryIndex, windows: &[Box4]) -> Vec<u32> {
    let mut seqs = Vec::new();
    for window in windows {
        index.base().search(window, |seq| {
            if index.base_current(seq).is_some() {
                seqs.push(seq);
            }
        });
        index.overlay_in(window, |_, seq| seqs.push(seq));
    }
    seqs.sort_unstable();
    seqs.dedup();
    seqs
}

/// Reads and decodes the geometry of these assets, into the cache and out.
async fn load_shapes(
    db: &Db,
    engine: &SqliteEngine,
    wanted: &[(u32, Uuid, i32)],
) -> AppResult<HashMap<u32, Arc<Prepared>>> {
    let mut out = HashMap::with_capacity(wanted.len());
    for chunk in wanted.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let values: Vec<Value> = chunk
            .iter()
            .map(|(seq, _, _)| i64::from(*seq).into())
            .collect();
        let rows = db
            .read
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                format!("SELECT seq, shape FROM asset_shapes WHERE seq IN ({marks})"),
                values,
            ))
            .await?;
        for row in rows {
            let seq: i64 = row.try_get("", "seq")?;
            let bytes: Vec<u8> = row.try_get("", "shape")?;
            let geometry = shape::decode(&bytes).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("stored shape of row {seq} unreadable"))
            })?;
            if let Some((seq, id, version)) = chunk.iter().find(|(s, _, _)| i64::from(*s) == seq) {
                let prepared = Arc::new(Prepared::new(&geometry));
                engine.cache.insert(*id, *version, prepared.clone());
                out.insert(*seq, prepared);
            }
        }
    }
    if out.len() < wanted.len() {
        return Err(AppError::Internal(anyhow::anyhow!(
            "{} indexed assets have no stored shape",
            wanted.len() - out.len()
        )));
    }
    Ok(out)
}

/// What the text filter lets through: the full-text index's matches.
enum Words {
    Any,
    Only(HashSet<u32>),
}

/// The most matches of a text search held as a set; beyond it, candidates are checked
/// against the full-text index in batches.
const WORDS_SET_MAX: usize = 200_000;

impl Words {
    async fn of(db: &Db, text: Option<&str>) -> AppResult<(Self, Option<String>)> {
        let Some(text) = text else {
            return Ok((Self::Any, None));
        };
        let query = crate::spatial::text::fts5(text);
        let rows = db
            .read
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                format!(
                    "SELECT rowid FROM asset_fts WHERE asset_fts MATCH ? LIMIT {}",
                    WORDS_SET_MAX + 1
                ),
                [query.clone().into()],
            ))
            .await?;
        if rows.len() > WORDS_SET_MAX {
            return Ok((Self::Any, Some(query)));
        }
        let set = rows
            .iter()
            .map(|r| {
                let rowid = r.try_get::<i64>("", "rowid")?;
                crate::convert::sequence(rowid)
            })
            .collect::<AppResult<HashSet<u32>>>()?;
        Ok((Self::Only(set), None))
    }

    fn allows(&self, seq: u32) -> bool {
        match self {
            Self::Any => true,
            Self::Only(set) => set.contains(&seq),
        }
    }
}

/// Of these candidates, the ones the full-text index matches (a common word's matches
/// are too many to hold: they are checked here instead).
async fn matching(db: &Db, query: &str, seqs: &[u32]) -> AppResult<HashSet<u32>> {
    let mut out = HashSet::new();
    for chunk in seqs.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let mut values: Vec<Value> = vec![query.into()];
        values.extend(chunk.iter().map(|s| Value::from(i64::from(*s))));
        let rows = db
            .read
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                format!(
                    "SELECT rowid FROM asset_fts WHERE asset_fts MATCH ? AND rowid IN ({marks})"
                ),
                values,
            ))
            .await?;
        for r in rows {
            out.insert(crate::convert::sequence(r.try_get::<i64>("", "rowid")?)?);
        }
    }
    Ok(out)
}

pub async fn run(db: &Db, engine: &Arc<SqliteEngine>, search: Search<'_>) -> AppResult<Vec<Hit>> {
    let (words, common) = Words::of(db, search.filter.text.as_deref()).await?;
    let hits = match search.shape {
        Shape::Near { center, radius } => {
            nearest(
                db,
                engine,
                &search,
                center,
                radius,
                &words,
                common.as_deref(),
            )
            .await?
        }
        Shape::InBox(b) => in_box(db, engine, &search, b, &words, common.is_some()).await?,
        Shape::Around { geometry, buffer } => {
            around(
                db,
                engine,
                &search,
                geometry,
                buffer,
                &words,
                common.is_some(),
            )
            .await?
        }
    };
    match (common, &search.shape) {
        // the nearest-first walk checked common words as it went
        (Some(query), Shape::InBox(_) | Shape::Around { .. }) => {
            let seqs: Vec<u32> = hits.iter().map(|(seq, _)| *seq).collect();
            let keep = matching(db, &query, &seqs).await?;
            let hits = hits
                .into_iter()
                .filter(|(s, _)| keep.contains(s))
                .map(|(_, h)| h)
                .collect();
            Ok(sort_and_page(hits, search.after, search.limit))
        }
        _ => Ok(hits.into_iter().map(|(_, h)| h).collect()),
    }
}

fn read(engine: &SqliteEngine) -> AppResult<std::sync::RwLockReadGuard<'_, MemoryIndex>> {
    engine
        .index
        .read()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("the search index lock was poisoned")))
}
/// An entry of the nearest-first walk, ordered by its key: a lower bound for nodes and
/// pieces, the exact distance for a measured asset.
#[derive(Clone, Copy, Debug)]
pub(super) enum Entry {
    Node(usize),
    Piece(u32),
    Exact(u32, Uuid),
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Queued {
    key: f64,
    entry: Entry,
}

impl Queued {
    /// At equal keys, open nodes and pieces before taking a measured asset (a piece
    /// could hold one exactly as near), and measured assets by id.
    fn rank(&self) -> (u8, Uuid) {
        match self.entry {
            Entry::Node(_) | Entry::Piece(_) => (0, Uuid::nil()),
            Entry::Exact(_, id) => (1, id),
        }
    }
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Queued {}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued {
    /// Reversed, so the heap pops the smallest key first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .key
            .total_cmp(&self.key)
            .then_with(|| other.rank().cmp(&self.rank()))
    }
}

/// How many public assets passing `filter` have their centre (a point itself, else its
/// box's centre) in each cell of a `cols` x `rows` grid over `window`, with the cells'
/// mean positions: the clusters of a low-zoom map tile, counted in memory.
pub fn cells(
    engine: &SqliteEngine,
    window: Box4,
    cols: u32,
    rows: u32,
    filter: &crate::domain::AssetFilter,
    category_ids: &[Uuid],
) -> AppResult<Vec<super::super::Cell>> {
    let index = read(engine)?;
    let slot_filter = index.slot_filter(filter, category_ids);
    // each asset once (lines and areas have several pieces), by its centre
    let centres = candidates(&index, &[window]).into_iter().filter_map(|seq| {
        let slot = index.slot(seq)?;
        if !index.passes(seq, slot, &slot_filter) {
            return None;
        }
        if slot.is_point() {
            let c = slot.point();
            Some((slot.id, c.x, c.y))
        } else {
            let b = slot.bounds();
            Some((
                slot.id,
                f64::midpoint(f64::from(b[0]), f64::from(b[2])),
                f64::midpoint(f64::from(b[1]), f64::from(b[3])),
            ))
        }
    });
    Ok(super::super::Cell::bucket(centres, window, cols, rows))
}

#[cfg(test)]
mod tests {
    use super::window::box_lower_bound;
    use super::*;
    use crate::spatial::geodesic;

    #[test]
    fn the_bound_is_never_more_than_the_distance() {
        let c = Coord {
            x: -2.2426,
            y: 53.4808,
        };
        for (dx, dy) in [
            (0.01, 0.0),
            (0.0, 0.01),
            (0.3, 0.2),
            (-0.05, 0.4),
            (1.0, -1.0),
        ] {
            let p = Coord {
                x: c.x + dx,
                y: c.y + dy,
            };
            let b = [
                record::down(p.x),
                record::down(p.y),
                record::up(p.x),
                record::up(p.y),
            ];
            assert!(lower_bound(c, &b) <= geodesic::geodesic(c, p), "{dx} {dy}");
        }
        assert_eq!(lower_bound(c, &[-3.0, 53.0, -2.0, 54.0]), 0.0);
    }

    #[test]
    fn the_box_bound_is_never_more_than_any_distance_between_the_boxes() {
        let extent = [-2.25, 53.47, -2.24, 53.48];
        let corners = |b: &[f64; 4]| {
            [(b[0], b[1]), (b[0], b[3]), (b[2], b[1]), (b[2], b[3])].map(|(x, y)| Coord { x, y })
        };
        for (x, y) in [
            (-2.2, 53.5),
            (-2.3, 53.4),
            (-2.245, 53.9),
            (-1.0, 53.475),
            (179.9, 60.0),
        ] {
            let b = [x - 0.001, y - 0.001, x + 0.001, y + 0.001];
            let bound = box_lower_bound(
                &extent,
                &[
                    record::down(b[0]),
                    record::down(b[1]),
                    record::up(b[2]),
                    record::up(b[3]),
                ],
            );
            for p in corners(&extent) {
                for q in corners(&b) {
                    assert!(bound <= geodesic::geodesic(p, q), "{x} {y}: {bound}");
                }
            }
            assert!(bound > 0.0, "{x} {y}");
        }
        assert_eq!(box_lower_bound(&extent, &[-2.246, 53.0, -2.245, 54.0]), 0.0);
        // across the antimeridian the short way round
        let east = [179.99, 0.0, 180.0, 0.01];
        let bound = box_lower_bound(&east, &[-180.0, 0.0, -179.99, 0.01]);
        assert!(bound < 1_200.0, "{bound}");
    }
}
