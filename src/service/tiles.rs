//! Vector tiles (Mapbox Vector Tile 2.1) from the same searches as the API: one layer,
//! `assets`, with each asset's id, kind, name and category slugs; geometries projected
//! to the tile, simplified for the zoom and clipped to the tile and a small buffer.
//! At low zoom, and wherever a tile would hold too many assets to draw, assets are
//! counted per 64-pixel cell instead (`cluster`: true, `count`), so a tile over a dense
//! area stays small without leaving anything out. The public sees what the API shows
//! it: health champions at their approximate point, proposals never.

use std::collections::HashMap;
use std::f64::consts::PI;

use geo::{Geometry, LineString, Polygon, Simplify};
use mvt::{GeomEncoder, GeomType, Tile};
use uuid::Uuid;

use crate::db::Db;
use crate::domain::{AssetFilter, BBox, ValidGeometry};
use crate::error::{AppError, AppResult};
use crate::service::{assets, categories, pages};
use crate::spatial::{Engine, Search, Shape};

/// Tile units per side.
pub const EXTENT: u32 = 4096;
/// The deepest zoom served.
pub const MAX_ZOOM: u8 = 22;
/// Below this zoom every tile is clustered.
pub const CLUSTER_BELOW: u8 = 13;
/// The layer's name.
pub const LAYER: &str = "assets";
/// Tile units drawn beyond each edge, so lines and areas join up across tiles.
const BUFFER: f64 = 64.0;
/// Cells per side of the clustering grid (64 tile units each).
const GRID: u32 = 64;
/// More assets than this in one tile are clustered rather than drawn one by one: a
/// tile's cost and size grow with what it draws (a town centre at zoom 14 holds
/// thousands), clusters' do not.
const MAX_FEATURES: u64 = 500;

/// A tile address, checked: `z` at most [`MAX_ZOOM`], `x` and `y` within the zoom's
/// grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TileId {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl TileId {
    pub fn new(z: u8, x: u32, y: u32) -> AppResult<Self> {
        if z > MAX_ZOOM {
            return Err(AppError::invalid("z", format!("z is 0 to {MAX_ZOOM}")));
        }
        let size = 1_u64 << z;
        if u64::from(x) >= size || u64::from(y) >= size {
            return Err(AppError::invalid(
                "x",
                format!("x and y are 0 to {} at zoom {z}", size - 1),
            ));
        }
        Ok(Self { z, x, y })
    }

    fn scale(self) -> f64 {
        f64::from(EXTENT) * f64::from(1_u32 << self.z)
    }

    /// Where a longitude/latitude falls, in this tile's units (y down).
    pub fn project(self, lon: f64, lat: f64) -> (f64, f64) {
        let lat = lat.clamp(-85.051_128, 85.051_128).to_radians();
        let x = (lon + 180.0) / 360.0 * self.scale() - f64::from(self.x) * f64::from(EXTENT);
        let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0 * self.scale()
            - f64::from(self.y) * f64::from(EXTENT);
        (x, y)
    }

    /// The longitude/latitude of a point in this tile's units.
    fn unproject(self, x: f64, y: f64) -> (f64, f64) {
        let gx = (x + f64::from(self.x) * f64::from(EXTENT)) / self.scale();
        let gy = (y + f64::from(self.y) * f64::from(EXTENT)) / self.scale();
        let lon = gx * 360.0 - 180.0;
        let lat = (PI * (1.0 - 2.0 * gy)).sinh().atan().to_degrees();
        (lon, lat)
    }

    /// The tile with its buffer, west, south, east, north.
    pub fn window(self) -> [f64; 4] {
        let (w, n) = self.unproject(-BUFFER, -BUFFER);
        let (e, s) = self.unproject(f64::from(EXTENT) + BUFFER, f64::from(EXTENT) + BUFFER);
        [
            w.max(-180.0),
            s.max(-85.051_128),
            e.min(180.0),
            n.min(85.051_128),
        ]
    }
}

/// The tile's bytes for assets passing `filter`.
pub async fn render(
    db: &Db,
    engine: &Engine,
    tile: TileId,
    filter: &AssetFilter,
    category_ids: &[Uuid],
) -> AppResult<Vec<u8>> {
    let [w, s, e, n] = tile.window();
    if let Some(bbox) = BBox::new(w, s, e, n)
        .ok()
        .filter(|_| tile.z >= CLUSTER_BELOW)
    {
        let hits = engine
            .search(
                db,
                Search {
                    shape: Shape::InBox(bbox),
                    filter,
                    category_ids,
                    after: None,
                    limit: MAX_FEATURES + 1,
                },
            )
            .await?;
        if hits.len() as u64 <= MAX_FEATURES {
            let ids: Vec<Uuid> = hits.iter().map(|h| h.id).collect();
            return drawn(db, tile, &ids).await;
        }
    }
    clustered(db, engine, tile, filter, category_ids).await
}

fn encode_error(e: &mvt::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("encoding a tile: {e}"))
}

/// Each asset drawn: simplified to a tile unit and clipped to the buffered tile. Rows
/// are read about a megabyte of stored geometry at a time (a tile of long routes holds
/// tens of megabytes of it), and each is dropped once drawn.
async fn drawn(db: &Db, tile: TileId, ids: &[Uuid]) -> AppResult<Vec<u8>> {
    let mut cats: HashMap<Uuid, Vec<entity::category::Model>> =
        categories::of_assets(&db.read, ids).await?;
    let mut out = Tile::new(EXTENT);
    let mut layer = out.create_layer(LAYER);
    let mut n = 0_u64;
    for run in pages::runs(&db.read, ids, pages::CHUNK_BYTES).await? {
        for row in assets::load_ordered(db, &run).await? {
            n += 1;
            layer = draw(
                tile,
                layer,
                n,
                &row,
                cats.remove(&row.id).unwrap_or_default(),
            )?;
        }
    }
    out.add_layer(layer).map_err(|e| encode_error(&e))?;
    out.to_bytes().map_err(|e| encode_error(&e))
}

/// Draws one asset into the layer as feature `n` (left out when it has nothing in the
/// tile).
fn draw(
    tile: TileId,
    layer: mvt::Layer,
    n: u64,
    row: &entity::asset::Model,
    categories: Vec<entity::category::Model>,
) -> AppResult<mvt::Layer> {
    let Ok(geometry) = ValidGeometry::parse_str(&row.geometry) else {
        return Ok(layer);
    };
    let Some(data) = encode(tile, geometry.geometry()).map_err(|e| encode_error(&e))? else {
        return Ok(layer);
    };
    let mut feature = layer.into_feature(data);
    feature.set_id(n);
    feature.add_tag_string("id", &row.id.to_string());
    feature.add_tag_string("kind", row.kind.as_str());
    feature.add_tag_string("name", &row.name);
    let slugs: Vec<String> = categories.into_iter().map(|c| c.slug).collect();
    feature.add_tag_string("categories", &slugs.join(","));
    Ok(feature.into_layer())
}

/// Assets counted per cell of a grid, each cell a point at its assets' mean position.
async fn clustered(
    db: &Db,
    engine: &Engine,
    tile: TileId,
    filter: &AssetFilter,
    category_ids: &[Uuid],
) -> AppResult<Vec<u8>> {
    // the grid covers the tile itself, so neighbouring tiles never count an asset twice
    let (w, n) = tile.unproject(0.0, 0.0);
    let (e, s) = tile.unproject(f64::from(EXTENT), f64::from(EXTENT));
    #[allow(clippy::cast_possible_truncation)]
    let window = [w as f32, s as f32, e as f32, n as f32];
    let cells = engine
        .cells(db, window, (GRID, GRID), filter, category_ids)
        .await?;
    let mut out = Tile::new(EXTENT);
    let mut layer = out.create_layer(LAYER);
    for (n, cell) in cells.iter().enumerate() {
        let (x, y) = tile.project(cell.lon, cell.lat);
        let data = GeomEncoder::new(GeomType::Point)
            .point(x.round(), y.round())
            .and_then(GeomEncoder::encode)
            .map_err(|e| encode_error(&e))?;
        let mut feature = layer.into_feature(data);
        feature.set_id(n as u64 + 1);
        feature.add_tag_bool("cluster", true);
        feature.add_tag_uint("count", cell.count);
        if cell.count == 1 {
            feature.add_tag_string("id", &cell.first.to_string());
        }
        layer = feature.into_layer();
    }
    out.add_layer(layer).map_err(|e| encode_error(&e))?;
    out.to_bytes().map_err(|e| encode_error(&e))
}

/// Signed area in tile units (y down): positive for what the MVT spec calls an exterior
/// ring.
fn area(ring: &[(f64, f64)]) -> f64 {
    ring.windows(2)
        .map(|p| p[0].0 * p[1].1 - p[1].0 * p[0].1)
        .sum::<f64>()
        / 2.0
}

fn projected(tile: TileId, line: &LineString<f64>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(line.0.len());
    for c in &line.0 {
        let (x, y) = tile.project(c.x, c.y);
        let p = (x.round(), y.round());
        // points that round to the same tile unit add nothing
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    out
}

fn clip_box() -> pointy::BBox<f64> {
    let lo = -BUFFER;
    let hi = f64::from(EXTENT) + BUFFER;
    pointy::BBox::new([(lo, lo), (hi, hi)])
}

/// The geometry in tile units, simplified by half a unit, clipped; None when nothing of
/// it is left in the tile.
fn encode(tile: TileId, geometry: &Geometry<f64>) -> Result<Option<mvt::GeomData>, mvt::Error> {
    // simplify in degrees, by about half a tile unit at this zoom
    let epsilon = 360.0 / (f64::from(EXTENT) * f64::from(1_u32 << tile.z)) / 2.0;
    match geometry {
        Geometry::Point(p) => {
            let (x, y) = tile.project(p.x(), p.y());
            let inside = (-BUFFER..=f64::from(EXTENT) + BUFFER).contains(&x)
                && (-BUFFER..=f64::from(EXTENT) + BUFFER).contains(&y);
            if !inside {
                return Ok(None);
            }
            GeomEncoder::new(GeomType::Point)
                .point(x.round(), y.round())?
                .encode()
                .map(Some)
        }
        Geometry::MultiPoint(points) => {
            let mut enc = GeomEncoder::new(GeomType::Point).bbox(clip_box());
            for p in points {
                let (x, y) = tile.project(p.x(), p.y());
                enc.add_point(x.round(), y.round())?;
            }
            let data = enc.encode()?;
            Ok((!data.is_empty()).then_some(data))
        }
        Geometry::LineString(l) => lines(tile, std::slice::from_ref(l), epsilon),
        Geometry::MultiLineString(ls) => lines(tile, &ls.0, epsilon),
        Geometry::Polygon(p) => polygons(tile, std::slice::from_ref(p), epsilon),
        Geometry::MultiPolygon(ps) => polygons(tile, &ps.0, epsilon),
        _ => Ok(None),
    }
}

/// The encoded geometry, if any part of it was kept.
fn finish(enc: GeomEncoder<f64>, any: bool) -> Result<Option<mvt::GeomData>, mvt::Error> {
    if !any {
        return Ok(None);
    }
    let data = enc.encode()?;
    Ok((!data.is_empty()).then_some(data))
}

fn lines(
    tile: TileId,
    lines: &[LineString<f64>],
    epsilon: f64,
) -> Result<Option<mvt::GeomData>, mvt::Error> {
    let mut enc = GeomEncoder::new(GeomType::Linestring).bbox(clip_box());
    let mut any = false;
    for line in lines {
        let points = projected(tile, &line.simplify(epsilon));
        if points.len() < 2 {
            continue;
        }
        for (x, y) in points {
            enc.add_point(x, y)?;
        }
        enc.complete_geom()?;
        any = true;
    }
    finish(enc, any)
}

fn polygons(
    tile: TileId,
    polygons: &[Polygon<f64>],
    epsilon: f64,
) -> Result<Option<mvt::GeomData>, mvt::Error> {
    let mut enc = GeomEncoder::new(GeomType::Polygon).bbox(clip_box());
    let mut any = false;
    for polygon in polygons {
        let polygon = polygon.simplify(epsilon);
        let exterior = projected(tile, polygon.exterior());
        if exterior.len() < 4 || area(&exterior).abs() < 1.0 {
            continue;
        }
        let rings = std::iter::once((exterior, true)).chain(
            polygon
                .interiors()
                .iter()
                .map(|r| (projected(tile, r), false)),
        );
        for (mut ring, outer) in rings {
            if ring.len() < 4 {
                continue;
            }
            // exterior rings positive, holes negative, in tile units
            if (area(&ring) > 0.0) != outer {
                ring.reverse();
            }
            // the encoder closes the ring itself
            ring.pop();
            for (x, y) in ring {
                enc.add_point(x, y)?;
            }
            enc.complete_geom()?;
        }
        any = true;
    }
    finish(enc, any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_are_addressed_and_projected() {
        assert!(TileId::new(23, 0, 0).is_err());
        assert!(TileId::new(2, 4, 0).is_err());
        assert!(TileId::new(2, 3, 3).is_ok());
        // Manchester at zoom 14
        let t = TileId::new(14, 8089, 5300).unwrap();
        let (x, y) = t.project(-2.2426, 53.4808);
        assert!(
            (0.0..4096.0).contains(&x) && (0.0..4096.0).contains(&y),
            "{x} {y}"
        );
        let (lon, lat) = t.unproject(x, y);
        assert!((lon + 2.2426).abs() < 1e-9 && (lat - 53.4808).abs() < 1e-9);
        let [w, s, e, n] = t.window();
        assert!(w < -2.2426 && e > -2.2426 && s < 53.4808 && n > 53.4808);
    }

    #[test]
    fn geometry_is_clipped_to_the_buffered_tile() {
        let t = TileId::new(14, 8089, 5300).unwrap();
        // a line from inside the tile to far outside it
        let line: Geometry<f64> =
            LineString::from(vec![(-2.2426, 53.4808), (-1.0, 53.4808)]).into();
        let data = encode(t, &line).unwrap();
        assert!(data.is_some());
        // a point far away is not in the tile at all
        let away: Geometry<f64> = geo::Point::new(10.0, 10.0).into();
        assert!(encode(t, &away).unwrap().is_none());
        // a ring drawn either way round is an exterior once encoded
        let square = [
            (0.0, 0.0),
            (10.0, 0.0),
            (10.0, 10.0),
            (0.0, 10.0),
            (0.0, 0.0),
        ];
        assert!(area(&square) > 0.0);
    }
}
