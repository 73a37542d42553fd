//! Everything about searching that differs between SQLite and PostGIS, and nothing else:
//! the three spatial searches and the spatial index's maintenance (`index`). Each search
//! returns asset ids in their final order with the distance in metres; loading the
//! assets themselves is plain sea-orm in `service`. The backend's side is an [`Engine`],
//! chosen once at start-up with any state it keeps between searches.
//!
//! Both backends use a spatial index for every search: SQLite's R*Tree narrows the
//! candidates to a box around the query and the exact geodesic test runs in Rust
//! (`geodesic`); PostGIS uses its GiST indexes on `geometry` and `geography(geom)`.

mod cache;
pub mod geodesic;
pub mod index;
mod postgis;
mod sql;
mod sqlite;

use uuid::Uuid;

use std::sync::Arc;

use cache::GeometryCache;

use crate::db::{Backend, Db};
use crate::domain::{AssetFilter, BBox, Buffer, LonLat, Radius, SearchCursor, ValidGeometry};
use crate::error::AppResult;

/// The backend's side of spatial search.
#[derive(Clone, Debug)]
pub enum Engine {
    /// SQLite: the R*Tree finds candidates and Rust measures them, keeping decoded
    /// geometries between searches.
    Sqlite(Arc<GeometryCache>),
    /// PostGIS measures and orders in SQL; nothing is kept here.
    Postgres,
}

impl Engine {
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                Self::Sqlite(Arc::new(GeometryCache::new(GeometryCache::MAX_VERTICES)))
            }
            Backend::Postgres => Self::Postgres,
        }
    }
}

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

/// What to search around.
#[derive(Clone, Copy, Debug)]
pub enum Shape<'a> {
    /// Within `radius` of `center`, nearest first.
    Near { center: LonLat, radius: Radius },
    /// Intersecting a lon/lat box (a map viewport), by id; distances are 0.
    InBox(BBox),
    /// Within `buffer` metres of a geometry (intersecting it when 0), nearest first.
    Around {
        geometry: &'a ValidGeometry,
        buffer: Buffer,
    },
}

impl Shape<'_> {
    /// What kind of search this is, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Near { .. } => "near",
            Self::InBox(_) => "box",
            Self::Around { .. } => "around",
        }
    }
}

/// One page of a search: the shape, the filter, where the last page ended, how many.
#[derive(Clone, Copy, Debug)]
pub struct Search<'a> {
    pub shape: Shape<'a>,
    pub filter: &'a AssetFilter,
    /// The filter's categories as ids, children included (see `service::categories::expand`).
    pub category_ids: &'a [Uuid],
    pub after: Option<SearchCursor>,
    pub limit: u64,
}

/// Runs a search: ids in their final order, at most `limit`.
pub async fn search(db: &Db, search: Search<'_>) -> AppResult<Vec<Hit>> {
    let hits = match search.shape {
        Shape::Near { center, radius } => widening(db, search, center, radius).await?,
        _ => run(db, search).await?,
    };
    tracing::debug!(
        db.backend = db.backend.as_str(),
        result.count = hits.len(),
        "spatial search"
    );
    Ok(hits)
}

async fn run(db: &Db, search: Search<'_>) -> AppResult<Vec<Hit>> {
    match &db.spatial {
        Engine::Sqlite(cache) => sqlite::run(db, cache, search).await,
        Engine::Postgres => postgis::run(db, search).await,
    }
}

/// Nearest first without reading everything within the radius: search a circle a quarter
/// of the radius, and widen it until it holds a full page (or is the whole radius), by how
/// short of a page it fell. Every asset nearer
/// than the circle's radius is in the circle, so a full page found inside it is the
/// page: nothing outside could come before any of it. Where assets are dense this reads
/// a few hundred instead of thousands; where they are sparse it costs a few small
/// index probes more.
async fn widening(
    db: &Db,
    search: Search<'_>,
    center: LonLat,
    radius: Radius,
) -> AppResult<Vec<Hit>> {
    let mut r = (radius.get() / 4.0).max(50.0);
    if let Some(cursor) = search.after {
        r = r.max(cursor.distance * 1.25 + 10.0);
    }
    let wanted = search.limit as f64;
    loop {
        let round = Radius::meters(r.min(radius.get()))?;
        let hits = run(
            db,
            Search {
                shape: Shape::Near {
                    center,
                    radius: round,
                },
                ..search
            },
        )
        .await?;
        if u64::try_from(hits.len()).unwrap_or(u64::MAX) >= search.limit || round == radius {
            return Ok(hits);
        }
        // found m of a page in a circle of radius r: about r * sqrt(page / m) holds a page
        let found = hits.len() as f64;
        r *= ((wanted / (found + 0.5)).sqrt() * 1.3).clamp(2.0, 8.0);
    }
}

/// The database's plan for a search's SQL (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN`
/// on PostgreSQL), one line per row: shows that the spatial index is used.
pub async fn explain(db: &Db, search: Search<'_>) -> AppResult<String> {
    let (prefix, column) = match db.backend {
        Backend::Sqlite => ("EXPLAIN QUERY PLAN ", "detail"),
        Backend::Postgres => ("EXPLAIN ", "QUERY PLAN"),
    };
    let statement = match db.spatial {
        Engine::Sqlite(_) => sqlite::statement(db.backend, &search),
        Engine::Postgres => postgis::statement(db.backend, &search),
    }
    .build();
    let explained = sea_orm::Statement::from_sql_and_values(
        statement.db_backend,
        format!("{prefix}{}", statement.sql),
        statement.values.map(|v| v.0).unwrap_or_default(),
    );
    let rows = sea_orm::ConnectionTrait::query_all_raw(&db.read, explained).await?;
    let lines: Result<Vec<String>, _> = rows
        .iter()
        .map(|r| r.try_get::<String>("", column))
        .collect();
    Ok(lines?.join("\n"))
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
