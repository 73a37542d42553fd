//! Everything that differs between SQLite and PostGIS, and nothing else: the three
//! spatial searches. Each returns asset ids in their final order with the distance in
//! metres; loading the assets themselves is plain sea-orm in `service`.
//!
//! Both backends use a spatial index for every search: SQLite's R*Tree narrows the
//! candidates to a box around the query and the exact geodesic test runs in Rust
//! (`geodesic`); PostGIS uses its GiST indexes on `geometry` and `geography(geom)`.

pub mod geodesic;
mod postgis;
mod sql;
mod sqlite;

use uuid::Uuid;

use crate::db::{Backend, Db};
use crate::domain::{AssetFilter, BBox, Buffer, LonLat, Radius, SearchCursor, ValidGeometry};
use crate::error::AppResult;

/// One search result: an asset id and its distance in metres (0 for a viewport search).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    pub id: Uuid,
    pub distance: f64,
}

impl Hit {
    pub fn cursor(&self) -> SearchCursor {
        SearchCursor {
            distance: self.distance,
            id: self.id,
        }
    }
}

/// Assets within `radius` of `center`, nearest first (ties by id), after `after`, at
/// most `limit`.
pub async fn nearby(
    db: &Db,
    center: LonLat,
    radius: Radius,
    filter: &AssetFilter,
    after: Option<SearchCursor>,
    limit: u64,
) -> AppResult<Vec<Hit>> {
    let hits = match db.backend {
        Backend::Sqlite => sqlite::nearby(db, center, radius, filter, after, limit).await?,
        Backend::Postgres => postgis::nearby(db, center, radius, filter, after, limit).await?,
    };
    tracing::debug!(
        db.backend = db.backend.as_str(),
        geo.radius_m = radius.get(),
        result.count = hits.len(),
        "nearby"
    );
    Ok(hits)
}

/// Assets whose geometry intersects the box, by id, after `after`, at most `limit`.
pub async fn in_bbox(
    db: &Db,
    bbox: BBox,
    filter: &AssetFilter,
    after: Option<SearchCursor>,
    limit: u64,
) -> AppResult<Vec<Hit>> {
    match db.backend {
        Backend::Sqlite => sqlite::in_bbox(db, bbox, filter, after, limit).await,
        Backend::Postgres => postgis::in_bbox(db, bbox, filter, after, limit).await,
    }
}

/// Assets within `buffer` metres of `geometry` (intersecting it when 0), nearest first.
pub async fn intersecting(
    db: &Db,
    geometry: &ValidGeometry,
    buffer: Buffer,
    filter: &AssetFilter,
    after: Option<SearchCursor>,
    limit: u64,
) -> AppResult<Vec<Hit>> {
    match db.backend {
        Backend::Sqlite => sqlite::intersecting(db, geometry, buffer, filter, after, limit).await,
        Backend::Postgres => {
            postgis::intersecting(db, geometry, buffer, filter, after, limit).await
        }
    }
}

/// Keeps the hits after the cursor in (distance, id) order.
fn after_cursor(hit: &Hit, after: Option<SearchCursor>) -> bool {
    match after {
        None => true,
        Some(c) => hit.distance > c.distance || (hit.distance == c.distance && hit.id > c.id),
    }
}

fn sort_and_page(mut hits: Vec<Hit>, after: Option<SearchCursor>, limit: u64) -> Vec<Hit> {
    hits.retain(|h| after_cursor(h, after));
    hits.sort_by(|a, b| a.distance.total_cmp(&b.distance).then(a.id.cmp(&b.id)));
    hits.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    hits
}
