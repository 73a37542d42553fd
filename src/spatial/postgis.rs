//! PostGIS: distances are `ST_Distance` on `geography` (the WGS84 spheroid), radius and
//! buffer tests `ST_DWithin` on `geography(geom)` (GiST-indexed), viewports
//! `ST_Intersects` on the planar `geom` (GiST-indexed). Ordering and paging happen in SQL.

use sea_orm::ConnectionTrait;

use super::Hit;
use super::sql::Sql;
use crate::db::Db;
use crate::domain::{AssetFilter, BBox, Buffer, LonLat, Radius, SearchCursor, ValidGeometry};
use crate::error::AppResult;

/// Wraps an inner `SELECT a.id, <distance> AS d ... WHERE ...` in the keyset page.
fn page(mut sql: Sql, after: Option<SearchCursor>, limit: u64) -> Sql {
    sql.push(") s");
    if let Some(c) = after {
        sql.push(" WHERE (s.d, s.id) > (")
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
    .bind(radius.get())
    .push(")");
    sql.filter(filter);
    hits(db, page(sql, after, limit)).await
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
    hits(db, page(sql, after, limit)).await
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
    .bind(buffer.get())
    .push(")");
    sql.filter(filter);
    hits(db, page(sql, after, limit)).await
}
