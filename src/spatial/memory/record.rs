//! What the in-memory index holds of each public asset, and its binary form in the
//! `asset_search` table (read in one column at start-up, so a million load in seconds):
//! the id, version, kind, the filter fields that are cheap to hold, the bounding box, the
//! category ids and the boxes of the pieces a long geometry is indexed by.

use chrono::{DateTime, Utc};
use geo::Rect;
use uuid::Uuid;

use crate::domain::AssetKind;
use crate::error::{AppError, AppResult};

/// One public asset, as searches see it.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub id: Uuid,
    pub version: i32,
    pub kind: AssetKind,
    pub accessibility: u16,
    pub free: Option<bool>,
    pub min_age: Option<u8>,
    pub max_age: Option<u8>,
    pub has_hours: bool,
    /// Unix seconds.
    pub verified_at: Option<i64>,
    /// min lon, min lat, max lon, max lat of the public geometry.
    pub bbox: [f64; 4],
    pub categories: Vec<Uuid>,
    /// The boxes the geometry is indexed by (f32, rounded outward); none for a point.
    pub pieces: Vec<[f32; 4]>,
}

const FORMAT: u8 = 1;
const HAS_HOURS: u8 = 1;
const FREE_KNOWN: u8 = 2;
const FREE: u8 = 4;
const VERIFIED: u8 = 8;
const NO_AGE: u8 = u8::MAX;

/// The largest f32 not above `v`.
pub fn down(v: f64) -> f32 {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "rounded outward on the next line"
    )]
    let f = v as f32;
    if f64::from(f) > v { f.next_down() } else { f }
}

/// The smallest f32 not below `v`.
pub fn up(v: f64) -> f32 {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "rounded outward on the next line"
    )]
    let f = v as f32;
    if f64::from(f) < v { f.next_up() } else { f }
}

/// A box in f32 that holds `rect`.
pub fn outward(rect: &Rect<f64>) -> [f32; 4] {
    [
        down(rect.min().x),
        down(rect.min().y),
        up(rect.max().x),
        up(rect.max().y),
    ]
}

fn age(v: Option<i32>) -> Option<u8> {
    v.and_then(|a| u8::try_from(a).ok())
        .filter(|a| *a != NO_AGE)
}

impl Record {
    /// The record of a public asset.
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per field of a plain record"
    )]
    pub fn new(
        id: Uuid,
        version: i32,
        content: &crate::domain::AssetContent,
        public: &crate::domain::ValidGeometry,
        verified_at: Option<DateTime<Utc>>,
        categories: Vec<Uuid>,
        pieces: &[Rect<f64>],
        is_point: bool,
    ) -> Self {
        let b = public.bbox();
        let details = &content.details;
        Self {
            id,
            version,
            kind: content.kind,
            accessibility: u16::try_from(details.accessibility.mask()).unwrap_or(u16::MAX),
            free: details.free,
            min_age: age(details.ages.min),
            max_age: age(details.ages.max),
            has_hours: details.opening_hours.is_some(),
            verified_at: verified_at.map(|t| t.timestamp()),
            bbox: [b.min().x, b.min().y, b.max().x, b.max().y],
            categories,
            pieces: if is_point {
                Vec::new()
            } else {
                pieces.iter().map(outward).collect()
            },
        }
    }

    pub fn is_point(&self) -> bool {
        self.pieces.is_empty()
    }

    /// The record as stored; an error, never a short record, if a count outgrows its
    /// field (the geometry gate's caps keep them far below).
    pub fn encode(&self) -> AppResult<Vec<u8>> {
        let too_many =
            |what: &str| AppError::Internal(anyhow::anyhow!("a search record has too many {what}"));
        let mut out = Vec::with_capacity(80 + 16 * self.categories.len() + 16 * self.pieces.len());
        out.push(FORMAT);
        out.extend_from_slice(self.id.as_bytes());
        out.extend_from_slice(&self.version.to_le_bytes());
        let kind = AssetKind::ALL
            .iter()
            .position(|k| *k == self.kind)
            .and_then(|i| u8::try_from(i).ok())
            .ok_or_else(|| too_many("kinds"))?;
        out.push(kind);
        let mut flags = 0;
        if self.has_hours {
            flags |= HAS_HOURS;
        }
        if let Some(free) = self.free {
            flags |= FREE_KNOWN | if free { FREE } else { 0 };
        }
        if self.verified_at.is_some() {
            flags |= VERIFIED;
        }
        out.push(flags);
        out.extend_from_slice(&self.accessibility.to_le_bytes());
        out.push(self.min_age.unwrap_or(NO_AGE));
        out.push(self.max_age.unwrap_or(NO_AGE));
        out.extend_from_slice(&self.verified_at.unwrap_or(0).to_le_bytes());
        for v in self.bbox {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let categories =
            u16::try_from(self.categories.len()).map_err(|_| too_many("categories"))?;
        out.extend_from_slice(&categories.to_le_bytes());
        for c in &self.categories {
            out.extend_from_slice(c.as_bytes());
        }
        let pieces = u32::try_from(self.pieces.len()).map_err(|_| too_many("pieces"))?;
        out.extend_from_slice(&pieces.to_le_bytes());
        for p in &self.pieces {
            for v in p {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        Ok(out)
    }

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = Bytes(bytes);
        if r.take::<1>()?[0] != FORMAT {
            return None;
        }
        let id = Uuid::from_bytes(r.take()?);
        let version = i32::from_le_bytes(r.take()?);
        let kind = *AssetKind::ALL.get(usize::from(r.take::<1>()?[0]))?;
        let flags = r.take::<1>()?[0];
        let accessibility = u16::from_le_bytes(r.take()?);
        let min_age = Some(r.take::<1>()?[0]).filter(|a| *a != NO_AGE);
        let max_age = Some(r.take::<1>()?[0]).filter(|a| *a != NO_AGE);
        let verified = i64::from_le_bytes(r.take()?);
        let mut bbox = [0.0; 4];
        for v in &mut bbox {
            *v = f64::from_le_bytes(r.take()?);
        }
        let n = usize::from(u16::from_le_bytes(r.take()?));
        let categories = (0..n)
            .map(|_| r.take().map(Uuid::from_bytes))
            .collect::<Option<Vec<_>>>()?;
        let n = usize::try_from(u32::from_le_bytes(r.take()?)).ok()?;
        if n.saturating_mul(16) != r.0.len() {
            return None;
        }
        let pieces = (0..n)
            .map(|_| {
                let mut p = [0.0_f32; 4];
                for v in &mut p {
                    *v = f32::from_le_bytes(r.take()?);
                }
                Some(p)
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            id,
            version,
            kind,
            accessibility,
            free: (flags & FREE_KNOWN != 0).then_some(flags & FREE != 0),
            min_age,
            max_age,
            has_hours: flags & HAS_HOURS != 0,
            verified_at: (flags & VERIFIED != 0).then_some(verified),
            bbox,
            categories,
            pieces,
        })
    }
}

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let record = Record {
            id: Uuid::now_v7(),
            version: 7,
            kind: AssetKind::WalkingRoute,
            accessibility: 0b101,
            free: Some(false),
            min_age: Some(18),
            max_age: None,
            has_hours: true,
            verified_at: Some(1_764_000_000),
            bbox: [-2.3, 53.4, -2.2, 53.5],
            categories: vec![Uuid::now_v7(), Uuid::now_v7()],
            pieces: vec![[-2.3, 53.4, -2.25, 53.45], [-2.25, 53.45, -2.2, 53.5]],
        };
        assert_eq!(
            Record::decode(&record.encode().unwrap()),
            Some(record.clone())
        );
        let point = Record {
            free: None,
            verified_at: None,
            pieces: vec![],
            categories: vec![],
            ..record
        };
        assert_eq!(
            Record::decode(&point.encode().unwrap()),
            Some(point.clone())
        );
        let bytes = point.encode().unwrap();
        assert_eq!(Record::decode(&bytes[..bytes.len() - 1]), None);
    }

    #[test]
    fn f32_boxes_hold_the_f64_box() {
        for v in [
            -2.242_612_345_678_9_f64,
            53.480_812_345_678,
            0.1,
            -0.1,
            179.999_999_9,
        ] {
            assert!(f64::from(down(v)) <= v && f64::from(up(v)) >= v, "{v}");
        }
    }
}
