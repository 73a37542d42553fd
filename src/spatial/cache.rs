//! Decoded geometries of lines and areas, kept between searches (SQLite): decoding the
//! stored GeoJSON and turning vertices into unit vectors costs more than measuring. Keyed
//! by (id, version), so a changed asset is never served stale, on any replica; bounded by
//! the number of vertices held.

use std::fmt;
use std::sync::Arc;

use quick_cache::Weighter;
use quick_cache::sync::Cache;
use uuid::Uuid;

use super::geodesic::Prepared;

#[derive(Clone)]
struct Vertices;

impl Weighter<(Uuid, i32), Arc<Prepared>> for Vertices {
    fn weight(&self, _: &(Uuid, i32), value: &Arc<Prepared>) -> u64 {
        crate::convert::to_u64(value.vertices().max(1))
    }
}

pub struct GeometryCache(Cache<(Uuid, i32), Arc<Prepared>, Vertices>);

impl GeometryCache {
    /// About 56 bytes a vertex: 500 000 vertices take some 30 MB.
    pub const MAX_VERTICES: u64 = 500_000;

    pub fn new(max_vertices: u64) -> Self {
        Self(Cache::with_weighter(10_000, max_vertices, Vertices))
    }

    pub fn get(&self, id: Uuid, version: i32) -> Option<Arc<Prepared>> {
        self.0.get(&(id, version))
    }

    pub fn insert(&self, id: Uuid, version: i32, value: Arc<Prepared>) {
        self.0.insert((id, version), value);
    }
}

impl fmt::Debug for GeometryCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeometryCache")
            .field("entries", &self.0.len())
            .finish()
    }
}
