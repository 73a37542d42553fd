//! Everything about searching that differs between SQLite and PostGIS, and nothing else:
//! the three spatial searches and what they keep up to date. Each search returns asset
//! ids in their final order with the distance in metres; loading the assets themselves
//! is plain sea-orm in `service`. The backend's side is an [`Engine`], chosen once at
//! start-up with any state it keeps between searches.
//!
//! SQLite searches run in memory (`memory`): an index of every public asset, built at
//! start-up from compact records the write path stores beside each asset and kept
//! current from the change log, measured in Rust (`geodesic`) the way PostGIS measures
//! `geography`. PostGIS searches run in SQL on its GiST indexes (`postgis`), nearest
//! first by the index's own k-nearest-neighbour order; its replicas keep nothing.

mod cache;
pub mod geodesic;
pub mod memory;
mod postgis;
pub mod text;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend};
use uuid::Uuid;

use crate::db::{Backend, Db};
use crate::domain::{
    AssetContent, AssetFilter, BBox, Buffer, GeometryType, LonLat, Radius, SearchCursor,
    ValidGeometry,
};
use crate::error::{AppError, AppResult};
use crate::tasks::Tasks;
use memory::SqliteEngine;
use memory::record::Record;
use memory::store::{self, Searchable};

/// The backend's side of spatial search.
#[derive(Clone, Debug)]
pub enum Engine {
    /// SQLite: every public asset in memory, and decoded geometry between searches.
    Sqlite(Arc<SqliteEngine>),
    /// PostGIS measures and orders in SQL; nothing is kept here.
    Postgres,
}

impl Engine {
    /// The engine for `backend`; what it does in the background runs in `tasks`.
    pub fn new(backend: Backend, tasks: &Tasks) -> Self {
        match backend {
            Backend::Sqlite => Self::Sqlite(Arc::new(SqliteEngine::new(tasks.clone()))),
            Backend::Postgres => Self::Postgres,
        }
    }
}

/// An asset as searches should see it after a write: `view` is the public's view of its
/// content (its public geometry), None when the public does not see it.
pub struct Indexed<'a> {
    pub id: Uuid,
    pub version: i32,
    pub verified_at: Option<DateTime<Utc>>,
    pub view: Option<&'a AssetContent>,
    pub category_ids: &'a [Uuid],
}

/// Keeps what searches read in step with a write, in its transaction: on SQLite the
/// search records and shapes (PostGIS indexes its own column).
pub async fn reindex(conn: &impl ConnectionTrait, assets: &[Indexed<'_>]) -> AppResult<()> {
    if conn.get_database_backend() != DbBackend::Sqlite || assets.is_empty() {
        return Ok(());
    }
    let mut gone = Vec::new();
    let mut kept = Vec::new();
    for a in assets {
        let Some(view) = a.view else {
            gone.push(a.id);
            continue;
        };
        let geometry = view.geometry.geometry();
        let record = Record::new(
            a.id,
            a.version,
            view,
            &view.geometry,
            a.verified_at,
            a.category_ids.to_vec(),
            &store::pieces(geometry),
            view.geometry.geometry_type() == GeometryType::Point,
        );
        kept.push(Searchable {
            record,
            geometry: geometry.clone(),
        });
    }
    store::remove(conn, &gone).await?;
    store::save(conn, &kept).await
}

impl Engine {
    /// Brings this replica's search state up to the database: on SQLite, builds the
    /// in-memory index from the stored records.
    pub async fn load(&self, db: &Db) -> AppResult<()> {
        load(self, db).await
    }

    /// Applies new change-log entries to this replica's search state (SQLite's index):
    /// the assets named are read as they are now.
    pub async fn follow(&self, db: &Db, changed: &[Uuid]) -> AppResult<()> {
        follow(self, db, changed).await
    }

    /// Runs a search: ids in their final order, at most `limit`.
    pub async fn search(&self, db: &Db, search: Search<'_>) -> AppResult<Vec<Hit>> {
        let hits = match self {
            Self::Sqlite(engine) => memory::query::run(db, engine, search).await?,
            Self::Postgres => postgis::run(db, search).await?,
        };
        tracing::debug!(
            db.backend = db.backend.as_str(),
            result.count = hits.len(),
            "spatial search"
        );
        Ok(hits)
    }

    /// The clusters of a low-zoom tile: public assets passing `filter` (its text aside)
    /// counted per cell of a `cols` x `rows` grid over `window` (west, south, east,
    /// north).
    pub async fn cells(
        &self,
        db: &Db,
        window: [f32; 4],
        grid: (u32, u32),
        filter: &AssetFilter,
        category_ids: &[Uuid],
    ) -> AppResult<Vec<Cell>> {
        let (cols, rows) = grid;
        match self {
            Self::Sqlite(engine) => {
                memory::query::cells(engine, window, cols, rows, filter, category_ids)
            }
            Self::Postgres => postgis::cells(db, window, cols, rows, filter, category_ids).await,
        }
    }
}

async fn load(engine: &Engine, db: &Db) -> AppResult<()> {
    let Engine::Sqlite(engine) = engine else {
        return Ok(());
    };
    let mut builder = memory::Builder::default();
    store::each(&db.read, |seq, record| builder.add(seq, record)).await?;
    let index = builder.finish();
    tracing::info!(
        index.assets = index.len(),
        index.bytes = index.bytes(),
        "search index built"
    );
    *engine
        .index
        .write()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("the search index lock was poisoned")))? =
        index;
    Ok(())
}

async fn follow(engine: &Engine, db: &Db, changed: &[Uuid]) -> AppResult<()> {
    let Engine::Sqlite(engine) = engine else {
        return Ok(());
    };
    let mut ids = changed.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let now = store::current(&db.read, &ids).await?;
    {
        let mut index = engine.index.write().map_err(|_| {
            AppError::Internal(anyhow::anyhow!("the search index lock was poisoned"))
        })?;
        for (seq, record) in now {
            match record {
                Some(record) => index.upsert(seq, &record),
                None => index.remove(seq),
            }
        }
    }
    engine.rebuild_if_needed();
    Ok(())
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

/// PostgreSQL's plan for a search's SQL (`EXPLAIN`), one line per row: shows that the
/// spatial index is used. SQLite searches run no SQL to find candidates.
pub async fn explain(db: &Db, search: Search<'_>) -> AppResult<String> {
    let (prefix, column) = ("EXPLAIN ", "QUERY PLAN");
    let statement = postgis::statement(&search).build();
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
    hits.truncate(crate::convert::to_usize(limit));
    hits
}

/// The assets of one cell of a grid over a map tile: how many, where they are on
/// average, and the lowest id among them (the asset itself when it is alone).
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub col: u32,
    pub row: u32,
    pub count: u64,
    pub lon: f64,
    pub lat: f64,
    pub first: Uuid,
}

impl Cell {
    /// Buckets (id, lon, lat) centres inside `window` into a `cols` x `rows` grid (row 0
    /// at the north edge, as tiles count).
    pub fn bucket(
        centres: impl Iterator<Item = (Uuid, f64, f64)>,
        window: [f32; 4],
        cols: u32,
        rows: u32,
    ) -> Vec<Self> {
        let [w, s, e, n] = window.map(f64::from);
        let (fc, fr) = (f64::from(cols) / (e - w), f64::from(rows) / (n - s));
        // a flat grid: a tile's cells are few (64 x 64) and its centres many
        let mut grid: Vec<(u64, f64, f64, Uuid)> =
            vec![(0, 0.0, 0.0, Uuid::max()); (cols * rows) as usize];
        for (id, lon, lat) in centres {
            if lon < w || lon > e || lat < s || lat > n {
                continue;
            }
            // in range by the check above
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let (col, row) = (
                (((lon - w) * fc) as u32).min(cols - 1),
                (((n - lat) * fr) as u32).min(rows - 1),
            );
            let cell = &mut grid[(row * cols + col) as usize];
            cell.0 += 1;
            cell.1 += lon;
            cell.2 += lat;
            cell.3 = cell.3.min(id);
        }
        // the grid holds cols x rows cells, a u32
        (0_u32..)
            .zip(grid)
            .filter(|(_, c)| c.0 > 0)
            .map(|(i, (count, lon, lat, first))| Self {
                col: i % cols,
                row: i / cols,
                count,
                lon: lon / count as f64,
                lat: lat / count as f64,
                first,
            })
            .collect()
    }
}
