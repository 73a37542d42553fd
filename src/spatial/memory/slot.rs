//! An asset's slot in the in-memory index: 56 bytes of what a search filters and
//! measures by, without reading its row.

use uuid::Uuid;

use super::record;
use super::tree::Box4;
use crate::domain::AssetKind;

/// Seconds from the Unix epoch to 2020-01-01, the origin of stored verification times.
pub(super) const EPOCH_2020: i64 = 1_577_836_800;
/// A slot with no asset.
pub(super) const EMPTY: u8 = u8::MAX;

pub(super) const IS_POINT: u8 = 1;
pub(super) const IN_BASE: u8 = 2;
pub(super) const HAS_HOURS: u8 = 4;
pub(super) const FREE_KNOWN: u8 = 8;
pub(super) const FREE: u8 = 16;
pub(super) const NO_AGE: u8 = u8::MAX;

/// One public asset, 56 bytes.
#[derive(Clone, Copy, Debug)]
pub struct Slot {
    pub id: Uuid,
    /// A point's longitude and latitude; for other geometry the f32 bounding box, two
    /// values to each f64's bits.
    pub(super) geo: [u64; 2],
    /// Bit `i`: the category with index `i` (see `Categories`); indices past 63 are
    /// kept beside the slots.
    pub(super) categories: u64,
    pub version: i32,
    /// Seconds since 2020 (0: never verified).
    pub(super) verified: u32,
    pub(super) accessibility: u16,
    pub(super) kind: u8,
    pub(super) flags: u8,
    pub(super) min_age: u8,
    pub(super) max_age: u8,
}

pub(super) fn pack(a: f32, b: f32) -> u64 {
    u64::from(a.to_bits()) | (u64::from(b.to_bits()) << 32)
}

pub(super) fn unpack(v: u64) -> (f32, f32) {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "each half holds an f32's bits"
    )]
    let (lo, hi) = (v as u32, (v >> 32) as u32);
    (f32::from_bits(lo), f32::from_bits(hi))
}

impl Slot {
    pub(super) const EMPTY: Self = Self {
        id: Uuid::nil(),
        geo: [0; 2],
        categories: 0,
        version: 0,
        verified: 0,
        accessibility: 0,
        kind: EMPTY,
        flags: 0,
        min_age: NO_AGE,
        max_age: NO_AGE,
    };

    pub fn is_live(&self) -> bool {
        self.kind != EMPTY
    }

    pub fn is_point(&self) -> bool {
        self.flags & IS_POINT != 0
    }

    pub(super) fn in_base(&self) -> bool {
        self.flags & IN_BASE != 0
    }

    /// A point asset's position.
    pub fn point(&self) -> geo::Coord<f64> {
        geo::Coord {
            x: f64::from_bits(self.geo[0]),
            y: f64::from_bits(self.geo[1]),
        }
    }

    /// The box that holds the asset's geometry (f32, rounded outward).
    pub fn bounds(&self) -> Box4 {
        if self.is_point() {
            let p = self.point();
            [
                record::down(p.x),
                record::down(p.y),
                record::up(p.x),
                record::up(p.y),
            ]
        } else {
            let (a, b) = unpack(self.geo[0]);
            let (c, d) = unpack(self.geo[1]);
            [a, b, c, d]
        }
    }

    pub fn kind(&self) -> Option<AssetKind> {
        AssetKind::ALL.get(usize::from(self.kind)).copied()
    }
}
