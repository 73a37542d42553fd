//! The search records on disk (SQLite): `asset_search` holds each public asset's
//! [`Record`] and `asset_shapes` the compact geometry of its lines and areas, both keyed
//! by the asset's row number and written with the asset by the one write path. The
//! in-memory index is built from them at start-up, and follows them afterwards.

use geo::{BoundingRect, Coord, Geometry, LineString, Rect};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use uuid::Uuid;

use super::record::Record;
use super::shape;
use crate::error::{AppError, AppResult};

/// Segments per piece of a path.
const RUN: usize = 16;
/// The most pieces one asset may have; beyond it the asset is one piece, its whole box.
pub const MAX_PIECES: usize = 1024;

fn line_pieces(line: &LineString<f64>, out: &mut Vec<Rect<f64>>) {
    let pts = &line.0;
    let segments = pts.len().saturating_sub(1);
    let mut start = 0;
    while start < segments {
        let end = (start + RUN).min(segments);
        let run = &pts[start..=end];
        let (mut min, mut max) = (run[0], run[0]);
        let mut longest: f64 = 0.0;
        for w in run.windows(2) {
            longest = longest.max((w[1].x - w[0].x).hypot(w[1].y - w[0].y));
        }
        for c in run {
            min = Coord {
                x: min.x.min(c.x),
                y: min.y.min(c.y),
            };
            max = Coord {
                x: max.x.max(c.x),
                y: max.y.max(c.y),
            };
        }
        // a great-circle edge bows out of its planar box by far less than this
        let pad = longest * longest / 50.0;
        out.push(Rect::new(
            Coord {
                x: min.x - pad,
                y: min.y - pad,
            },
            Coord {
                x: max.x + pad,
                y: max.y + pad,
            },
        ));
        start = end;
    }
}

/// The boxes an asset is indexed by: a path in runs of a few segments, a MultiPoint by
/// its points, a MultiPolygon by its polygons, anything else whole. A polygon stays one
/// piece: its inside must be found, not just its edges.
pub fn pieces(g: &Geometry<f64>) -> Vec<Rect<f64>> {
    let mut out = Vec::new();
    match g {
        Geometry::Point(p) => out.push(Rect::new(p.0, p.0)),
        Geometry::MultiPoint(mp) => out.extend(mp.0.iter().map(|p| Rect::new(p.0, p.0))),
        Geometry::LineString(l) => line_pieces(l, &mut out),
        Geometry::MultiLineString(ml) => ml.0.iter().for_each(|l| line_pieces(l, &mut out)),
        Geometry::MultiPolygon(mp) => {
            out.extend(mp.0.iter().filter_map(BoundingRect::bounding_rect));
        }
        other => out.extend(other.bounding_rect()),
    }
    if out.len() > MAX_PIECES || out.is_empty() {
        out = g.bounding_rect().into_iter().collect();
    }
    out
}

fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// The rows `select` (ending in `IN`) finds for these assets' ids, 500 ids a statement.
async fn rows_by_id(
    conn: &impl ConnectionTrait,
    select: &str,
    ids: &[Uuid],
) -> AppResult<Vec<sea_orm::QueryResult>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let values: Vec<Value> = chunk.iter().map(|id| Value::from(*id)).collect();
        let sql = format!("{select} ({})", marks(chunk.len()));
        out.extend(
            conn.query_all_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                sql,
                values,
            ))
            .await?,
        );
    }
    Ok(out)
}

/// Row numbers of these assets, by id.
async fn seqs(conn: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<(Uuid, i64)>> {
    rows_by_id(conn, "SELECT id, seq FROM assets WHERE id IN", ids)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "seq")?)))
        .collect()
}

/// An asset the public sees, to store for searching: its record and, for lines and
/// areas, its geometry.
pub struct Searchable {
    pub record: Record,
    pub geometry: Geometry<f64>,
}

/// Stores (or replaces) these assets' search records and shapes.
pub async fn save(conn: &impl ConnectionTrait, items: &[Searchable]) -> AppResult<()> {
    if items.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = items.iter().map(|i| i.record.id).collect();
    let seq_of: std::collections::HashMap<Uuid, i64> =
        seqs(conn, &ids).await?.into_iter().collect();
    let mut records: Vec<(i64, Vec<u8>)> = Vec::with_capacity(items.len());
    let mut shapes: Vec<(i64, Vec<u8>)> = Vec::new();
    let mut points: Vec<i64> = Vec::new();
    for item in items {
        let seq = *seq_of.get(&item.record.id).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "asset {} has no row to index",
                item.record.id
            ))
        })?;
        records.push((seq, item.record.encode()?));
        if item.record.is_point() {
            points.push(seq);
        } else {
            shapes.push((seq, shape::encode(&item.geometry)));
        }
    }
    for (table, column, rows) in [
        ("asset_search", "record", &records),
        ("asset_shapes", "shape", &shapes),
    ] {
        for chunk in rows.chunks(400) {
            let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 2);
            for (seq, bytes) in chunk {
                values.push((*seq).into());
                values.push(bytes.clone().into());
            }
            conn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                format!(
                    "INSERT OR REPLACE INTO {table} (seq, {column}) VALUES {}",
                    vec!["(?, ?)"; chunk.len()].join(", ")
                ),
                values,
            ))
            .await?;
        }
    }
    // a point keeps no shape (an area that became a point leaves none behind)
    delete(conn, "asset_shapes", &points).await
}

async fn delete(conn: &impl ConnectionTrait, table: &str, seqs: &[i64]) -> AppResult<()> {
    for chunk in seqs.chunks(500) {
        let values: Vec<Value> = chunk.iter().map(|s| Value::from(*s)).collect();
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!("DELETE FROM {table} WHERE seq IN ({})", marks(chunk.len())),
            values,
        ))
        .await?;
    }
    Ok(())
}

/// Takes these assets out of the search records (archived, pending, rejected).
pub async fn remove(conn: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<()> {
    let seqs: Vec<i64> = seqs(conn, ids).await?.into_iter().map(|(_, s)| s).collect();
    delete(conn, "asset_search", &seqs).await?;
    delete(conn, "asset_shapes", &seqs).await
}

fn decoded(seq: i64, bytes: &[u8]) -> AppResult<(u32, Record)> {
    let record = Record::decode(bytes).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "the search record of row {seq} is unreadable"
        ))
    })?;
    let seq = u32::try_from(seq)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("row number {seq} out of range")))?;
    Ok((seq, record))
}

/// Hands every search record to `each`, a page at a time (at start-up), so no more
/// than a page of rows is held at once.
pub async fn each(
    conn: &impl ConnectionTrait,
    mut each: impl FnMut(u32, &Record),
) -> AppResult<()> {
    const PAGE: i64 = 5_000;
    let mut after = 0_i64;
    loop {
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT seq, record FROM asset_search WHERE seq > ? ORDER BY seq LIMIT ?",
                [after.into(), PAGE.into()],
            ))
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("", "seq")?;
        for row in &rows {
            let seq: i64 = row.try_get("", "seq")?;
            let bytes: Vec<u8> = row.try_get("", "record")?;
            let (seq, record) = decoded(seq, &bytes)?;
            each(seq, &record);
        }
        if crate::convert::to_u64(rows.len()) < PAGE.unsigned_abs() {
            break;
        }
    }
    Ok(())
}

/// These assets as searches should see them now: (row number, record) when the public
/// sees them, (row number, None) when not.
pub async fn current(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<Vec<(u32, Option<Record>)>> {
    let select = "SELECT a.seq, s.record FROM assets a LEFT JOIN asset_search s \
                  ON s.seq = a.seq WHERE a.id IN";
    let rows = rows_by_id(conn, select, ids).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let seq: i64 = row.try_get("", "seq")?;
        match row.try_get::<Option<Vec<u8>>>("", "record")? {
            Some(bytes) => {
                let (seq, record) = decoded(seq, &bytes)?;
                out.push((seq, Some(record)));
            }
            None => out.push((crate::convert::sequence(seq)?, None)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Point;

    #[test]
    fn a_long_path_is_cut_into_runs() {
        let line = Geometry::LineString(LineString(
            (0..=40)
                .map(|i| Coord {
                    x: f64::from(i) * 0.01,
                    y: 53.0,
                })
                .collect(),
        ));
        let p = pieces(&line);
        assert_eq!(p.len(), 3, "40 segments in runs of 16");
        assert!(
            p[0].max().x >= 0.16 && p[1].min().x <= 0.16,
            "runs share their end vertices"
        );
        assert_eq!(pieces(&Geometry::Point(Point::new(1.0, 2.0))).len(), 1);
    }
}
