//! SQLite's search engine: every public asset held in memory, searched without reading a
//! row to find candidates. SQLite stays the store of record; this is built from its
//! `asset_search` records at start-up and kept current from the change log (after this
//! server's own writes before they return, and within a quarter of a second after
//! another process's).
//!
//! Per asset it holds a 56-byte slot (`slot`: id, version, kind, filter fields, the point or a
//! box) indexed by the asset's row number; the pieces a geometry is indexed by sit in a
//! packed Hilbert R-tree built once (`tree`), with changes since in a small R*-tree
//! overlay (`rstar`) until the next rebuild folds them in. Exact distances for lines and
//! areas decode a compact binary geometry (`shape`) from `asset_shapes`, through a
//! bounded cache. `query` runs the searches.

pub mod query;
pub mod record;
pub mod shape;
mod slot;
pub mod store;
mod tree;

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use rstar::{AABB, RTree, RTreeObject};
use uuid::Uuid;

use crate::tasks::Tasks;

use self::record::Record;
pub use self::slot::Slot;
use self::slot::{EPOCH_2020, FREE, FREE_KNOWN, HAS_HOURS, IN_BASE, IS_POINT, NO_AGE, pack};
use self::tree::{Box4, PackedTree};
use super::cache::GeometryCache;
use crate::domain::{AssetFilter, AssetKind};

/// The taxonomy's ids, numbered in the order first seen.
#[derive(Debug, Default)]
struct Categories {
    index: HashMap<Uuid, u16>,
}

impl Categories {
    fn number(&mut self, id: Uuid) -> u16 {
        let next = u16::try_from(self.index.len()).unwrap_or(u16::MAX);
        *self.index.entry(id).or_insert(next)
    }
}

/// A piece in the overlay.
#[derive(Clone, Debug, PartialEq)]
struct Piece {
    bounds: Box4,
    slot: u32,
}

impl RTreeObject for Piece {
    type Envelope = AABB<[f32; 2]>;

    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners(
            [self.bounds[0], self.bounds[1]],
            [self.bounds[2], self.bounds[3]],
        )
    }
}

/// The overlay is folded into the packed tree once it holds this many pieces, or a
/// tenth as many as the tree, whichever is more.
const REBUILD_AT: usize = 20_000;

/// Every public asset, in memory.
#[derive(Debug, Default)]
pub struct MemoryIndex {
    slots: Vec<Slot>,
    categories: Categories,
    /// Category indices of 64 and more, by slot.
    extra_categories: HashMap<u32, Vec<u16>>,
    base: PackedTree,
    overlay: RTree<Piece>,
    /// The overlay's pieces of each slot that has some, to take them out again.
    overlaid: HashMap<u32, Vec<Box4>>,
    live: usize,
    /// Goes up with every change, so a search that paused (to read geometry) notices.
    pub generation: u64,
}

/// Builds an index one record at a time (start-up streams the stored records into it).
#[derive(Debug, Default)]
pub struct Builder {
    index: MemoryIndex,
    pieces: Vec<(Box4, u32)>,
}

impl Builder {
    pub fn add(&mut self, seq: u32, record: &Record) {
        self.index.set_slot(seq, record, true);
        for bounds in piece_bounds(record) {
            self.pieces.push((bounds, seq));
        }
    }

    pub fn finish(self) -> MemoryIndex {
        let mut index = self.index;
        index.slots.shrink_to_fit();
        index.base = PackedTree::build(self.pieces);
        index
    }
}

/// What a filter asks of a slot, prepared once per search.
#[derive(Clone, Debug, Default)]
pub struct SlotFilter {
    kinds: u16,
    categories: Option<(u64, Vec<u16>)>,
    accessibility: u16,
    free: Option<bool>,
    age: Option<u8>,
    verified_since: Option<u32>,
    not_verified_since: Option<u32>,
    needs_hours: bool,
}

fn since_2020(t: chrono::DateTime<chrono::Utc>) -> u32 {
    u32::try_from((t.timestamp() - EPOCH_2020).max(1)).unwrap_or(u32::MAX)
}

impl MemoryIndex {
    /// An index over these (row number, record) pairs.
    pub fn build(records: impl IntoIterator<Item = (u32, Record)>) -> Self {
        let mut builder = Builder::default();
        for (seq, record) in records {
            builder.add(seq, &record);
        }
        builder.finish()
    }

    fn set_slot(&mut self, seq: u32, record: &Record, in_base: bool) {
        let at = seq as usize;
        if self.slots.len() <= at {
            self.slots.resize(at + 1, Slot::EMPTY);
        }
        if !self.slots[at].is_live() {
            self.live += 1;
        }
        let mut categories = 0_u64;
        let mut extra = Vec::new();
        for c in &record.categories {
            let n = self.categories.number(*c);
            if n < 64 {
                categories |= 1 << n;
            } else {
                extra.push(n);
            }
        }
        if extra.is_empty() {
            self.extra_categories.remove(&seq);
        } else {
            self.extra_categories.insert(seq, extra);
        }
        let mut flags = if in_base { IN_BASE } else { 0 };
        if record.has_hours {
            flags |= HAS_HOURS;
        }
        if let Some(free) = record.free {
            flags |= FREE_KNOWN | if free { FREE } else { 0 };
        }
        let [x0, y0, x1, y1] = record.bbox;
        let geo = if record.is_point() {
            flags |= IS_POINT;
            [x0.to_bits(), y0.to_bits()]
        } else {
            let b = record::outward(&geo::Rect::new(
                geo::Coord { x: x0, y: y0 },
                geo::Coord { x: x1, y: y1 },
            ));
            [pack(b[0], b[1]), pack(b[2], b[3])]
        };
        self.slots[at] = Slot {
            id: record.id,
            geo,
            categories,
            version: record.version,
            verified: record.verified_at.map_or(0, |t| {
                u32::try_from((t - EPOCH_2020).max(1)).unwrap_or(u32::MAX)
            }),
            accessibility: record.accessibility,
            kind: u8::try_from(
                AssetKind::ALL
                    .iter()
                    .position(|k| *k == record.kind)
                    .unwrap_or(0),
            )
            .unwrap_or(0),
            flags,
            min_age: record.min_age.unwrap_or(NO_AGE),
            max_age: record.max_age.unwrap_or(NO_AGE),
        };
    }

    /// Puts an asset in (or back, as it is now), by its row number.
    pub fn upsert(&mut self, seq: u32, record: &Record) {
        self.remove(seq);
        self.set_slot(seq, record, false);
        let pieces = piece_bounds(record);
        for bounds in &pieces {
            self.overlay.insert(Piece {
                bounds: *bounds,
                slot: seq,
            });
        }
        self.overlaid.insert(seq, pieces);
        self.generation += 1;
    }

    /// Takes an asset out (archived, taken down, or gone from the public's view).
    pub fn remove(&mut self, seq: u32) {
        if let Some(pieces) = self.overlaid.remove(&seq) {
            for bounds in pieces {
                self.overlay.remove(&Piece { bounds, slot: seq });
            }
        }
        if let Some(slot) = self.slots.get_mut(seq as usize)
            && slot.is_live()
        {
            *slot = Slot::EMPTY;
            self.live -= 1;
        }
        self.extra_categories.remove(&seq);
        self.generation += 1;
    }

    pub fn slot(&self, seq: u32) -> Option<&Slot> {
        self.slots.get(seq as usize).filter(|s| s.is_live())
    }

    /// How many public assets it holds.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Whether the overlay has grown enough to fold into the packed tree.
    pub fn wants_rebuild(&self) -> bool {
        self.overlay.size() > REBUILD_AT.max(self.base.len() / 10)
    }

    /// Every current piece, to build a new packed tree from.
    pub fn pieces(&self) -> Vec<(Box4, u32)> {
        let mut out = Vec::with_capacity(self.base.len() + self.overlay.size());
        for leaf in 0..self.base.len() {
            let seq = self.base.value(leaf);
            if self.slot(seq).is_some_and(Slot::in_base) {
                out.push((*self.base.bounds(leaf), seq));
            }
        }
        out.extend(self.overlay.iter().map(|p| (p.bounds, p.slot)));
        out
    }

    /// Replaces the packed tree with one built from `pieces` (taken when the index was
    /// at `generation`), if nothing changed since; the overlay is then empty.
    pub fn swap_base(&mut self, tree: PackedTree, generation: u64) -> bool {
        if generation != self.generation {
            return false;
        }
        self.base = tree;
        self.overlay = RTree::new();
        self.overlaid.clear();
        for slot in &mut self.slots {
            if slot.is_live() {
                slot.flags |= IN_BASE;
            }
        }
        self.generation += 1;
        true
    }

    /// Bytes held by the slots and trees (an estimate of the index's memory).
    pub fn bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.base.bytes()
            + self.overlay.size() * 48
    }

    /// The filter, in the slots' terms.
    pub fn slot_filter(&self, filter: &AssetFilter, category_ids: &[Uuid]) -> SlotFilter {
        let kinds = filter.kinds.iter().fold(0_u16, |m, k| {
            m | AssetKind::ALL
                .iter()
                .position(|a| a == k)
                .map_or(0, |i| 1 << i)
        });
        let categories = (!filter.categories.is_empty()).then(|| {
            let mut mask = 0_u64;
            let mut extra = Vec::new();
            for id in category_ids {
                match self.categories.index.get(id) {
                    Some(n) if *n < 64 => mask |= 1 << n,
                    Some(n) => extra.push(*n),
                    None => {}
                }
            }
            (mask, extra)
        });
        SlotFilter {
            kinds,
            categories,
            accessibility: u16::try_from(filter.accessibility.mask()).unwrap_or(u16::MAX),
            free: filter.free,
            age: filter.age.and_then(|a| u8::try_from(a).ok()),
            verified_since: filter.verified_since.map(since_2020),
            not_verified_since: filter.not_verified_since.map(since_2020),
            needs_hours: filter.open_at.is_some() && !filter.include_unknown_hours,
        }
    }

    /// Whether the slot passes the filter's conditions held in memory (text and opening
    /// hours are checked after, on the candidates).
    pub fn passes(&self, seq: u32, slot: &Slot, f: &SlotFilter) -> bool {
        if f.kinds != 0 && f.kinds & (1 << slot.kind) == 0 {
            return false;
        }
        if let Some((mask, extra)) = &f.categories {
            let in_extra = || {
                self.extra_categories
                    .get(&seq)
                    .is_some_and(|mine| mine.iter().any(|c| extra.contains(c)))
            };
            if slot.categories & mask == 0 && !in_extra() {
                return false;
            }
        }
        if slot.accessibility & f.accessibility != f.accessibility {
            return false;
        }
        if let Some(free) = f.free
            && (slot.flags & FREE_KNOWN == 0 || (slot.flags & FREE != 0) != free)
        {
            return false;
        }
        if let Some(age) = f.age
            && ((slot.min_age != NO_AGE && slot.min_age > age)
                || (slot.max_age != NO_AGE && slot.max_age < age))
        {
            return false;
        }
        if let Some(since) = f.verified_since
            && (slot.verified == 0 || slot.verified < since)
        {
            return false;
        }
        if let Some(before) = f.not_verified_since
            && slot.verified != 0
            && slot.verified >= before
        {
            return false;
        }
        !(f.needs_hours && slot.flags & HAS_HOURS == 0)
    }

    pub(crate) fn base(&self) -> &PackedTree {
        &self.base
    }

    /// Overlay pieces meeting `window`, as (bounds, row number).
    pub(crate) fn overlay_in(&self, window: &Box4, mut found: impl FnMut(&Box4, u32)) {
        let envelope = AABB::from_corners([window[0], window[1]], [window[2], window[3]]);
        for piece in self.overlay.locate_in_envelope_intersecting(&envelope) {
            found(&piece.bounds, piece.slot);
        }
    }

    /// Whether a base leaf still stands for its asset (not changed or removed since the
    /// tree was built).
    pub(crate) fn base_current(&self, seq: u32) -> Option<&Slot> {
        self.slot(seq).filter(|s| s.in_base())
    }
}

/// The boxes an asset is indexed by: its pieces, or its point.
fn piece_bounds(record: &Record) -> Vec<Box4> {
    if record.is_point() {
        let [x, y, _, _] = record.bbox;
        vec![[
            record::down(x),
            record::down(y),
            record::up(x),
            record::up(y),
        ]]
    } else {
        record.pieces.clone()
    }
}

/// The SQLite engine's state: the index and the decoded-geometry cache, and the app's
/// tasks, where its rebuilds run.
#[derive(Debug)]
pub struct SqliteEngine {
    pub index: RwLock<MemoryIndex>,
    pub cache: GeometryCache,
    rebuilding: AtomicBool,
    tasks: Tasks,
}

impl SqliteEngine {
    pub fn new(tasks: Tasks) -> Self {
        Self {
            index: RwLock::new(MemoryIndex::default()),
            cache: GeometryCache::new(GeometryCache::MAX_VERTICES),
            rebuilding: AtomicBool::new(false),
            tasks,
        }
    }

    /// Folds the overlay into a new packed tree on a blocking thread, when it has grown.
    pub fn rebuild_if_needed(self: &std::sync::Arc<Self>) {
        let wants = self.index.read().is_ok_and(|i| i.wants_rebuild());
        if !wants || self.rebuilding.swap(true, Ordering::AcqRel) {
            return;
        }
        let engine = self.clone();
        self.tasks.spawn_blocking("search index rebuild", move || {
            let taken = engine.index.read().ok().map(|i| (i.pieces(), i.generation));
            if let Some((pieces, generation)) = taken {
                let tree = PackedTree::build(pieces);
                if let Ok(mut index) = engine.index.write() {
                    index.swap_base(tree, generation);
                }
            }
            engine.rebuilding.store(false, Ordering::Release);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: AssetKind, at: (f64, f64), categories: Vec<Uuid>) -> Record {
        Record {
            id: Uuid::now_v7(),
            version: 1,
            kind,
            accessibility: 0b11,
            free: Some(true),
            min_age: Some(18),
            max_age: None,
            has_hours: false,
            verified_at: None,
            bbox: [at.0, at.1, at.0, at.1],
            categories,
            pieces: vec![],
        }
    }

    #[test]
    fn slots_are_56_bytes() {
        assert_eq!(std::mem::size_of::<Slot>(), 56);
    }

    #[test]
    fn filters_run_on_the_slots() {
        let parks = Uuid::now_v7();
        let mut index =
            MemoryIndex::build([(1, record(AssetKind::Park, (-2.2, 53.4), vec![parks]))]);
        index.upsert(2, &record(AssetKind::Venue, (-2.3, 53.5), vec![]));
        let slot = *index.slot(1).unwrap();
        let f = |filter: AssetFilter, cats: &[Uuid]| index.slot_filter(&filter, cats);
        assert!(index.passes(1, &slot, &f(AssetFilter::default(), &[])));
        let only_venues = AssetFilter {
            kinds: vec![AssetKind::Venue],
            ..AssetFilter::default()
        };
        assert!(!index.passes(1, &slot, &f(only_venues, &[])));
        let in_parks = AssetFilter {
            categories: vec!["parks".into()],
            ..AssetFilter::default()
        };
        assert!(index.passes(1, &slot, &f(in_parks.clone(), &[parks])));
        assert!(!index.passes(1, &slot, &f(in_parks, &[Uuid::now_v7()])));
        let child = AssetFilter {
            age: Some(12),
            ..AssetFilter::default()
        };
        assert!(!index.passes(1, &slot, &f(child, &[])));
        let unknown_hours = AssetFilter {
            open_at: Some(chrono::Utc::now()),
            ..AssetFilter::default()
        };
        assert!(!index.passes(1, &slot, &f(unknown_hours, &[])));
    }

    #[test]
    fn changes_go_to_the_overlay_and_removals_hide_base_leaves() {
        let mut index = MemoryIndex::build(
            (1..=3).map(|i| (i, record(AssetKind::Park, (f64::from(i), 1.0), vec![]))),
        );
        assert_eq!(index.len(), 3);
        index.remove(2);
        assert_eq!(index.len(), 2);
        assert!(index.base_current(2).is_none());
        index.upsert(3, &record(AssetKind::Park, (9.0, 9.0), vec![]));
        assert!(
            index.base_current(3).is_none(),
            "its base leaf is stale now"
        );
        let mut found = Vec::new();
        index.overlay_in(&[8.0, 8.0, 10.0, 10.0], |_, seq| found.push(seq));
        assert_eq!(found, vec![3]);
        let generation = index.generation;
        let tree = PackedTree::build(index.pieces());
        assert!(index.swap_base(tree, generation));
        assert!(index.base_current(3).is_some());
        assert_eq!(index.pieces().len(), 2);
    }
}
