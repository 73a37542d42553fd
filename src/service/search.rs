//! Paged spatial searches: the spatial seam finds and orders ids, this loads the assets.

use std::collections::HashMap;
use std::sync::Arc;

use entity::asset;
use uuid::Uuid;

use crate::db::Db;
use crate::domain::{AssetFilter, PageSize, SearchCursor};
use crate::error::AppResult;
use crate::spatial::{Engine, Hit, Search, Shape};

/// One page of results in order, each with its distance in metres and its cursor.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<(asset::Model, Hit)>,
    pub has_next: bool,
    pub has_previous: bool,
    /// Where the next page starts when that is past the last item: a filtered search
    /// that stopped scanning before it filled the page.
    pub resume_after: Option<SearchCursor>,
    /// What was asked for, to say why each result matched.
    pub asked: Arc<Asked>,
}

impl Page {
    fn new(
        items: Vec<(asset::Model, Hit)>,
        has_next: bool,
        after: Option<SearchCursor>,
        resume_after: Option<SearchCursor>,
    ) -> Self {
        Self {
            items,
            has_next,
            has_previous: after.is_some(),
            resume_after,
            asked: Arc::default(),
        }
    }
}

/// The assets of these hits, by id.
async fn load(db: &Db, hits: &[Hit]) -> AppResult<HashMap<Uuid, asset::Model>> {
    let ids: Vec<Uuid> = hits.iter().map(|h| h.id).collect();
    Ok(super::assets::load_ordered(db, &ids)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect())
}

/// A search's filter with its categories as ids (children included).
#[derive(Debug, Default)]
pub struct Asked {
    pub filter: AssetFilter,
    pub category_ids: Vec<Uuid>,
}

/// Candidates read per round when a filter runs after the search (opening hours).
const SCAN_BATCH: u64 = 100;
/// The most candidates one page reads for such a filter; the page then ends early, with
/// `hasNextPage` and a cursor to go on from.
const SCAN_MAX: usize = 2_000;

/// Whether an asset with these hours passes the filter's opening-hours test.
fn open_enough(filter: &AssetFilter, hours: Option<&str>) -> bool {
    let Some(at) = filter.open_at else {
        return true;
    };
    match hours {
        None => filter.include_unknown_hours,
        Some(text) => crate::domain::hours::Hours::parse(text).is_ok_and(|h| h.is_open(at)),
    }
}

/// The opening hours of these assets, by id (only the hours are read).
async fn hours_of(db: &Db, hits: &[Hit]) -> AppResult<HashMap<Uuid, Option<String>>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    let rows: Vec<(Uuid, Option<String>)> = asset::Entity::find()
        .select_only()
        .column(asset::Column::Id)
        .column(asset::Column::OpeningHours)
        .filter(asset::Column::Id.is_in(hits.iter().map(|h| h.id)))
        .into_tuple()
        .all(&db.read)
        .await?;
    Ok(rows.into_iter().collect())
}

/// A page of a search whose filter includes opening hours: candidates are read in order,
/// in batches, and kept when open (only their hours are read), until the page is full,
/// the candidates run out, or `SCAN_MAX` have been read; then the page's rows are
/// loaded as any page's are.
async fn filtered_page(
    db: &Db,
    engine: &Engine,
    search: Search<'_>,
    first: PageSize,
    max_bytes: Option<u64>,
) -> AppResult<Page> {
    let (filter, after) = (search.filter, search.after);
    let limit = crate::convert::to_usize(first.get());
    let mut kept: Vec<Hit> = Vec::new();
    let mut cursor = after;
    let mut scanned = 0_usize;
    let mut exhausted = false;
    while kept.len() <= limit && !exhausted && scanned < SCAN_MAX {
        let round = Search {
            after: cursor,
            limit: SCAN_BATCH,
            ..search
        };
        let hits = engine.search(db, round).await?;
        exhausted = (hits.len() as u64) < SCAN_BATCH;
        let hours = hours_of(db, &hits).await?;
        for hit in hits {
            // an id with no row any more is not open: it was never listed
            let open = hours
                .get(&hit.id)
                .is_some_and(|h| open_enough(filter, h.as_deref()));
            scanned += 1;
            if kept.len() == limit {
                // one more that passes tells that a next page exists
                if open {
                    return loaded(db, kept, true, after, None, max_bytes).await;
                }
            } else if open {
                kept.push(hit);
            }
            cursor = Some(hit.cursor());
        }
    }
    let stopped_early = !exhausted;
    let resume_after = if stopped_early { cursor } else { None };
    loaded(db, kept, stopped_early, after, resume_after, max_bytes).await
}

/// The page of these hits with their rows: the first `max_bytes` of them (at least one)
/// when a budget is given, and then a next page follows from the last one kept.
async fn loaded(
    db: &Db,
    mut hits: Vec<Hit>,
    mut has_next: bool,
    after: Option<SearchCursor>,
    mut resume_after: Option<SearchCursor>,
    max_bytes: Option<u64>,
) -> AppResult<Page> {
    if let Some(budget) = max_bytes {
        let ids: Vec<Uuid> = hits.iter().map(|h| h.id).collect();
        let fit = super::pages::fitting(&db.read, &ids, budget).await?;
        if fit < hits.len() {
            hits.truncate(fit);
            has_next = true;
            resume_after = None;
        }
    }
    let mut by_id = load(db, &hits).await?;
    let items = hits
        .into_iter()
        .filter_map(|hit| by_id.remove(&hit.id).map(|model| (model, hit)))
        .collect();
    Ok(Page::new(items, has_next, after, resume_after))
}

async fn page(
    db: &Db,
    mut hits: Vec<Hit>,
    first: PageSize,
    after: Option<SearchCursor>,
    max_bytes: Option<u64>,
) -> AppResult<Page> {
    let limit = crate::convert::to_usize(first.get());
    let has_next = hits.len() > limit;
    hits.truncate(limit);
    loaded(db, hits, has_next, after, None, max_bytes).await
}

/// One page of a search: nearest first within a radius or around a shape, or by id in
/// a box, with the filter's conditions; with `max_bytes`, no more rows than fit in
/// that many bytes of stored text (see `pages`).
#[tracing::instrument(skip_all, fields(geo.shape = shape.name()))]
pub async fn search(
    db: &Db,
    engine: &Engine,
    shape: Shape<'_>,
    filter: AssetFilter,
    first: PageSize,
    after: Option<SearchCursor>,
    max_bytes: Option<u64>,
) -> AppResult<Page> {
    let category_ids = super::categories::expand(&db.read, &filter.categories).await?;
    let mut page = if filter.open_at.is_some() {
        let search = Search {
            shape,
            filter: &filter,
            category_ids: &category_ids,
            after,
            limit: SCAN_BATCH,
        };
        filtered_page(db, engine, search, first, max_bytes).await?
    } else {
        let query = Search {
            shape,
            filter: &filter,
            category_ids: &category_ids,
            after,
            // a page, and one more to tell whether more follow
            limit: first.get() + 1,
        };
        let hits = engine.search(db, query).await?;
        page(db, hits, first, after, max_bytes).await?
    };
    page.asked = Arc::new(Asked {
        filter,
        category_ids,
    });
    Ok(page)
}
