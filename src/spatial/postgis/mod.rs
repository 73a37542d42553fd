//! PostGIS: distances are `ST_Distance` on `geography` (the WGS84 spheroid), radius and
//! buffer tests `ST_DWithin` on `geography(geom)` (GiST-indexed), viewports
//! `ST_Intersects` on the planar `geom` (GiST-indexed). Ordering and paging happen in SQL.
//!
//! Nearby searches use the geography index's own nearest-first order (`<->`) to find how
//! far the page reaches: the first `limit` assets it yields (filters applied) are all
//! within some exact distance D, so the exact page is within D too, and the exact search
//! then looks no farther than D instead of the whole radius.

use sea_orm::ConnectionTrait;

mod sql;

use self::sql::Sql;
use super::{Hit, Search, Shape};
use crate::db::Db;
use crate::domain::{LonLat, Radius, SearchCursor};
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

/// The start of a nearby search: the assets within the radius, and no farther than the
/// page reaches in the index's nearest-first order.
fn near(sql: &mut Sql, search: &Search<'_>, center: LonLat, radius: Radius) {
    let point = |sql: &mut Sql| {
        sql.push("geography(ST_SetSRID(ST_MakePoint(")
            .bind(center.lon)
            .push(", ")
            .bind(center.lat)
            .push("), 4326))");
    };
    let within = radius.get() + PREFILTER_SLACK_METERS;
    sql.push("SELECT s.id, s.d FROM (SELECT a.id, ST_Distance(geography(a.geom), ");
    point(sql);
    sql.push(") AS d FROM assets a WHERE ST_DWithin(geography(a.geom), ");
    point(sql);
    // how far the first page reaches, in the index's nearest-first order
    sql.push(", LEAST(")
        .bind(within)
        .push(", coalesce((SELECT max(k.d) FROM (SELECT ST_Distance(geography(b.geom), ");
    point(sql);
    // the box test alone, not ST_DWithin: its estimate counts the radius twice,
    // and the planner then sorts a bitmap scan instead of walking the index
    // nearest first
    sql.push(") AS d FROM assets b WHERE geography(b.geom) && _ST_Expand(");
    point(sql);
    sql.push(", ").bind(within).push(")");
    sql.filter_on("b", search.filter, search.category_ids);
    if let Some(c) = search.after {
        sql.push(" AND (ST_Distance(geography(b.geom), ");
        point(sql);
        sql.push("), b.id) > (")
            .bind(c.distance)
            .push(", ")
            .bind(c.id)
            .push(")");
    }
    sql.push(" ORDER BY geography(b.geom) <-> ");
    point(sql);
    sql.push(" LIMIT ")
        .bind(i64::try_from(search.limit).unwrap_or(i64::MAX))
        .push(") k), ")
        .bind(within)
        .push(") + ")
        .bind(PREFILTER_SLACK_METERS)
        .push("))");
}

/// The whole search as one statement: spatial test, filters, order, page.
// long on purpose: one SQL statement written clause by clause, in the order SQL reads
pub fn statement(search: &Search<'_>) -> Sql {
    let mut sql = Sql::new();
    let max_distance = match search.shape {
        Shape::Near { center, radius } => {
            near(&mut sql, search, center, radius);
            Some(radius.get())
        }
        Shape::InBox(b) => {
            let envelope = |sql: &mut Sql| {
                sql.push("ST_MakeEnvelope(")
                    .bind(b.min_lon)
                    .push(", ")
                    .bind(b.min_lat)
                    .push(", ")
                    .bind(b.max_lon)
                    .push(", ")
                    .bind(b.max_lat)
                    .push(", 4326)");
            };
            return by_id(
                sql,
                search,
                |sql| {
                    sql.push("a.geom && ");
                    envelope(sql);
                },
                |sql| {
                    sql.push("ST_Intersects(s.geom, ");
                    envelope(sql);
                    sql.push(")");
                },
            );
        }
        Shape::Around { geometry, buffer } if buffer.get() == 0.0 => {
            let text = geometry.to_geojson_string();
            let shape = |sql: &mut Sql| {
                sql.push("geography(ST_SetSRID(ST_GeomFromGeoJSON(")
                    .bind(text.clone())
                    .push("), 4326))");
            };
            return by_id(
                sql,
                search,
                |sql| {
                    sql.push("geography(a.geom) && _ST_Expand(");
                    shape(sql);
                    sql.push(", ").bind(PREFILTER_SLACK_METERS).push(")");
                },
                |sql| {
                    sql.push("ST_Distance(geography(s.geom), ");
                    shape(sql);
                    sql.push(") <= 0");
                },
            );
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

/// A search whose every result is at distance 0 (a viewport, or a shape with no buffer):
/// the page is the first `limit` by id. Candidates are sorted by id on the index's box
/// test alone, and the exact test runs on them in that order only until the page is
/// full: at a million assets a town-centre box holds thousands of candidates and a page
/// a hundred, and the exact test (geometry read from the table, measured) was most of
/// the cost.
fn by_id(
    mut sql: Sql,
    search: &Search<'_>,
    on_box: impl FnOnce(&mut Sql),
    exact: impl FnOnce(&mut Sql),
) -> Sql {
    sql.push("SELECT s.id, 0.0::float8 AS d FROM (SELECT a.id, a.geom FROM assets a WHERE ");
    on_box(&mut sql);
    sql.filter(search.filter, search.category_ids);
    if let Some(c) = search.after {
        sql.push(" AND (0.0::float8, a.id) > (")
            .bind(c.distance)
            .push(", ")
            .bind(c.id)
            .push(")");
    }
    // OFFSET 0 keeps the exact test out of the subquery: it runs on the sorted
    // candidates, as many as the page needs
    sql.push(" ORDER BY a.id OFFSET 0) s WHERE ");
    exact(&mut sql);
    sql.push(" ORDER BY s.id LIMIT ")
        .bind(i64::try_from(search.limit).unwrap_or(i64::MAX));
    sql
}

pub async fn run(db: &Db, search: Search<'_>) -> AppResult<Vec<Hit>> {
    let rows = db.read.query_all_raw(statement(&search).build()).await?;
    rows.iter()
        .map(|row| {
            Ok(Hit {
                id: row.try_get("", "id")?,
                distance: row.try_get("", "d")?,
            })
        })
        .collect()
}

/// Counts per grid cell of the public assets by the centres of their boxes (stored
/// columns: nothing is computed from geometry), grouped in SQL; the lowest id of each
/// cell names a lone asset.
pub async fn cells(
    db: &Db,
    window: [f32; 4],
    cols: u32,
    rows: u32,
    filter: &crate::domain::AssetFilter,
    category_ids: &[uuid::Uuid],
) -> AppResult<Vec<super::Cell>> {
    let [w, s, e, n] = window.map(f64::from);
    let (cw, ch) = ((e - w) / f64::from(cols), (n - s) / f64::from(rows));
    let mut sql = Sql::new();
    // box centres by plain arithmetic on the stored bounds: no geometry built per row
    sql.push("SELECT floor((x - ")
        .bind(w)
        .push(") / ")
        .bind(cw)
        .push(")::int AS col, floor((")
        .bind(n)
        .push(" - y) / ")
        .bind(ch)
        .push(")::int AS row, count(*) AS n, avg(x) AS lon, avg(y) AS lat, min(id::text)::uuid AS first")
        .push(" FROM (SELECT (a.min_lon + a.max_lon) / 2 AS x, (a.min_lat + a.max_lat) / 2 AS y, a.id FROM assets a WHERE a.geom && ST_MakeEnvelope(")
        .bind(w)
        .push(", ")
        .bind(s)
        .push(", ")
        .bind(e)
        .push(", ")
        .bind(n)
        .push(", 4326)");
    let without_text = crate::domain::AssetFilter {
        text: None,
        ..filter.clone()
    };
    sql.filter(&without_text, category_ids);
    sql.push(") c WHERE x BETWEEN ")
        .bind(w)
        .push(" AND ")
        .bind(e)
        .push(" AND y BETWEEN ")
        .bind(s)
        .push(" AND ")
        .bind(n)
        .push(" GROUP BY 1, 2 ORDER BY 1, 2");
    let found = db.read.query_all_raw(sql.build()).await?;
    found
        .iter()
        .map(|r| {
            let clamp = |v: i32, max: u32| v.max(0).unsigned_abs().min(max - 1);
            Ok(super::Cell {
                col: clamp(r.try_get("", "col")?, cols),
                row: clamp(r.try_get("", "row")?, rows),
                // a count is never negative
                count: r.try_get::<i64>("", "n")?.unsigned_abs(),
                lon: r.try_get("", "lon")?,
                lat: r.try_get("", "lat")?,
                first: r.try_get("", "first")?,
            })
        })
        .collect()
}
