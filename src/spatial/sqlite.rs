//! SQLite: the R*Tree (`asset_rtree`, pieces of each geometry, see `index`) finds the
//! candidates with a piece in the search window; the exact test and the geodesic
//! distance run in Rust on the stored GeoJSON.

use geo::{Coord, Geometry, Intersects, Rect};
use sea_orm::{ConnectionTrait, QueryResult};
use uuid::Uuid;

use super::sql::Sql;
use std::collections::HashMap;
use std::sync::Arc;

use super::cache::GeometryCache;
use super::{Hit, Search, Shape, geodesic, sort_and_page};
use crate::db::{Backend, Db};
use crate::domain::{BBox, Buffer, LonLat, Radius, ValidGeometry};
use crate::error::{AppError, AppResult};

/// Metres in one degree of latitude, rounded down (the true figure is 110 574 m at the
/// equator and grows towards the poles), so windows err on the large side.
const METERS_PER_DEGREE_LAT: f64 = 110_000.0;
/// Metres in one degree of longitude at the equator, rounded down (true: 111 320 m).
const METERS_PER_DEGREE_LON: f64 = 111_000.0;

/// A search window in degrees: one or two longitude ranges (two when it wraps across
/// the antimeridian) and one latitude range.
struct Window {
    lons: Vec<(f64, f64)>,
    lat: (f64, f64),
}

impl Window {
    /// The box `rect` grown by `meters` on every side, conservatively.
    fn around(rect: Rect<f64>, meters: f64) -> Self {
        let dlat = meters / METERS_PER_DEGREE_LAT * 1.01;
        let lat = (
            (rect.min().y - dlat).max(-90.0),
            (rect.max().y + dlat).min(90.0),
        );
        let far_lat = lat.0.abs().max(lat.1.abs());
        let full = vec![(-180.0, 180.0)];
        if far_lat >= 89.0 {
            return Self { lons: full, lat };
        }
        let dlon = meters / (METERS_PER_DEGREE_LON * far_lat.to_radians().cos()) * 1.01;
        let (lo, hi) = (rect.min().x - dlon, rect.max().x + dlon);
        let lons = if hi - lo >= 360.0 {
            full
        } else if lo < -180.0 {
            vec![(lo + 360.0, 180.0), (-180.0, hi)]
        } else if hi > 180.0 {
            vec![(lo, 180.0), (-180.0, hi - 360.0)]
        } else {
            vec![(lo, hi)]
        };
        Self { lons, lat }
    }

    /// `SELECT a.id, bbox FROM asset_rtree r CROSS JOIN assets a WHERE <window>`: boxes
    /// only; geometry is read later, and only for candidates whose box cannot decide.
    /// CROSS JOIN fixes the join order: the R*Tree is always searched first, so a filter
    /// on an indexed column (kind) can never turn the search into a scan of that index.
    fn select(&self, backend: Backend) -> Sql {
        let mut sql = Sql::new(backend.db_backend());
        // the pieces found are narrowed to distinct assets first, so the filters run once
        // per asset, not once per piece
        sql.push(
            "SELECT a.id, a.version, a.min_lon, a.min_lat, a.max_lon, a.max_lat \
             FROM (SELECT DISTINCT r.piece / 1024 AS seq FROM asset_rtree r WHERE (",
        );
        for (i, (lo, hi)) in self.lons.iter().enumerate() {
            if i > 0 {
                sql.push(" OR ");
            }
            sql.push("(r.max_lon >= ")
                .bind(*lo)
                .push(" AND r.min_lon <= ")
                .bind(*hi)
                .push(")");
        }
        sql.push(") AND r.max_lat >= ")
            .bind(self.lat.0)
            .push(" AND r.min_lat <= ")
            .bind(self.lat.1)
            .push(") w CROSS JOIN assets a WHERE a.seq = w.seq");
        sql
    }
}

/// A candidate row: its id and bounding box.
struct Candidate {
    id: Uuid,
    version: i32,
    bbox: Rect<f64>,
}

impl Candidate {
    fn from_row(row: &QueryResult) -> AppResult<Self> {
        let get = |col: &str| row.try_get::<f64>("", col);
        Ok(Self {
            id: row.try_get("", "id")?,
            version: row.try_get("", "version")?,
            bbox: Rect::new(
                Coord {
                    x: get("min_lon")?,
                    y: get("min_lat")?,
                },
                Coord {
                    x: get("max_lon")?,
                    y: get("max_lat")?,
                },
            ),
        })
    }

    /// A point's box is the point itself; no need to parse it.
    fn as_point(&self) -> Option<Coord<f64>> {
        (self.bbox.min() == self.bbox.max()).then(|| self.bbox.min())
    }
}

/// The geometries of these candidates, decoded and prepared, from the cache or the table.
async fn geometries<'a>(
    db: &Db,
    cache: &GeometryCache,
    wanted: impl Iterator<Item = &'a Candidate>,
) -> AppResult<HashMap<Uuid, Arc<geodesic::Prepared>>> {
    let mut out = HashMap::new();
    let mut missing = Vec::new();
    for k in wanted {
        match cache.get(k.id, k.version) {
            Some(p) => {
                out.insert(k.id, p);
            }
            None => missing.push((k.id, k.version)),
        }
    }
    for chunk in missing.chunks(500) {
        let mut sql = Sql::new(db.backend.db_backend());
        sql.push("SELECT id, version, geometry FROM assets WHERE id IN (");
        for (i, (id, _)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(*id);
        }
        sql.push(")");
        for row in db.read.query_all_raw(sql.build()).await? {
            let text: String = row.try_get("", "geometry")?;
            let id: Uuid = row.try_get("", "id")?;
            let version: i32 = row.try_get("", "version")?;
            let prepared = Arc::new(geodesic::Prepared::new(&parse_stored(&text)?));
            cache.insert(id, version, prepared.clone());
            out.insert(id, prepared);
        }
    }
    Ok(out)
}

/// A distance no geometry inside `bbox` can be nearer than (with room for the box being
/// planar and edges being great circles).
fn lower_bound(center: Coord<f64>, bbox: &Rect<f64>) -> f64 {
    let nearest = Coord {
        x: center.x.clamp(bbox.min().x, bbox.max().x),
        y: center.y.clamp(bbox.min().y, bbox.max().y),
    };
    (geodesic::geodesic(center, nearest) * 0.98 - 10.0).max(0.0)
}

/// Stored geometry passed the validation gate on the way in; here it is only decoded.
fn parse_stored(text: &str) -> AppResult<Geometry<f64>> {
    let geometry: geojson::Geometry = text
        .parse()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored geometry unreadable: {e}")))?;
    Geometry::try_from(&geometry.value)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored geometry unreadable: {e}")))
}

async fn candidates(db: &Db, sql: Sql) -> AppResult<Vec<Candidate>> {
    let rows = db.read.query_all_raw(sql.build()).await?;
    rows.iter().map(Candidate::from_row).collect()
}

fn window(shape: &Shape<'_>) -> Window {
    match shape {
        Shape::Near { center, radius } => {
            let c = Coord {
                x: center.lon,
                y: center.lat,
            };
            Window::around(Rect::new(c, c), radius.get())
        }
        Shape::InBox(b) => Window {
            lons: vec![(b.min_lon, b.max_lon)],
            lat: (b.min_lat, b.max_lat),
        },
        Shape::Around { geometry, buffer } => Window::around(geometry.bbox(), buffer.get()),
    }
}

/// The candidate query every search runs (and `explain` shows): the R*Tree window, the
/// shared filters and, for viewports (which page by id alone), the cursor.
pub fn statement(backend: Backend, search: &Search<'_>) -> Sql {
    let mut sql = window(&search.shape).select(backend);
    sql.filter(search.filter, search.category_ids);
    if let (Shape::InBox(_), Some(c)) = (&search.shape, search.after) {
        sql.push(" AND a.id > ").bind(c.id);
    }
    sql
}

pub async fn run(db: &Db, cache: &GeometryCache, search: Search<'_>) -> AppResult<Vec<Hit>> {
    match search.shape {
        Shape::Near { center, radius } => nearest(db, cache, &search, center, radius).await,
        Shape::InBox(b) => in_box(db, cache, &search, b).await,
        Shape::Around { geometry, buffer } => around(db, cache, &search, geometry, buffer).await,
    }
}

/// Assets within `radius` of `center`, nearest first. Geometry is read only for lines
/// and areas whose boxes come within the radius.
async fn nearest(
    db: &Db,
    cache: &GeometryCache,
    search: &Search<'_>,
    center: LonLat,
    radius: Radius,
) -> AppResult<Vec<Hit>> {
    let c = Coord {
        x: center.lon,
        y: center.lat,
    };
    let r = radius.get();
    let cands = candidates(db, statement(db.backend, search)).await?;
    let shapes = geometries(
        db,
        cache,
        cands
            .iter()
            .filter(|k| k.as_point().is_none() && lower_bound(c, &k.bbox) <= r),
    )
    .await?;
    let mut hits = Vec::new();
    for k in &cands {
        let d = match (k.as_point(), shapes.get(&k.id)) {
            (Some(p), _) => geodesic::geodesic(c, p),
            (None, Some(g)) => g.distance_to_point(c),
            (None, None) => continue,
        };
        if d <= r {
            hits.push(Hit {
                id: k.id,
                distance: d,
            });
        }
    }
    Ok(sort_and_page(hits, search.after, search.limit))
}

async fn in_box(
    db: &Db,
    cache: &GeometryCache,
    search: &Search<'_>,
    b: BBox,
) -> AppResult<Vec<Hit>> {
    let rect = Rect::new(
        Coord {
            x: b.min_lon,
            y: b.min_lat,
        },
        Coord {
            x: b.max_lon,
            y: b.max_lat,
        },
    );
    let cands = candidates(db, statement(db.backend, search)).await?;
    let mut hits = Vec::new();
    let mut undecided = Vec::new();
    for k in &cands {
        match k.as_point() {
            Some(p) if rect.intersects(&p) => hits.push(k.id),
            Some(_) => {}
            None if rect.contains_rect(&k.bbox) => hits.push(k.id),
            None => undecided.push(k),
        }
    }
    let shapes = geometries(db, cache, undecided.iter().copied()).await?;
    hits.extend(
        undecided
            .into_iter()
            .filter(|k| {
                shapes
                    .get(&k.id)
                    .is_some_and(|g| g.geometry().intersects(&rect))
            })
            .map(|k| k.id),
    );
    let hits = hits
        .into_iter()
        .map(|id| Hit { id, distance: 0.0 })
        .collect();
    Ok(sort_and_page(hits, search.after, search.limit))
}

async fn around(
    db: &Db,
    cache: &GeometryCache,
    search: &Search<'_>,
    geometry: &ValidGeometry,
    buffer: Buffer,
) -> AppResult<Vec<Hit>> {
    let cands = candidates(db, statement(db.backend, search)).await?;
    let prepared = geodesic::Prepared::new(geometry.geometry());
    let shapes = geometries(db, cache, cands.iter().filter(|k| k.as_point().is_none())).await?;
    let mut hits = Vec::new();
    for k in &cands {
        let d = match (k.as_point(), shapes.get(&k.id)) {
            (Some(p), _) => prepared.distance_to_point(p),
            (None, Some(g)) => prepared.distance_to_geometry(g.geometry()),
            (None, None) => continue,
        };
        if d <= buffer.get() {
            hits.push(Hit {
                id: k.id,
                distance: d,
            });
        }
    }
    Ok(sort_and_page(hits, search.after, search.limit))
}

trait RectExt {
    fn contains_rect(&self, other: &Rect<f64>) -> bool;
}

impl RectExt for Rect<f64> {
    fn contains_rect(&self, other: &Rect<f64>) -> bool {
        self.min().x <= other.min().x
            && self.min().y <= other.min().y
            && self.max().x >= other.max().x
            && self.max().y >= other.max().y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_wrap_at_the_antimeridian() {
        let c = Coord {
            x: 179.99,
            y: -17.0,
        };
        let w = Window::around(Rect::new(c, c), 5_000.0);
        assert_eq!(w.lons.len(), 2);
        assert!(w.lons[1].0 == -180.0 && w.lons[1].1 > -180.0);
    }

    #[test]
    fn windows_near_the_pole_span_every_longitude() {
        let c = Coord { x: 10.0, y: 89.5 };
        let w = Window::around(Rect::new(c, c), 50_000.0);
        assert_eq!(w.lons, vec![(-180.0, 180.0)]);
    }

    #[test]
    fn a_window_holds_the_whole_circle() {
        // the geodesic circle's east and north points fall inside the window
        let c = Coord { x: -2.24, y: 53.48 };
        let w = Window::around(Rect::new(c, c), 10_000.0);
        let (lo, hi) = w.lons[0];
        assert!(geodesic::geodesic(c, Coord { x: hi, y: c.y }) > 10_000.0);
        assert!(geodesic::geodesic(c, Coord { x: lo, y: c.y }) > 10_000.0);
        assert!(geodesic::geodesic(c, Coord { x: c.x, y: w.lat.1 }) > 10_000.0);
    }
}
