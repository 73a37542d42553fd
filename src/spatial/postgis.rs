//! PostGIS: distances are `ST_Distance` on `geography` (the WGS84 spheroid), radius and
//! buffer tests `ST_DWithin` on `geography(geom)` (GiST-indexed), viewports
//! `ST_Intersects` on the planar `geom` (GiST-indexed). Ordering and paging happen in SQL.

use sea_orm::ConnectionTrait;

use super::Hit;
use super::sql::Sql;
use crate::db::Db;
use crate::domain::{AssetFilter, BBox, Buffer, LonLat, Radius, SearchCursor, ValidGeometry};
use crate::error::AppResult;

/// Slack for the indexed `ST_DWithin` prefilter: `ST_Distance` rounds to 1e-8 m, so an
/// asset whose reported distance equals the radius may lie a hair beyond it. The exact,
/// inclusive test is then on the reported distance.
const PREFILTER_SLACK_METERS: f64 = 0.001;

/// Wraps an inner `SELECT a.id, <distance> AS d ... WHERE ...` in the keyset page,
/// keeping only distances up to `max_distance` when given.
fn page(mut sql: Sql, max_distance: Option<f64>, after: Option<SearchCursor>, limit: u64) -> Sql {
    sql.push(") s WHERE TRUE");
    if let Some(max) = max_distance {
        sql.push(" AND s.d <= ").bind(max);
    }
    if let Some(c) = after {
        sql.push(" AND (s.d, s.id) > (")
            .bind(c.distance)
            .push(", ")
            .bind(c.id)
            .push(")");
    }
    sql.push(" ORDER BY s.d, s.id LIMIT ")
        .bind(i64::try_from(limit).unwrap_or(i64::MAX));
    sql
}

async fn hits(db: &Db, sql: Sql) -> AppResult<Vec<Hit>> {
    let rows = db.read.query_all_raw(sql.build()).await?;
    rows.iter()
        .map(|row| {
            Ok(Hit {
                id: row.try_get("", "id")?,
                distance: row.try_get("", "d")?,
            })
        })
        .collect()
}

pub async fn nearby(
    db: &Db,
    center: LonLat,
    radius: Radius,
    filter: &AssetFilter,
    after: Option<SearchCursor>,
    limit: u64,
) -> AppResult<Vec<Hit>> {
    let mut sql = Sql::new(db.backend.db_backend());
    sql.push(
        "SELECT s.id, s.d FROM (SELECT a.id, \
         ST_Distance(geography(a.geom), q.g) AS d FROM assets a, \
         (SELECT geography(ST_SetSRID(ST_MakePoint(",
    )
    .bind(center.lon)
    .push(", ")
    .bind(center.lat)
    .push("), 4326)) AS g) q WHERE ST_DWithin(geography(a.geom), q.g, ")
    .bind(radius.get() + PREFILTER_SLACK_METERS)
    .push(")");
    sql.filter(filter);
    hits(db, page(sql, Some(radius.get()), after, limit)).await
}

pub async fn in_bbox(
    db: &Db,
    bbox: BBox,
    filter: &AssetFilter,
    after: Option<SearchCursor>,
    limit: u64,
) -> AppResult<Vec<Hit>> {
    let mut sql = Sql::new(db.backend.db_backend());
    sql.push("SELECT s.id, s.d FROM (SELECT a.id, 0.0::float8 AS d FROM assets a WHERE ST_Intersects(a.geom, ST_MakeEnvelope(")
        .bind(bbox.min_lon)
        .push(", ")
        .bind(bbox.min_lat)
        .push(", ")
        .bind(bbox.max_lon)
        .push(", ")
        .bind(bbox.max_lat)
        .push(", 4326))");
    sql.filter(filter);
    hits(db, page(sql, None, after, limit)).await
}

pub async fn intersecting(
    db: &Db,
    geometry: &ValidGeometry,
    buffer: Buffer,
    filter: &AssetFilter,
    after: Option<SearchCursor>,
    limit: u64,
) -> AppResult<Vec<Hit>> {
    let mut sql = Sql::new(db.backend.db_backend());
    sql.push(
        "SELECT s.id, s.d FROM (SELECT a.id, \
         ST_Distance(geography(a.geom), q.g) AS d FROM assets a, \
         (SELECT geography(ST_SetSRID(ST_GeomFromGeoJSON(",
    )
    .bind(geometry.to_geojson_string())
    .push("), 4326)) AS g) q WHERE ST_DWithin(geography(a.geom), q.g, ")
    .bind(buffer.get() + PREFILTER_SLACK_METERS)
    .push(")");
    sql.filter(filter);
    hits(db, page(sql, Some(buffer.get()), after, limit)).await
}
