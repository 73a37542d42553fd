//! The query root.

use async_graphql::{Context, ID, Object};
use uuid::Uuid;

use super::scalars::GeoJson;
use super::trust::{
    self, ChangeStatus, PendingChange, PendingChangeConnection, PendingChangeEdge, Viewer,
};
use super::types::{
    Asset, AssetConnection, AssetFilterInput, AssetSearchConnection, BBoxInput, Category,
    LonLatInput, Organization, OrganizationConnection, OrganizationEdge, PageInfo, parse_id,
};
use crate::db::Db;
use crate::domain::{BBox, Buffer, LonLat, PageSize, Radius, SearchCursor, ValidGeometry};
use crate::error::AppError;
use crate::service;
use crate::service::search::Page;

pub struct QueryRoot;

async fn prefetch(ctx: &Context<'_>, page: &Page) -> async_graphql::Result<()> {
    let assets: Vec<&entity::asset::Model> = page.items.iter().map(|(a, _)| a).collect();
    super::loaders::prefetch(ctx, &assets).await
}

fn filter(filter: Option<AssetFilterInput>) -> Result<crate::domain::AssetFilter, AppError> {
    filter.unwrap_or_default().into_domain()
}

#[Object(name = "Query")]
impl QueryRoot {
    /// One asset by id, archived ones included; null when there is none.
    async fn asset(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Asset>> {
        let db = ctx.data::<Db>()?;
        let id = parse_id("id", &id)?;
        Ok(service::assets::get(db, trust::principal(ctx), id)
            .await?
            .map(Asset))
    }

    /// Active assets within `radiusMeters` of `near`, nearest first; every edge carries
    /// `distanceMeters`, the geodesic distance (WGS84 ellipsoid) to the nearest point of
    /// the asset's geometry (0 inside a polygon). The radius is inclusive, more than 0 and
    /// at most 50 000 m. `first` is 1 to 100 (default 20); `after` is an `endCursor`.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn nearby_assets(
        &self,
        ctx: &Context<'_>,
        near: LonLatInput,
        radius_meters: f64,
        filter: Option<AssetFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AssetSearchConnection> {
        let db = ctx.data::<Db>()?;
        let center = LonLat::new(near.lon, near.lat)?;
        let radius = Radius::meters(radius_meters)?;
        let filter = self::filter(filter)?;
        let first = PageSize::new(first)?;
        let after = SearchCursor::decode_opt(after.as_deref())?;
        let page = service::search::nearby(db, center, radius, filter, first, after).await?;
        prefetch(ctx, &page).await?;
        Ok(page.into())
    }

    /// Active assets whose geometry intersects the box (a map viewport), in a stable
    /// order (by id). `first` is 1 to 100 (default 20).
    #[graphql(
        name = "assetsInBBox",
        complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity"
    )]
    async fn assets_in_bbox(
        &self,
        ctx: &Context<'_>,
        bbox: BBoxInput,
        filter: Option<AssetFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AssetConnection> {
        let db = ctx.data::<Db>()?;
        let bbox = BBox::new(bbox.min_lon, bbox.min_lat, bbox.max_lon, bbox.max_lat)?;
        let filter = self::filter(filter)?;
        let first = PageSize::new(first)?;
        let after = SearchCursor::decode_opt(after.as_deref())?;
        let page = service::search::in_bbox(db, bbox, filter, first, after).await?;
        prefetch(ctx, &page).await?;
        Ok(page.into())
    }

    /// Active assets that intersect `geometry` (a ward boundary), or that lie within
    /// `bufferMeters` of it (a corridor along a route), nearest first. `distanceMeters` is
    /// the geodesic distance between the nearest points (0 where they intersect).
    /// `bufferMeters` is 0 to 10 000 (default 0).
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn assets_intersecting(
        &self,
        ctx: &Context<'_>,
        geometry: GeoJson,
        buffer_meters: Option<f64>,
        filter: Option<AssetFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AssetSearchConnection> {
        let db = ctx.data::<Db>()?;
        let geometry = ValidGeometry::parse(&geometry.0).map_err(AppError::from)?;
        let buffer = Buffer::meters(buffer_meters)?;
        let filter = self::filter(filter)?;
        let first = PageSize::new(first)?;
        let after = SearchCursor::decode_opt(after.as_deref())?;
        let page =
            service::search::intersecting(db, geometry, buffer, filter, first, after).await?;
        prefetch(ctx, &page).await?;
        Ok(page.into())
    }

    /// One organization by id; null when there is none.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Organization>> {
        let db = ctx.data::<Db>()?;
        let id = parse_id("id", &id)?;
        Ok(service::organizations::get(db, id).await?.map(Organization))
    }

    /// Organizations in the order they were created. `first` is 1 to 100 (default 20).
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<OrganizationConnection> {
        let db = ctx.data::<Db>()?;
        let first = PageSize::new(first)?;
        let after: Option<Uuid> = SearchCursor::decode_opt(after.as_deref())?.map(|c| c.id);
        let mut rows = service::organizations::list(db, after, first).await?;
        let limit = usize::try_from(first.get()).unwrap_or(usize::MAX);
        let has_next = rows.len() > limit;
        rows.truncate(limit);
        let cursor = |id: Uuid| SearchCursor { distance: 0.0, id }.encode();
        Ok(OrganizationConnection {
            page_info: PageInfo {
                has_next_page: has_next,
                has_previous_page: after.is_some(),
                start_cursor: rows.first().map(|o| cursor(o.id)),
                end_cursor: rows.last().map(|o| cursor(o.id)),
            },
            edges: rows
                .into_iter()
                .map(|o| OrganizationEdge {
                    cursor: cursor(o.id),
                    node: Organization(o),
                })
                .collect(),
        })
    }

    /// The caller, as their API token identifies them; null without one.
    async fn viewer(&self, ctx: &Context<'_>) -> Option<Viewer> {
        trust::principal(ctx).get().cloned().map(Viewer)
    }

    /// Proposed changes with this status (default PENDING), oldest first: all of them for
    /// moderators, those of their own organizations for editors. `first` is 1 to 100
    /// (default 20).
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn pending_changes(
        &self,
        ctx: &Context<'_>,
        status: Option<ChangeStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PendingChangeConnection> {
        let actor = trust::actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let first = PageSize::new(first)?;
        let after: Option<Uuid> = SearchCursor::decode_opt(after.as_deref())?.map(|c| c.id);
        let status = status.unwrap_or(ChangeStatus::Pending);
        let mut rows = service::moderation::list(db, actor, status.as_str(), after, first).await?;
        let limit = usize::try_from(first.get()).unwrap_or(usize::MAX);
        let has_next = rows.len() > limit;
        rows.truncate(limit);
        let cursor = |id: Uuid| SearchCursor { distance: 0.0, id }.encode();
        Ok(PendingChangeConnection {
            page_info: PageInfo {
                has_next_page: has_next,
                has_previous_page: after.is_some(),
                start_cursor: rows.first().map(|c| cursor(c.id)),
                end_cursor: rows.last().map(|c| cursor(c.id)),
            },
            edges: rows
                .into_iter()
                .map(|c| PendingChangeEdge {
                    cursor: cursor(c.id),
                    node: PendingChange(c),
                })
                .collect(),
        })
    }

    /// A shortlist by its code (case, spaces and dashes do not matter); null when there is
    /// none or it has expired. No sign-in needed.
    async fn shortlist(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Option<super::shortlists::Shortlist>> {
        let db = ctx.data::<Db>()?;
        Ok(service::shortlists::open(db, &code)
            .await?
            .map(|(list, assets)| super::shortlists::Shortlist { list, assets }))
    }

    /// Moderators: listings not confirmed (`verifyAsset`) for `olderThanDays` days, or
    /// never, within `radiusMeters` of `near`, nearest first, to chase up. `first` is 1 to
    /// 100 (default 20).
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn stale_assets(
        &self,
        ctx: &Context<'_>,
        near: LonLatInput,
        radius_meters: f64,
        older_than_days: i32,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AssetSearchConnection> {
        trust::principal(ctx).require_moderator()?;
        let db = ctx.data::<Db>()?;
        let center = LonLat::new(near.lon, near.lat)?;
        let radius = Radius::meters(radius_meters)?;
        if !(1..=3650).contains(&older_than_days) {
            return Err(AppError::invalid("olderThanDays", "olderThanDays is 1 to 3650").into());
        }
        let filter = crate::domain::AssetFilter {
            not_verified_since: Some(
                crate::service::now() - chrono::Duration::days(i64::from(older_than_days)),
            ),
            ..Default::default()
        };
        let first = PageSize::new(first)?;
        let after = SearchCursor::decode_opt(after.as_deref())?;
        let page = service::search::nearby(db, center, radius, filter, first, after).await?;
        prefetch(ctx, &page).await?;
        Ok(page.into())
    }

    /// The whole needs-and-interests taxonomy, by slug.
    async fn categories(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Category>> {
        let db = ctx.data::<Db>()?;
        Ok(service::categories::list(&db.read)
            .await?
            .into_iter()
            .map(Category)
            .collect())
    }
}
