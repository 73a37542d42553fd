//! Nearby: a best-first walk of the trees, nearest first, measuring exact distances only
//! for candidates whose bound could still put them in the page.

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

use geo::{Coord, Rect};
use uuid::Uuid;

use super::{Entry, Origin, Queued, Words, load_shapes, matching, read, window_around};
use crate::db::Db;
use crate::domain::{LonLat, Radius};
use crate::error::AppResult;
use crate::spatial::geodesic::{self, Prepared};
use crate::spatial::memory::{MemoryIndex, SlotFilter, SqliteEngine};
use crate::spatial::{Hit, Search, after_cursor};

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
    // long on purpose: the walk's one loop over a queue of nodes, pieces and assets
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

// long on purpose: the walk's rounds (step, read the geometry it needs, check words)
pub(super) async fn nearest(
    db: &Db,
    engine: &Arc<SqliteEngine>,
    search: &Search<'_>,
    center: LonLat,
    radius: Radius,
    words: &Words,
    common: Option<&str>,
) -> AppResult<Vec<(u32, Hit)>> {
    let limit = crate::convert::to_usize(search.limit);
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
