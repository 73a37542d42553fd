//! Open Referral UK 3.0: the published directory (`view`: an asset as a service at a
//! location; `schedule`: opening hours as HSDS schedules) and the queries behind the
//! `/oruk` API: pages of services filtered as the profile's parameters say, nearest
//! first from a postcode.
//!
//! Only what the public sees is published: active, approved assets (pending and
//! rejected proposals never); an archived asset leaves the lists and its own page says
//! `inactive`.

pub mod schedule;
pub mod view;

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use entity::{asset, asset_category, category, organization};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query as SqlQuery};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use self::schedule::Schedules;
use self::view::Parts;
use crate::db::Db;
use crate::domain::hours::Hours;
use crate::domain::search::search_words;
use crate::domain::{AssetFilter, AssetKind, AssetStatus, LonLat, Moderation, Radius};
use crate::error::AppResult;
use crate::service::{categories, organizations};
use crate::spatial::{Engine, Search, Shape};

/// The most results a search from a postcode ranks (nearest first).
pub const MAX_NEAR: u64 = 10_000;

/// When a service must run: the profile's `day`, `start_time` and `end_time`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct When {
    pub day: Option<Weekday>,
    /// Opens at or after this time.
    pub start: Option<NaiveTime>,
    /// Closes at or before this time.
    pub end: Option<NaiveTime>,
}

impl When {
    fn is_set(self) -> bool {
        self.day.is_some() || self.start.is_some() || self.end.is_some()
    }

    /// Whether hours in OSM text have an opening that fits: for weekly hours, an
    /// opening on `day` that starts at or after `start` and ends at or before `end`;
    /// for other hours, open at some moment of that window in the coming week.
    fn fits(self, text: Option<&str>) -> bool {
        let Some(text) = text else { return false };
        let start = self.start.unwrap_or(NaiveTime::MIN);
        let end = self.end;
        match schedule::from_osm(text) {
            Schedules::Weekly { openings, .. } => openings.iter().any(|o| {
                let day_fits = self
                    .day
                    .is_none_or(|d| o.days.contains(&(d.num_days_from_monday() as usize)));
                let opens = NaiveTime::parse_from_str(&o.opens, "%H:%M").ok();
                // "24:00" is the end of the day
                let closes = NaiveTime::parse_from_str(&o.closes, "%H:%M").ok();
                day_fits
                    && opens.is_some_and(|t| t >= start)
                    && end.is_none_or(|e| o.closes != "24:00" && closes.is_some_and(|t| t <= e))
            }),
            Schedules::Text(_) => Hours::parse(text).is_ok_and(|hours| {
                let today = Utc::now().date_naive();
                (0..7).any(|offset| {
                    let date = today + Duration::days(offset);
                    if self.day.is_some_and(|d| d != date.weekday()) {
                        return false;
                    }
                    let from = chrono_tz::Europe::London
                        .from_local_datetime(&date.and_time(start))
                        .earliest();
                    let until = chrono_tz::Europe::London
                        .from_local_datetime(&date.and_time(end.unwrap_or(NaiveTime::MIN)))
                        .earliest()
                        .map(|t| {
                            if end.is_none() {
                                t + Duration::days(1)
                            } else {
                                t
                            }
                        });
                    match (from, until) {
                        (Some(from), Some(until)) => {
                            let (from, until) =
                                (from.with_timezone(&Utc), until.with_timezone(&Utc));
                            hours.next_open(from).is_some_and(|t| t < until)
                        }
                        _ => false,
                    }
                })
            }),
        }
    }
}

/// A taxonomy term a page is narrowed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Term {
    Category(Uuid),
    Kind(AssetKind),
    /// A term of neither taxonomy: nothing has it.
    Unknown,
}

impl Term {
    pub fn of(id: Uuid) -> Self {
        view::kind_of_term(id).map_or(Self::Category(id), Self::Kind)
    }
}

/// The profile's query parameters, checked.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub search: Option<String>,
    /// From 1.
    pub page: u64,
    pub per_page: u64,
    pub term: Option<Term>,
    /// Services with no term of this taxonomy are left out.
    pub taxonomy: Option<Uuid>,
    /// Services whose minimum age is at least this.
    pub minimum_age: Option<i32>,
    /// Services whose maximum age is at most this.
    pub maximum_age: Option<i32>,
    pub when: When,
    /// From a postcode, within `proximity` metres, nearest first.
    pub near: Option<(LonLat, Radius)>,
    pub modified_after: Option<DateTime<Utc>>,
}

/// One page of results, and how many there are in all.
pub struct Listed {
    pub total: u64,
    pub rows: Vec<asset::Model>,
    pub categories: HashMap<Uuid, Vec<category::Model>>,
    pub organizations: HashMap<Uuid, organization::Model>,
}

impl Listed {
    /// The parts of each row, in order.
    pub fn parts(&self) -> impl Iterator<Item = Parts<'_>> {
        self.rows.iter().map(|a| Parts {
            asset: a,
            categories: self.categories.get(&a.id).map_or(&[], Vec::as_slice),
            organization: a.organization_id.and_then(|o| self.organizations.get(&o)),
        })
    }
}

fn public() -> Select<asset::Entity> {
    asset::Entity::find()
        .filter(asset::Column::Status.eq(AssetStatus::Active))
        .filter(asset::Column::Moderation.eq(Moderation::Approved))
}

/// A category term with its descendants, as ids; empty when the term is not ours.
async fn category_ids(db: &Db, id: Uuid) -> AppResult<Vec<Uuid>> {
    let Some(term) = category::Entity::find_by_id(id).one(&db.read).await? else {
        return Ok(Vec::new());
    };
    categories::expand(&db.read, &[term.slug]).await
}

/// The conditions SQL can check.
async fn narrowed(
    db: &Db,
    q: &Query,
    mut select: Select<asset::Entity>,
) -> AppResult<Option<Select<asset::Entity>>> {
    if let Some(taxonomy) = q.taxonomy {
        // every published service has a kind term; only ours are known
        if taxonomy != view::KIND_TAXONOMY && taxonomy != view::CATEGORY_TAXONOMY {
            return Ok(None);
        }
        if taxonomy == view::CATEGORY_TAXONOMY {
            select = select.filter(
                asset::Column::Id.in_subquery(
                    SqlQuery::select()
                        .column(asset_category::Column::AssetId)
                        .from(asset_category::Entity)
                        .to_owned(),
                ),
            );
        }
    }
    match q.term {
        None => {}
        Some(Term::Unknown) => return Ok(None),
        Some(Term::Kind(kind)) => select = select.filter(asset::Column::Kind.eq(kind)),
        Some(Term::Category(id)) => {
            let ids = category_ids(db, id).await?;
            if ids.is_empty() {
                return Ok(None);
            }
            select = select.filter(
                asset::Column::Id.in_subquery(
                    SqlQuery::select()
                        .column(asset_category::Column::AssetId)
                        .from(asset_category::Entity)
                        .and_where(asset_category::Column::CategoryId.is_in(ids))
                        .to_owned(),
                ),
            );
        }
    }
    if let Some(text) = &q.search {
        for word in search_words(text) {
            // words are letters and digits only: nothing to escape in the pattern
            select = select.filter(
                Expr::expr(Func::lower(Expr::col(asset::Column::SearchText)))
                    .like(format!("%{word}%")),
            );
        }
    }
    if let Some(age) = q.minimum_age {
        select = select.filter(asset::Column::MinAge.gte(age));
    }
    if let Some(age) = q.maximum_age {
        select = select.filter(asset::Column::MaxAge.lte(age));
    }
    if let Some(t) = q.modified_after {
        select = select.filter(asset::Column::UpdatedAt.gte(t));
    }
    Ok(Some(select))
}

fn offset(q: &Query) -> u64 {
    q.page.saturating_sub(1).saturating_mul(q.per_page)
}

/// A page of published services, in name order (or nearest first from a postcode): how
/// many there are in all and the page's ids, in order. Their rows are read with
/// [`chunks`] and [`parts_of`], a bounded number of bytes at a time.
pub async fn services(db: &Db, engine: &Engine, q: &Query) -> AppResult<(u64, Vec<Uuid>)> {
    match q.near {
        Some((center, radius)) => near(db, engine, q, center, radius).await,
        None => listed(db, q).await,
    }
}

/// Candidates' ids with their hours (only these columns are read).
async fn ids_and_hours(
    db: &Db,
    select: Select<asset::Entity>,
) -> AppResult<Vec<(Uuid, Option<String>)>> {
    Ok(select
        .select_only()
        .column(asset::Column::Id)
        .column(asset::Column::OpeningHours)
        .into_tuple()
        .all(&db.read)
        .await?)
}

fn page_of<T: Copy>(q: &Query, all: &[T]) -> Vec<T> {
    all.iter()
        .skip(crate::convert::to_usize(offset(q)))
        .take(crate::convert::to_usize(q.per_page))
        .copied()
        .collect()
}

async fn listed(db: &Db, q: &Query) -> AppResult<(u64, Vec<Uuid>)> {
    let Some(select) = narrowed(db, q, public()).await? else {
        return Ok((0, Vec::new()));
    };
    let select = select
        .order_by_asc(asset::Column::Name)
        .order_by_asc(asset::Column::Id);
    if !q.when.is_set() {
        let total = select.clone().count(&db.read).await?;
        let ids: Vec<Uuid> = select
            .select_only()
            .column(asset::Column::Id)
            .offset(offset(q))
            .limit(q.per_page)
            .into_tuple()
            .all(&db.read)
            .await?;
        return Ok((total, ids));
    }
    // hours are checked here, not in SQL: read the ids and hours of every candidate
    let fitting: Vec<Uuid> = ids_and_hours(db, select)
        .await?
        .into_iter()
        .filter(|(_, hours)| q.when.fits(hours.as_deref()))
        .map(|(id, _)| id)
        .collect();
    Ok((fitting.len() as u64, page_of(q, &fitting)))
}

async fn near(
    db: &Db,
    engine: &Engine,
    q: &Query,
    center: LonLat,
    radius: Radius,
) -> AppResult<(u64, Vec<Uuid>)> {
    // the spatial search ranks by distance with what its filter can check; the rest is
    // checked on the ranked candidates (their ids and hours only)
    let mut filter = AssetFilter {
        text: q.search.clone(),
        ..AssetFilter::default()
    };
    let mut category_ids = Vec::new();
    match q.term {
        None => {}
        Some(Term::Unknown) => return Ok((0, Vec::new())),
        Some(Term::Kind(kind)) => filter.kinds = vec![kind],
        Some(Term::Category(id)) => {
            let Some(term) = category::Entity::find_by_id(id).one(&db.read).await? else {
                return Ok((0, Vec::new()));
            };
            filter.categories = vec![term.slug];
            category_ids = categories::expand(&db.read, &filter.categories).await?;
        }
    }
    let hits = engine
        .search(
            db,
            Search {
                shape: Shape::Near { center, radius },
                filter: &filter,
                category_ids: &category_ids,
                after: None,
                limit: MAX_NEAR,
            },
        )
        .await?;
    let ids: Vec<Uuid> = hits.iter().map(|h| h.id).collect();
    let Some(select) = narrowed(db, q, public()).await? else {
        return Ok((0, Vec::new()));
    };
    let mut kept = std::collections::HashSet::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let candidates = select
            .clone()
            .filter(asset::Column::Id.is_in(chunk.to_vec()));
        for (id, hours) in ids_and_hours(db, candidates).await? {
            if !q.when.is_set() || q.when.fits(hours.as_deref()) {
                kept.insert(id);
            }
        }
    }
    let ranked: Vec<Uuid> = ids.into_iter().filter(|id| kept.contains(id)).collect();
    Ok((ranked.len() as u64, page_of(q, &ranked)))
}

async fn with_parts(db: &Db, total: u64, rows: Vec<asset::Model>) -> AppResult<Listed> {
    let ids: Vec<Uuid> = rows.iter().map(|a| a.id).collect();
    let categories = categories::of_assets(&db.read, &ids).await?;
    let org_ids: Vec<Uuid> = rows.iter().filter_map(|a| a.organization_id).collect();
    let organizations = organizations::by_ids(db, &org_ids).await?;
    Ok(Listed {
        total,
        rows,
        categories,
        organizations,
    })
}

/// The rows of these ids, in order, with their categories and organizations.
pub async fn parts_of(db: &Db, ids: &[Uuid]) -> AppResult<Listed> {
    let rows = crate::service::assets::load_ordered(db, ids).await?;
    with_parts(db, ids.len() as u64, rows).await
}

/// One service (or the asset behind a service_at_location): a published asset, or an
/// archived one (which says `inactive`). Pending and rejected ones are not found.
pub async fn service(db: &Db, id: Uuid) -> AppResult<Option<Listed>> {
    let row = asset::Entity::find_by_id(id)
        .filter(asset::Column::Moderation.eq(Moderation::Approved))
        .one(&db.read)
        .await?;
    match row {
        Some(row) => Ok(Some(with_parts(db, 1, vec![row]).await?)),
        None => Ok(None),
    }
}

/// The asset behind a service_at_location id, as [`service`] finds it.
pub async fn service_at_location(db: &Db, id: Uuid) -> AppResult<Option<Listed>> {
    service(db, view::asset_of_service_at_location(id)).await
}

/// Every category, ordered by slug.
pub async fn category_terms(db: &Db) -> AppResult<Vec<category::Model>> {
    let mut all = categories::list(&db.read).await?;
    all.sort_by(|a, b| a.slug.cmp(&b.slug));
    Ok(all)
}
