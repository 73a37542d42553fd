//! Paged spatial searches: the spatial seam finds and orders ids, this loads the assets.

use std::collections::HashMap;

use entity::asset;
use uuid::Uuid;

use crate::db::Db;
use crate::domain::{
    AssetFilter, BBox, Buffer, LonLat, PageSize, Radius, SearchCursor, ValidGeometry,
};
use crate::error::AppResult;
use crate::spatial::{self, Hit, Search, Shape};

/// One page of results in order, each with its distance in metres and its cursor.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<(asset::Model, Hit)>,
    pub has_next: bool,
    pub has_previous: bool,
}

async fn page(
    db: &Db,
    mut hits: Vec<Hit>,
    first: PageSize,
    after: Option<SearchCursor>,
) -> AppResult<Page> {
    let limit = usize::try_from(first.get()).unwrap_or(usize::MAX);
    let has_next = hits.len() > limit;
    hits.truncate(limit);
    let ids: Vec<_> = hits.iter().map(|h| h.id).collect();
    let mut by_id: HashMap<Uuid, asset::Model> = super::assets::load_ordered(db, &ids)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let items = hits
        .into_iter()
        .filter_map(|hit| by_id.remove(&hit.id).map(|model| (model, hit)))
        .collect();
    Ok(Page {
        items,
        has_next,
        has_previous: after.is_some(),
    })
}

/// A page of `first`, plus one to tell whether more follow.
fn query<'a>(
    shape: Shape<'a>,
    filter: &'a AssetFilter,
    category_ids: &'a [Uuid],
    first: PageSize,
    after: Option<SearchCursor>,
) -> Search<'a> {
    Search {
        shape,
        filter,
        category_ids,
        after,
        limit: first.get() + 1,
    }
}

async fn category_ids(db: &Db, filter: &AssetFilter) -> AppResult<Vec<Uuid>> {
    super::categories::expand(&db.read, &filter.categories).await
}

#[tracing::instrument(skip_all, fields(geo.radius_m = radius.get()))]
pub async fn nearby(
    db: &Db,
    center: LonLat,
    radius: Radius,
    filter: AssetFilter,
    first: PageSize,
    after: Option<SearchCursor>,
) -> AppResult<Page> {
    let ids = category_ids(db, &filter).await?;
    let shape = Shape::Near { center, radius };
    let hits = spatial::search(db, query(shape, &filter, &ids, first, after)).await?;
    page(db, hits, first, after).await
}

#[tracing::instrument(skip_all)]
pub async fn in_bbox(
    db: &Db,
    bbox: BBox,
    filter: AssetFilter,
    first: PageSize,
    after: Option<SearchCursor>,
) -> AppResult<Page> {
    let ids = category_ids(db, &filter).await?;
    let hits = spatial::search(db, query(Shape::InBox(bbox), &filter, &ids, first, after)).await?;
    page(db, hits, first, after).await
}

#[tracing::instrument(skip_all, fields(geo.buffer_m = buffer.get()))]
pub async fn intersecting(
    db: &Db,
    geometry: ValidGeometry,
    buffer: Buffer,
    filter: AssetFilter,
    first: PageSize,
    after: Option<SearchCursor>,
) -> AppResult<Page> {
    let ids = category_ids(db, &filter).await?;
    let shape = Shape::Around {
        geometry: &geometry,
        buffer,
    };
    let hits = spatial::search(db, query(shape, &filter, &ids, first, after)).await?;
    page(db, hits, first, after).await
}
