//! PostGIS: distances are `ST_Distance` on `geography` (the WGS84 spheroid), radius and
//! buffer tests `ST_DWithin` on `geography(geom)` (GiST-indexed), viewports
//! `ST_Intersects` on the planar `geom` (GiST-indexed). Ordering and paging happen in SQL.
//!
//! Nearby searches use the geography index's own nearest-first order (`<->`) to find how
//! far the page reaches: the first `limit` assets it yields (filters applied) are all
//! within some exact distance D, so the exact page is within D too, and the exact search
//! then looks no farther than D instead of the whole radius.

use sea_orm::ConnectionTrait;

use super::sql::Sql;
use super::{Hit, Search, Shape};
use crate::db::{Backend, Db};
use crate::domain::SearchCursor;
use crate::error::AppResult;

/// Slack for the indexed `ST_DWithin` prefilter: `ST_Distance` rounds to 1e-8 m, so an
/// asset whose reported distance equals the radius may lie a hair beyond it. The exact,
/// inclusive test is then on the reported distance.
const PREFILTER_SLACK_METERS: f64 = 0.001;

/// Wraps an inner `SELECT a.id, <distance> AS d ... WHERE ...` in the keyset page,
/// keeping only distances up to `max_distance` when given.
fn page(mut sql: Sql, max_distance: Option<f64>, after: Option<SearchCursor>, limit: u64) -> Sql {
    // OFFSET 0 keeps these conditions out of the inner query, so each distance is
    // computed once, for the rows that passed the index and the filters
    sql.push(" OFFSET 0) s WHERE TRUE");
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

/// The whole search as one statement: spatial test, filters, order, page.
pub fn statement(backend: Backend, search: &Search<'_>) -> Sql {
    let mut sql = Sql::new(backend.db_backend());
    let max_distance = match search.shape {
        Shape::Near { center, radius } => {
            let point = |sql: &mut Sql| {
                sql.push("geography(ST_SetSRID(ST_MakePoint(")
                    .bind(center.lon)
                    .push(", ")
                    .bind(center.lat)
                    .push("), 4326))");
            };
            let within = radius.get() + PREFILTER_SLACK_METERS;
            sql.push("SELECT s.id, s.d FROM (SELECT a.id, ST_Distance(geography(a.geom), ");
            point(&mut sql);
            sql.push(") AS d FROM assets a WHERE ST_DWithin(geography(a.geom), ");
            point(&mut sql);
            // how far the first page reaches, in the index's nearest-first order
            sql.push(", LEAST(")
                .bind(within)
                .push(", coalesce((SELECT max(k.d) FROM (SELECT ST_Distance(geography(b.geom), ");
            point(&mut sql);
            sql.push(") AS d FROM assets b WHERE ST_DWithin(geography(b.geom), ");
            point(&mut sql);
            sql.push(", ").bind(within).push(")");
            sql.filter_on("b", search.filter, search.category_ids);
            if let Some(c) = search.after {
                sql.push(" AND (ST_Distance(geography(b.geom), ");
                point(&mut sql);
                sql.push("), b.id) > (")
                    .bind(c.distance)
                    .push(", ")
                    .bind(c.id)
                    .push(")");
            }
            sql.push(" ORDER BY geography(b.geom) <-> ");
            point(&mut sql);
            sql.push(" LIMIT ")
                .bind(i64::try_from(search.limit).unwrap_or(i64::MAX))
                .push(") k), ")
                .bind(within)
                .push(") + ")
                .bind(PREFILTER_SLACK_METERS)
                .push("))");
            Some(radius.get())
        }
        Shape::InBox(b) => {
            sql.push(
                "SELECT s.id, s.d FROM (SELECT a.id, 0.0::float8 AS d FROM assets a \
                 WHERE ST_Intersects(a.geom, ST_MakeEnvelope(",
            )
            .bind(b.min_lon)
            .push(", ")
            .bind(b.min_lat)
            .push(", ")
            .bind(b.max_lon)
            .push(", ")
            .bind(b.max_lat)
            .push(", 4326))");
            None
        }
        Shape::Around { geometry, buffer } => {
            sql.push(
                "SELECT s.id, s.d FROM (SELECT a.id, \
                 ST_Distance(geography(a.geom), q.g) AS d FROM assets a, \
                 (SELECT geography(ST_SetSRID(ST_GeomFromGeoJSON(",
            )
            .bind(geometry.to_geojson_string())
            .push("), 4326)) AS g) q WHERE ST_DWithin(geography(a.geom), q.g, ")
            .bind(buffer.get() + PREFILTER_SLACK_METERS)
            .push(")");
            Some(buffer.get())
        }
    };
    sql.filter(search.filter, search.category_ids);
    page(sql, max_distance, search.after, search.limit)
}

pub async fn run(db: &Db, search: Search<'_>) -> AppResult<Vec<Hit>> {
    let rows = db
        .read
        .query_all_raw(statement(db.backend, &search).build())
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Hit {
                id: row.try_get("", "id")?,
                distance: row.try_get("", "d")?,
            })
        })
        .collect()
}
