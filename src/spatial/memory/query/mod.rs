//! The three searches over the in-memory index. Nearby walks the trees nearest first
//! (best-first, by a lower bound on the distance to each box) and measures exact
//! geodesic distances only for candidates whose bound could still put them in the page,
//! stopping once the page is full and the next bound is farther. Viewports and corridors
//! read the candidates in their window. Lines and areas are measured on their decoded
//! geometry; a search that needs geometry not in the cache pauses, reads what it needs
//! in one query, and goes on.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

use geo::{Coord, Intersects, Rect};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use uuid::Uuid;

use super::tree::Box4;
use super::{MemoryIndex, SlotFilter, SqliteEngine, record, shape};
use crate::db::Db;
use crate::domain::{BBox, Buffer, LonLat, Radius, ValidGeometry};
use crate::error::{AppError, AppResult};
use crate::spatial::geodesic::{self, Prepared};
use crate::spatial::{Hit, Search, Shape, after_cursor, sort_and_page};

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
        let words = crate::domain::search::search_words(text);
        let query: Vec<String> = words.iter().map(|w| format!("\"{w}\"*")).collect();
        let query = query.join(" ");
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
                r.try_get::<i64>("", "rowid")
                    .map(|v| u32::try_from(v).unwrap_or(0))
            })
            .collect::<Result<HashSet<u32>, _>>()?;
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
            out.insert(u32::try_from(r.try_get::<i64>("", "rowid")?).unwrap_or(0));
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
        usize::try_from(search.limit).unwrap_or(usize::MAX)
    }
}

async fn in_box(
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

async fn around(
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
fn box_lower_bound(extent: &[f64; 4], b: &Box4) -> f64 {
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

/// An entry of the nearest-first walk, ordered by its key: a lower bound for nodes and
/// pieces, the exact distance for a measured asset.
#[derive(Clone, Copy, Debug)]
enum Entry {
    Node(usize),
    Piece(u32),
    Exact(u32, Uuid),
}

#[derive(Clone, Copy, Debug)]
struct Queued {
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

/// The walk's state between steps: plain data, so it can wait for geometry to be read
/// without holding the index.
struct Walk {
    heap: BinaryHeap<Queued>,
    /// Assets already measured, or waiting for geometry: their other pieces are skipped.
    seen: HashSet<u32>,
    /// Assets whose geometry is not in the cache, with the bound they were found at.
    blocked: Vec<(f64, u32)>,
    generation: u64,
    out: Vec<(u32, Hit)>,
    /// Geometry this search read (the cache may let it go at any time).
    loaded: HashMap<u32, Arc<Prepared>>,
}

enum Step {
    /// The page is full or nothing nearer than the radius is left.
    Done,
    /// Read these assets' geometry, then step again.
    Need(Vec<(u32, Uuid, i32)>),
}

struct Nearby<'a> {
    center: Coord<f64>,
    origin: Origin,
    radius: f64,
    filter: SlotFilter,
    after: Option<crate::domain::SearchCursor>,
    words: &'a Words,
}

impl Nearby<'_> {
    fn start(&self, index: &MemoryIndex) -> Walk {
        let mut walk = Walk {
            heap: BinaryHeap::new(),
            seen: HashSet::new(),
            blocked: Vec::new(),
            generation: index.generation,
            out: Vec::new(),
            loaded: HashMap::new(),
        };
        if let Some(root) = index.base().root() {
            let key = self.origin.lower_bound(index.base().bounds(root));
            walk.heap.push(Queued {
                key,
                entry: Entry::Node(root),
            });
        }
        let rect = Rect::new(self.center, self.center);
        for window in window_around(rect, self.radius) {
            index.overlay_in(&window, |bounds, seq| {
                let key = self.origin.lower_bound(bounds);
                if key <= self.radius {
                    walk.heap.push(Queued {
                        key,
                        entry: Entry::Piece(seq),
                    });
                }
            });
        }
        walk
    }

    /// A piece's asset: measured now when it can be, else set aside for its geometry.
    fn consider(
        &self,
        index: &MemoryIndex,
        engine: &SqliteEngine,
        walk: &mut Walk,
        seq: u32,
        key: f64,
    ) {
        let Some(slot) = index.slot(seq) else { return };
        // a point has one piece; a line or area may have many, measured once
        if !slot.is_point() && !walk.seen.insert(seq) {
            return;
        }
        if !index.passes(seq, slot, &self.filter) || !self.words.allows(seq) {
            return;
        }
        let d = if slot.is_point() {
            geodesic::geodesic(self.center, slot.point())
        } else if let Some(shape) = walk
            .loaded
            .get(&seq)
            .cloned()
            .or_else(|| engine.cache.get(slot.id, slot.version))
        {
            shape.distance_to_point(self.center)
        } else {
            walk.blocked.push((key, seq));
            return;
        };
        if d <= self.radius {
            walk.heap.push(Queued {
                key: d,
                entry: Entry::Exact(seq, slot.id),
            });
        }
    }

    /// Walks until `limit` assets are out, the radius is exhausted, or geometry is needed.
    fn step(
        &self,
        index: &MemoryIndex,
        engine: &SqliteEngine,
        walk: &mut Walk,
        limit: usize,
    ) -> Step {
        // the assets set aside have their geometry now (or are gone)
        for (_, seq) in std::mem::take(&mut walk.blocked) {
            walk.seen.remove(&seq);
            self.consider(index, engine, walk, seq, 0.0);
        }
        if !walk.blocked.is_empty() {
            return need(index, &walk.blocked);
        }
        loop {
            if walk.out.len() >= limit {
                return Step::Done;
            }
            let next = walk.heap.peek().map_or(f64::INFINITY, |q| q.key);
            let first_blocked = walk
                .blocked
                .iter()
                .map(|(k, _)| *k)
                .fold(f64::INFINITY, f64::min);
            if first_blocked <= next && !walk.blocked.is_empty() {
                return need(index, &walk.blocked);
            }
            let Some(Queued { key, entry }) = walk.heap.pop() else {
                return Step::Done;
            };
            match entry {
                Entry::Node(node) => {
                    let base = index.base();
                    for child in base.children(node) {
                        // a leaf's asset is checked against the filter before its
                        // bound is worked out: most fail a kind or category filter
                        let entry = if base.is_leaf(child) {
                            let seq = base.value(child);
                            match index.base_current(seq) {
                                Some(slot)
                                    if index.passes(seq, slot, &self.filter)
                                        && self.words.allows(seq) =>
                                {
                                    Entry::Piece(seq)
                                }
                                _ => continue,
                            }
                        } else {
                            Entry::Node(child)
                        };
                        let key = self.origin.lower_bound(base.bounds(child));
                        if key <= self.radius {
                            walk.heap.push(Queued { key, entry });
                        }
                    }
                }
                Entry::Piece(seq) => self.consider(index, engine, walk, seq, key),
                Entry::Exact(seq, id) => {
                    let hit = Hit { id, distance: key };
                    if after_cursor(&hit, self.after) {
                        walk.out.push((seq, hit));
                    }
                }
            }
        }
    }
}

fn need(index: &MemoryIndex, blocked: &[(f64, u32)]) -> Step {
    Step::Need(
        blocked
            .iter()
            .filter_map(|(_, seq)| index.slot(*seq).map(|s| (*seq, s.id, s.version)))
            .collect(),
    )
}

/// Candidates checked against the full-text index per round, when a common word's
/// matches are too many to hold.
const WORD_BATCH: usize = 100;

async fn nearest(
    db: &Db,
    engine: &Arc<SqliteEngine>,
    search: &Search<'_>,
    center: LonLat,
    radius: Radius,
    words: &Words,
    common: Option<&str>,
) -> AppResult<Vec<(u32, Hit)>> {
    let limit = usize::try_from(search.limit).unwrap_or(usize::MAX);
    let center = Coord {
        x: center.lon,
        y: center.lat,
    };
    let nearby = Nearby {
        center,
        origin: Origin::new(center),
        radius: radius.get(),
        filter: read(engine)?.slot_filter(search.filter, search.category_ids),
        after: search.after,
        words,
    };
    let mut walk = {
        let index = read(engine)?;
        nearby.start(&index)
    };
    let mut kept: Vec<(u32, Hit)> = Vec::new();
    loop {
        // with a common word, walk a batch at a time and keep what the index matches
        let want = match common {
            Some(_) => walk.out.len() + WORD_BATCH,
            None => limit,
        };
        let step = {
            let index = read(engine)?;
            if index.generation != walk.generation {
                // the index changed while this search waited: start again
                walk = nearby.start(&index);
                kept.clear();
            }
            nearby.step(&index, engine, &mut walk, want)
        };
        match step {
            Step::Need(shapes) => {
                let loaded = load_shapes(db, engine, &shapes).await?;
                walk.loaded.extend(loaded);
            }
            Step::Done => {
                let Some(query) = common else {
                    return Ok(std::mem::take(&mut walk.out));
                };
                let batch: Vec<(u32, Hit)> = walk.out.drain(..).collect();
                let exhausted = batch.len() < WORD_BATCH;
                let seqs: Vec<u32> = batch.iter().map(|(s, _)| *s).collect();
                let keep = matching(db, query, &seqs).await?;
                kept.extend(batch.into_iter().filter(|(s, _)| keep.contains(s)));
                if kept.len() >= limit || exhausted {
                    kept.truncate(limit);
                    return Ok(kept);
                }
                walk.out.clear();
            }
        }
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
    use super::*;

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
