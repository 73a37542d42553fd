//! Writing the SQLite spatial index: an asset's geometry as pieces in the R*Tree.
//!
//! A path is cut into runs of a few segments, a MultiPoint into its points, a
//! MultiPolygon into its polygons; a polygon stays whole (its inside must be found, not
//! just its edges). Piece `n` of the asset with row `seq` is R*Tree row `seq * 1024 + n`.
//! PostGIS indexes its own column, so there nothing is written here.

use geo::{BoundingRect, Coord, Geometry, LineString, Rect};
use sea_orm::{ConnectionTrait, DbBackend};
use uuid::Uuid;

use super::sql::Sql;
use crate::error::{AppError, AppResult};

/// The most pieces one asset may have; beyond it the asset is one piece, its whole box.
pub const MAX_PIECES: usize = 1024;
/// R*Tree rows per asset: piece `n` of the asset with row `seq` is `seq * STRIDE + n`.
const STRIDE: i64 = 1024;

/// The R*Tree row of piece `n` (below [`MAX_PIECES`]) of the asset with row `seq`.
fn piece_row(seq: i64, n: usize) -> i64 {
    seq * STRIDE + i64::try_from(n.min(MAX_PIECES - 1)).unwrap_or(STRIDE - 1)
}
/// Segments per piece of a path.
const RUN: usize = 8;

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

/// The boxes an asset is indexed by.
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

async fn seqs(conn: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<(Uuid, i64)>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut sql = Sql::new(DbBackend::Sqlite);
        sql.push("SELECT id, seq FROM assets WHERE id IN (");
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(*id);
        }
        sql.push(")");
        for row in conn.query_all_raw(sql.build()).await? {
            out.push((row.try_get("", "id")?, row.try_get("", "seq")?));
        }
    }
    Ok(out)
}

/// Indexes these (already inserted) assets.
pub async fn index(
    conn: &impl ConnectionTrait,
    assets: &[(Uuid, &Geometry<f64>)],
) -> AppResult<()> {
    if conn.get_database_backend() != DbBackend::Sqlite || assets.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = assets.iter().map(|(id, _)| *id).collect();
    let seq_of: std::collections::HashMap<Uuid, i64> =
        seqs(conn, &ids).await?.into_iter().collect();
    let mut rows: Vec<(i64, Rect<f64>)> = Vec::new();
    for (id, geometry) in assets {
        let seq = *seq_of
            .get(id)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("asset {id} has no row to index")))?;
        for (n, rect) in pieces(geometry).into_iter().enumerate() {
            rows.push((piece_row(seq, n), rect));
        }
    }
    for chunk in rows.chunks(150) {
        let mut sql = Sql::new(DbBackend::Sqlite);
        sql.push("INSERT INTO asset_rtree (piece, min_lon, max_lon, min_lat, max_lat) VALUES ");
        for (i, (piece, r)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push("(")
                .bind(*piece)
                .push(", ")
                .bind(r.min().x)
                .push(", ")
                .bind(r.max().x)
                .push(", ")
                .bind(r.min().y)
                .push(", ")
                .bind(r.max().y)
                .push(")");
        }
        conn.execute_raw(sql.build()).await?;
    }
    Ok(())
}

/// Removes an asset's pieces, as indexed for `old`, before it is indexed anew.
pub async fn unindex(conn: &impl ConnectionTrait, id: Uuid, old: &Geometry<f64>) -> AppResult<()> {
    if conn.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    let Some((_, seq)) = seqs(conn, &[id]).await?.into_iter().next() else {
        return Ok(());
    };
    // every piece the old geometry could have had, by rowid
    let count = pieces(old).len().max(1);
    let mut sql = Sql::new(DbBackend::Sqlite);
    sql.push("DELETE FROM asset_rtree WHERE piece >= ")
        .bind(piece_row(seq, 0))
        .push(" AND piece <= ")
        .bind(piece_row(seq, count - 1));
    conn.execute_raw(sql.build()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, Point};

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
        assert_eq!(p.len(), 5, "40 segments in runs of 8");
        assert!(
            p[0].max().x >= 0.08 && p[1].min().x <= 0.08,
            "runs share their end vertices"
        );
        assert_eq!(pieces(&Geometry::Point(Point::new(1.0, 2.0))).len(), 1);
    }
}
