//! `GET /tiles/{z}/{x}/{y}.mvt` (Mapbox Vector Tile 2.1) and `GET /tiles.json`
//! (TileJSON 3.0): the public map as vector tiles, open to any site and rate limited
//! like the rest. `kinds` and `categories` (comma-separated) narrow a tile as they
//! narrow a search.
//!
//! Tiles never go stale: each carries an `ETag` of the change log's position, so a
//! client's `If-None-Match` gets `304 Not Modified` while nothing changed and the new
//! tile the moment anything did (`Cache-Control: no-cache`: always ask).
//!
//! Rendered tiles are kept in memory (`TileCache`) by that same position, address and
//! filter: everyone looking at the same part of the map between two edits is served
//! one rendering, and a change to the map moves the position, so no one is ever served
//! a tile drawn before it. Concurrent requests for a tile not yet drawn wait for the
//! one rendering rather than each starting their own.

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use super::HttpState;
use crate::domain::kind::parse_kind;
use crate::domain::{AssetFilter, asset};
use crate::error::AppError;
use crate::service::tiles::{self, TileId};
use crate::service::{categories, changes};

/// A rendered tile's identity: the change log's position it was drawn at, its address,
/// and its filter (kinds and category slugs, sorted).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct TileKey {
    position: i64,
    tile: TileId,
    filter: String,
}

#[derive(Clone)]
struct TileBytes;

impl quick_cache::Weighter<TileKey, Bytes> for TileBytes {
    fn weight(&self, key: &TileKey, tile: &Bytes) -> u64 {
        crate::convert::to_u64(key.filter.len() + tile.len() + 64)
    }
}

/// Rendered tiles by position, address and filter, up to a number of bytes.
pub struct TileCache(Option<quick_cache::sync::Cache<TileKey, Bytes, TileBytes>>);

impl TileCache {
    /// A cache of up to `bytes` of tiles; 0 turns it off.
    pub fn new(bytes: u64) -> Self {
        Self((bytes > 0).then(|| {
            // a tile is some tens of KB
            let items = usize::try_from(bytes / 20_000)
                .unwrap_or(usize::MAX)
                .max(16);
            quick_cache::sync::Cache::with_weighter(items, bytes, TileBytes)
        }))
    }
}

/// The tile's bytes at `position`: from the cache, or drawn (once, however many ask).
async fn bytes(
    state: &HttpState,
    position: i64,
    tile: TileId,
    filter: &AssetFilter,
) -> Result<Bytes, AppError> {
    let render = || async {
        // drawing reads every geometry in the tile: a turn of the heavy-work limit
        let _permit = state.heavy.permit().await;
        let category_ids = categories::expand(&state.app.db.read, &filter.categories).await?;
        tiles::render(
            &state.app.db,
            &state.app.search,
            tile,
            filter,
            &category_ids,
        )
        .await
        .map(Bytes::from)
    };
    let Some(cache) = &state.tiles.0 else {
        return render().await;
    };
    let mut kinds: Vec<&str> = filter.kinds.iter().map(|k| k.as_str()).collect();
    kinds.sort_unstable();
    let mut slugs: Vec<&str> = filter.categories.iter().map(String::as_str).collect();
    slugs.sort_unstable();
    let key = TileKey {
        position,
        tile,
        filter: format!("{}|{}", kinds.join(","), slugs.join(",")),
    };
    match cache.get_value_or_guard_async(&key).await {
        Ok(bytes) => {
            metrics::counter!("assetmap_tile_cache_total", "result" => "hit").increment(1);
            Ok(bytes)
        }
        Err(guard) => {
            metrics::counter!("assetmap_tile_cache_total", "result" => "miss").increment(1);
            let bytes = render().await?;
            let _ = guard.insert(bytes.clone());
            Ok(bytes)
        }
    }
}

/// The tile address from the path, or what is wrong with it.
fn address(z: &str, x: &str, file: &str) -> Result<TileId, AppError> {
    let whole = |field: &'static str, v: &str| {
        v.parse::<u32>().map_err(|_| {
            AppError::invalid(field, format!("{field} must be a whole number, 0 or more"))
        })
    };
    let y = file
        .strip_suffix(".mvt")
        .ok_or_else(|| AppError::invalid("y", "tiles are addressed as /tiles/{z}/{x}/{y}.mvt"))?;
    let z = whole("z", z)?;
    let z = u8::try_from(z)
        .ok()
        .filter(|z| *z <= tiles::MAX_ZOOM)
        .ok_or_else(|| AppError::invalid("z", format!("z is 0 to {}", tiles::MAX_ZOOM)))?;
    TileId::new(z, whole("x", x)?, whole("y", y)?)
}

/// `kinds` and `categories` from the query.
fn filter(raw: Option<&str>) -> Result<AssetFilter, AppError> {
    let mut filter = AssetFilter::default();
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let items = || value.split(',').map(str::trim).filter(|s| !s.is_empty());
        match key.as_ref() {
            "kinds" => {
                filter.kinds = items()
                    .map(|k| {
                        parse_kind(k).ok_or_else(|| {
                            AppError::invalid("kinds", format!("unknown kind {k:?}"))
                        })
                    })
                    .collect::<Result<_, _>>()?;
            }
            "categories" => {
                filter.categories = asset::categories(items().map(str::to_owned))?;
            }
            _ => {}
        }
    }
    Ok(filter)
}

pub async fn tile(
    State(state): State<HttpState>,
    Path((z, x, file)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response<Body>, AppError> {
    let tile = address(&z, &x, &file)?;
    let filter = filter(raw.as_deref())?;
    let position = changes::state(&state.app.db.read).await?.last_position;
    let etag = format!("W/\"{position}\"");
    let unchanged = super::conditional::not_modified(&headers, &etag);
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let bytes = bytes(&state, position, tile, &filter).await?;
        let mut r = Body::from(bytes).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.mapbox-vector-tile"),
        );
        r
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// TileJSON 3.0 for the layer, with tile URLs at the address the client used.
pub async fn tilejson(
    State(state): State<HttpState>,
    headers: HeaderMap,
) -> Result<Response<Body>, AppError> {
    let base = super::feed::base(&state, &headers).map_err(|m| AppError::invalid("Host", m))?;
    let mut response = axum::Json(json!({
        "tilejson": "3.0.0",
        "name": "Assetmap community assets",
        "attribution": "Contains public sector information licensed under the Open Government Licence v3.0.",
        "tiles": [format!("{base}/tiles/{{z}}/{{x}}/{{y}}.mvt")],
        "minzoom": 0,
        "maxzoom": tiles::MAX_ZOOM,
        "bounds": [-180.0, -85.051_128, 180.0, 85.051_128],
        "vector_layers": [{
            "id": tiles::LAYER,
            "description": "Public community assets; below zoom 13, and in tiles too dense to draw, clusters with a count",
            "minzoom": 0,
            "maxzoom": tiles::MAX_ZOOM,
            "fields": {
                "id": "String: the asset's id (a cluster of one asset has it too)",
                "kind": "String: PARK, CHARITY ...",
                "name": "String",
                "categories": "String: category slugs, comma-separated",
                "cluster": "Boolean: a cluster of assets",
                "count": "Number: assets in the cluster",
            }
        }]
    }))
    .into_response();
    if state.feed.public_url.is_none() {
        // the tile URLs are built from the request's Host: a cache must keep them apart
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Host"));
    }
    Ok(response)
}
