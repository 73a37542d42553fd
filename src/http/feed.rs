//! `GET /feeds/assets`: the change log as a Realtime Paged Data Exchange 1.0 feed, for
//! OpenActive-style aggregators. It uses RPDE's change-number ordering: each asset
//! appears once, at the position of its latest change (an asset changed again moves to
//! the end), as `updated` with its GeoJSON Feature or as `deleted` once archived or
//! taken down. `next` is built from the last item; the last page is empty and its
//! `next` is itself. A page holds 500 items, or fewer when their assets' stored text
//! passes 2 MB (RPDE lets a page hold any number: `next` goes on from its last item).
//! Deletions are kept for the change log's retention, then pruned.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Response, header};

use super::HttpState;
use crate::error::AppError;
use crate::service::changes::{self, Position};
use crate::service::{export, pages};

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
pub(super) fn base(state: &HttpState, headers: &HeaderMap) -> Result<String, &'static str> {
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

/// An RPDE item's envelope, keys in alphabetical order; `data` is written apart.
#[derive(serde::Serialize)]
struct Envelope<'a> {
    id: String,
    kind: &'static str,
    modified: i64,
    state: &'a str,
}

/// Writes the page's JSON straight into bytes: each asset's stored geometry goes out
/// as it is, so no tree of values is built (a page of long routes is megabytes).
async fn write_page(
    state: &HttpState,
    page: &[changes::Delivered],
    next: &str,
) -> Result<Vec<u8>, AppError> {
    let rows: Vec<entity::asset::Model> = page.iter().filter_map(|d| d.asset.clone()).collect();
    let parts = export::Parts::of(&state.app.db, &rows).await?;
    let bytes: usize = rows.iter().map(|a| a.geometry.len()).sum();
    let mut out = Vec::with_capacity(bytes + page.len() * 1_024 + 512);
    let json = |e: serde_json::Error| AppError::Internal(e.into());
    out.extend_from_slice(b"{\"items\":[");
    for (n, delivered) in page.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        let entry = &delivered.entry;
        let envelope = Envelope {
            id: entry.asset_id.to_string(),
            kind: KIND,
            modified: entry.position,
            state: if delivered.asset.is_some() {
                "updated"
            } else {
                "deleted"
            },
        };
        let mut head = serde_json::to_vec(&envelope).map_err(json)?;
        if let Some(asset) = &delivered.asset {
            // {"data":<feature>,"id":...}
            out.extend_from_slice(b"{\"data\":");
            export::write_feature(&mut out, asset, &parts)?;
            head[0] = b',';
        }
        out.extend_from_slice(&head);
    }
    out.extend_from_slice(b"],\"license\":");
    serde_json::to_writer(&mut out, &state.feed.license).map_err(json)?;
    out.extend_from_slice(b",\"next\":");
    serde_json::to_writer(&mut out, next).map_err(json)?;
    out.push(b'}');
    Ok(out)
}

pub async fn assets(
    State(state): State<HttpState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response<Body>, AppError> {
    let after = after(query.as_deref()).map_err(|m| AppError::invalid("afterChangeNumber", m))?;
    let base = base(&state, &headers).map_err(|m| AppError::invalid("Host", m))?;
    let permit = state.heavy.permit().await;
    let page = changes::latest_page(&state.app.db, after, PAGE, pages::FEED_PAGE_BYTES).await?;
    let next_after = page.last().map_or(after.0, |d| d.entry.position);
    let next = if next_after == 0 {
        format!("{base}/feeds/assets")
    } else {
        format!("{base}/feeds/assets?afterChangeNumber={next_after}")
    };
    let body = write_page(&state, &page, &next).await?;
    // the last page changes as soon as anything does; earlier pages rarely
    let cache = if page.is_empty() {
        "public, max-age=8"
    } else {
        "public, max-age=3600"
    };
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if state.feed.public_url.is_none() {
        // `next` is built from the request's Host: a cache must not hand one host's
        // page to another
        headers.insert(header::VARY, HeaderValue::from_static("Host"));
    }
    Ok(permit.hold(response))
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
            license: crate::config::defaults::DATA_LICENSE.to_owned(),
        }
    }
}
