//! `GET /feeds/assets`: the change log as a Realtime Paged Data Exchange 1.0 feed, for
//! OpenActive-style aggregators. It uses RPDE's change-number ordering: each asset
//! appears once, at the position of its latest change (an asset changed again moves to
//! the end), as `updated` with its GeoJSON Feature or as `deleted` once archived or
//! taken down. `next` is built from the last item; the last page is empty and its
//! `next` is itself. Deletions are kept for the change log's retention, then pruned.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::AppState;
use super::errors::{error_response, internal_error};
use crate::error::AppError;
use crate::service::changes::{self, Position};
use crate::service::export;

/// Items per page: the RPDE guidance is at least 500.
const PAGE: u64 = 500;
/// The RPDE `kind` of every item.
pub const KIND: &str = "CommunityAsset";

/// `afterChangeNumber` from the query, or what is wrong with the query.
fn after(query: Option<&str>) -> Result<Position, &'static str> {
    let mut after = Position::default();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "afterChangeNumber" => {
                after = value
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .map(Position)
                    .ok_or("afterChangeNumber must be a whole number, 0 or more")?;
            }
            "afterTimestamp" | "afterId" => {
                return Err("this feed is ordered by change number: use afterChangeNumber");
            }
            _ => {}
        }
    }
    Ok(after)
}

/// The address clients reach this feed at: the configured public URL, else this
/// request's Host.
pub(super) fn base(state: &AppState, headers: &HeaderMap) -> Result<String, &'static str> {
    if let Some(url) = &state.feed.public_url {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .ok_or("the request has no valid Host header")?;
    Ok(format!("http://{host}"))
}

fn item(delivered: &changes::Delivered, data: Option<Value>) -> Value {
    let entry = &delivered.entry;
    match data {
        Some(data) => json!({
            "state": "updated", "kind": KIND, "id": entry.asset_id.to_string(),
            "modified": entry.position, "data": data,
        }),
        None => json!({
            "state": "deleted", "kind": KIND, "id": entry.asset_id.to_string(),
            "modified": entry.position,
        }),
    }
}

pub async fn assets(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response<Body> {
    let bad = |m| error_response(StatusCode::BAD_REQUEST, "INVALID_INPUT", m);
    let after = match after(query.as_deref()) {
        Ok(after) => after,
        Err(m) => return bad(m),
    };
    let base = match base(&state, &headers) {
        Ok(base) => base,
        Err(m) => return bad(m),
    };
    let page = match changes::latest_page(&state.db, after, PAGE).await {
        Ok(page) => page,
        Err(AppError::CursorExpired(m)) => {
            return error_response(StatusCode::GONE, "CURSOR_EXPIRED", &m);
        }
        Err(e) => return internal_error("reading the RPDE feed", e),
    };
    let rows: Vec<entity::asset::Model> = page.iter().filter_map(|d| d.asset.clone()).collect();
    let mut data = match export::features(&state.db, &rows).await {
        Ok(data) => data,
        Err(e) => return internal_error("reading the RPDE feed", e),
    };
    let items: Vec<Value> = page
        .iter()
        .map(|d| item(d, d.asset.as_ref().and_then(|a| data.remove(&a.id))))
        .collect();
    let next_after = page.last().map_or(after.0, |d| d.entry.position);
    let next = if next_after == 0 {
        format!("{base}/feeds/assets")
    } else {
        format!("{base}/feeds/assets?afterChangeNumber={next_after}")
    };
    let body = json!({"next": next, "items": items, "license": state.feed.license});
    // the last page changes as soon as anything does; earlier pages rarely
    let cache = if items_empty(&body) {
        "public, max-age=8"
    } else {
        "public, max-age=3600"
    };
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

fn items_empty(body: &Value) -> bool {
    body["items"].as_array().is_none_or(Vec::is_empty)
}

/// What the feed says about itself.
#[derive(Clone, Debug)]
pub struct FeedConfig {
    /// The address clients reach this service at (for `next`); None: the request's Host.
    pub public_url: Option<String>,
    /// The licence of the published data.
    pub license: String,
}

impl Default for FeedConfig {
    fn default() -> Self {
        Self {
            public_url: None,
            license: "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
                .to_owned(),
        }
    }
}
