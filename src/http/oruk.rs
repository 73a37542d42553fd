//! `GET /oruk/...`: the directory as an Open Referral UK 3.0 API, open to anyone (no
//! keys, `Access-Control-Allow-Origin: *`), rate limited like the rest.
//!
//! `/`, `/services`, `/services/{id}`, `/service_at_locations`,
//! `/service_at_locations/{id}`, `/taxonomies`, `/taxonomies/{id}`, `/taxonomy_terms`,
//! `/taxonomy_terms/{id}`. Lists take the profile's parameters (`search`, `page`,
//! `per_page`, `taxonomy_term_id`, `taxonomy_id`, `minimum_age`, `maximum_age`, `day`,
//! `start_time`, `end_time`, `postcode` with `proximity`, `modified_after`); a parameter
//! of the wrong type is a 400 whose JSON body names it.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::Response;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use serde_json::{Value, json};
use uuid::Uuid;

use super::HttpState;
use crate::domain::{LonLat, Radius};
use crate::error::AppError;
use crate::service::oruk::{self, Query, Term, When, view};
use crate::service::pages;
use crate::service::postcodes::{self, Postcode};

/// Results per page unless `per_page` says otherwise, and the most it may say.
const PER_PAGE: u64 = 50;
const MAX_PER_PAGE: u64 = 500;
/// The longest `search` text.
const MAX_SEARCH: usize = 200;
/// Where the profile is described and its OpenAPI file lives.
const PROFILE: &str = "https://openreferraluk.org/";
const OPENAPI: &str =
    "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/openapi.json";

/// The routes, under the API stub the caller nests them at.
pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/", get(root))
        .route("/services", get(services))
        .route("/services/{id}", get(service))
        .route("/service_at_locations", get(service_at_locations))
        .route("/service_at_locations/{id}", get(service_at_location))
        .route("/taxonomies", get(taxonomies))
        .route("/taxonomies/{id}", get(taxonomy))
        .route("/taxonomy_terms", get(taxonomy_terms))
        .route("/taxonomy_terms/{id}", get(taxonomy_term))
}

type Answer = Result<Response<Body>, AppError>;

fn json(value: Value) -> Response<Body> {
    axum::Json(value).into_response()
}

/// The query's parameters by name (the last of a repeated one wins).
fn params(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn whole(field: &'static str, value: &str, min: u64, max: u64) -> Result<u64, AppError> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            AppError::invalid(
                field,
                format!("{field} must be a whole number from {min} to {max}"),
            )
        })
}

fn age(field: &'static str, value: &str) -> Result<i32, AppError> {
    let n: f64 = value
        .trim()
        .parse()
        .map_err(|_| AppError::invalid(field, format!("{field} must be a number of years")))?;
    if n.fract() != 0.0 || !(0.0..=150.0).contains(&n) {
        return Err(AppError::invalid(
            field,
            format!("{field} must be a whole number of years, 0 to 150"),
        ));
    }
    // checked to lie in 0..=150 above
    #[allow(clippy::cast_possible_truncation)]
    Ok(n as i32)
}

fn day(value: &str) -> Result<Weekday, AppError> {
    let v = value.trim().to_ascii_lowercase();
    let days = [
        ("mo", "monday", Weekday::Mon),
        ("tu", "tuesday", Weekday::Tue),
        ("we", "wednesday", Weekday::Wed),
        ("th", "thursday", Weekday::Thu),
        ("fr", "friday", Weekday::Fri),
        ("sa", "saturday", Weekday::Sat),
        ("su", "sunday", Weekday::Sun),
    ];
    days.iter()
        .find(|(short, long, _)| v == *short || v == *long)
        .map(|(_, _, d)| *d)
        .ok_or_else(|| {
            AppError::invalid(
                "day",
                "day must be a day of the week: MO to SU, or Monday to Sunday",
            )
        })
}

fn time(field: &'static str, value: &str) -> Result<NaiveTime, AppError> {
    let v = value.trim();
    NaiveTime::parse_from_str(v, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(v, "%H:%M:%S"))
        .map_err(|_| AppError::invalid(field, format!("{field} must be a time of day, HH:MM")))
}

fn instant(value: &str) -> Result<DateTime<Utc>, AppError> {
    let v = value.trim();
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map(|d| d.and_time(NaiveTime::MIN).and_utc())
        })
        .map_err(|_| {
            AppError::invalid(
                "modified_after",
                "modified_after must be a date (2026-01-31) or an RFC 3339 date and time",
            )
        })
}

fn uuid(field: &'static str, value: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(value.trim())
        .map_err(|_| AppError::invalid(field, format!("{field} must be a UUID")))
}

/// The list parameters, checked; a postcode is looked up.
async fn query(state: &HttpState, raw: Option<&str>) -> Result<Query, AppError> {
    let mut q = Query {
        page: 1,
        per_page: PER_PAGE,
        ..Query::default()
    };
    let mut postcode = None;
    let mut proximity = None;
    let mut when = When::default();
    for (key, value) in params(raw) {
        match key.as_str() {
            "page" => q.page = whole("page", &value, 1, u64::from(u32::MAX))?,
            "per_page" => q.per_page = whole("per_page", &value, 1, MAX_PER_PAGE)?,
            "search" => {
                if value.chars().count() > MAX_SEARCH {
                    return Err(AppError::invalid(
                        "search",
                        format!("search is at most {MAX_SEARCH} characters"),
                    ));
                }
                q.search = Some(value).filter(|s| !s.trim().is_empty());
            }
            "taxonomy_term_id" => q.term = Some(Term::of(uuid("taxonomy_term_id", &value)?)),
            "taxonomy_id" => q.taxonomy = Some(uuid("taxonomy_id", &value)?),
            "minimum_age" => q.minimum_age = Some(age("minimum_age", &value)?),
            "maximum_age" => q.maximum_age = Some(age("maximum_age", &value)?),
            "day" => when.day = Some(day(&value)?),
            "start_time" => when.start = Some(time("start_time", &value)?),
            "end_time" => when.end = Some(time("end_time", &value)?),
            "modified_after" => q.modified_after = Some(instant(&value)?),
            "postcode" => postcode = Some(Postcode::parse("postcode", &value)?),
            "proximity" => {
                let metres: f64 = value.trim().parse().map_err(|_| {
                    AppError::invalid("proximity", "proximity must be a distance in metres")
                })?;
                proximity = Some(Radius::meters(metres).map_err(|e| {
                    AppError::invalid("proximity", format!("proximity: {}", e.message()))
                })?);
            }
            _ => {}
        }
    }
    if let (Some(start), Some(end)) = (when.start, when.end)
        && start > end
    {
        return Err(AppError::invalid(
            "start_time",
            format!(
                "start_time {} is after end_time {}: nothing could fit",
                start.format("%H:%M"),
                end.format("%H:%M")
            ),
        ));
    }
    q.when = when;
    match (postcode, proximity) {
        (Some(postcode), proximity) => {
            let at: LonLat = postcodes::locate(&state.app.db.read, "postcode", &postcode).await?;
            // without a proximity, everything within the largest search radius
            let radius = match proximity {
                Some(r) => r,
                None => Radius::meters(Radius::MAX_METERS)?,
            };
            q.near = Some((at, radius));
        }
        (None, Some(_)) => {
            return Err(AppError::invalid(
                "proximity",
                "proximity needs a postcode to measure from",
            ));
        }
        (None, None) => {}
    }
    Ok(q)
}

/// The page envelope around `contents`.
fn page(q: &Query, total: u64, contents: &[Value]) -> Value {
    let total_pages = total.div_ceil(q.per_page).max(1);
    json!({
        "total_items": total,
        "total_pages": total_pages,
        "page_number": q.page,
        "size": contents.len(),
        "first_page": q.page == 1,
        "last_page": q.page >= total_pages,
        "empty": contents.is_empty(),
        "contents": contents,
    })
}

pub async fn root() -> Response<Body> {
    json(json!({"version": "3.0", "profile": PROFILE, "openapi_url": OPENAPI}))
}

/// A page of services as `item` lists each: the page's rows are read a bounded
/// number of bytes at a time (a service's list item is small, its row may not be), under
/// a turn of the heavy-work limit.
async fn listing(
    state: &HttpState,
    raw: Option<&str>,
    item: impl Fn(&view::Parts<'_>) -> Value,
) -> Answer {
    let q = query(state, raw).await?;
    let permit = state.heavy.permit().await;
    let (total, ids) = oruk::services(&state.app.db, &state.app.search, &q).await?;
    let mut contents = Vec::with_capacity(ids.len());
    for chunk in pages::runs(&state.app.db.read, &ids, pages::CHUNK_BYTES).await? {
        let listed = oruk::parts_of(&state.app.db, &chunk).await?;
        contents.extend(listed.parts().map(|p| item(&p)));
    }
    Ok(permit.hold(json(page(&q, total, &contents))))
}

#[expect(
    clippy::redundant_closure_for_method_calls,
    reason = "the method's own lifetime is fixed; the closure is generic over it"
)]
async fn services(State(state): State<HttpState>, RawQuery(raw): RawQuery) -> Answer {
    listing(&state, raw.as_deref(), |p| p.service_list_item()).await
}

async fn service(State(state): State<HttpState>, Path(id): Path<String>) -> Answer {
    let id = uuid("id", &id)?;
    let listed = oruk::service(&state.app.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound("service"))?;
    let service = listed.parts().next().map(|p| p.service());
    Ok(json(service.ok_or_else(|| AppError::NotFound("service"))?))
}

async fn service_at_locations(State(state): State<HttpState>, RawQuery(raw): RawQuery) -> Answer {
    listing(&state, raw.as_deref(), |p| {
        p.service_at_location_list_item()
    })
    .await
}

async fn service_at_location(State(state): State<HttpState>, Path(id): Path<String>) -> Answer {
    let id = uuid("id", &id)?;
    let listed = oruk::service_at_location(&state.app.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound("service_at_location"))?;
    let sal = listed.parts().next().map(|p| p.service_at_location());
    Ok(json(sal.ok_or_else(|| {
        AppError::NotFound("service_at_location")
    })?))
}

/// `page` and `per_page` only, for the short lists of taxonomies and terms.
fn paging(raw: Option<&str>) -> Result<Query, AppError> {
    let mut q = Query {
        page: 1,
        per_page: PER_PAGE,
        ..Query::default()
    };
    for (key, value) in params(raw) {
        match key.as_str() {
            "page" => q.page = whole("page", &value, 1, u64::from(u32::MAX))?,
            "per_page" => q.per_page = whole("per_page", &value, 1, MAX_PER_PAGE)?,
            _ => {}
        }
    }
    Ok(q)
}

fn slice(q: &Query, all: Vec<Value>) -> Value {
    let total = all.len() as u64;
    let skip = crate::convert::to_usize(q.page.saturating_sub(1).saturating_mul(q.per_page));
    let take = crate::convert::to_usize(q.per_page);
    let contents: Vec<Value> = all.into_iter().skip(skip).take(take).collect();
    page(q, total, &contents)
}

async fn all_terms(state: &HttpState) -> Result<Vec<Value>, AppError> {
    let categories = oruk::category_terms(&state.app.db).await?;
    Ok(categories
        .iter()
        .map(view::category_term)
        .chain(
            crate::domain::AssetKind::ALL
                .iter()
                .map(|k| view::kind_term(*k)),
        )
        .collect())
}

async fn taxonomies(RawQuery(raw): RawQuery) -> Answer {
    let q = paging(raw.as_deref())?;
    let all = [view::CATEGORY_TAXONOMY, view::KIND_TAXONOMY]
        .into_iter()
        .filter_map(|id| view::taxonomy(id, None))
        .collect();
    Ok(json(slice(&q, all)))
}

async fn taxonomy(State(state): State<HttpState>, Path(id): Path<String>) -> Answer {
    let id = uuid("id", &id)?;
    let terms: Vec<Value> = all_terms(&state)
        .await?
        .into_iter()
        .filter(|t| t["taxonomy_id"] == id.to_string())
        .collect();
    view::taxonomy(id, Some(terms))
        .map(json)
        .ok_or_else(|| AppError::NotFound("taxonomy"))
}

async fn taxonomy_terms(State(state): State<HttpState>, RawQuery(raw): RawQuery) -> Answer {
    let q = paging(raw.as_deref())?;
    Ok(json(slice(&q, all_terms(&state).await?)))
}

async fn taxonomy_term(State(state): State<HttpState>, Path(id): Path<String>) -> Answer {
    let id = uuid("id", &id)?;
    all_terms(&state)
        .await?
        .into_iter()
        .find(|t| t["id"] == id.to_string())
        .map(json)
        .ok_or_else(|| AppError::NotFound("taxonomy_term"))
}
