//! The query root.

use async_graphql::{Context, ID, Object};
use uuid::Uuid;

use super::asset::{Asset, parse_id};
use super::changes::{AssetChangeConnection, AssetChangeEdge, AssetChangeFilter};
use super::context;
use super::organization::{Category, Organization, OrganizationConnection, OrganizationEdge};
use super::page::{self, Position};
use super::scalars::GeoJson;
use super::search::{
    AssetConnection, AssetFilterInput, AssetSearchConnection, BBoxInput, LonLatInput,
};
use super::trust::{
    ChangeStatus, PendingChange, PendingChangeConnection, PendingChangeEdge, Viewer,
};
use crate::db::Db;
use crate::domain::{AssetFilter, BBox, Buffer, PageSize, Radius, SearchCursor, ValidGeometry};
use crate::error::AppError;
use crate::service;
use crate::service::changes::Position as ChangeCursor;
use crate::service::search::Page;
use crate::spatial::Shape;
use crate::state::AppState;

pub struct QueryRoot;

/// A page of a search, with the relations the query selects loaded for the whole page.
async fn searched(
    ctx: &Context<'_>,
    shape: Shape<'_>,
    filter: AssetFilter,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<Page> {
    let app = ctx.data::<AppState>()?;
    let first = PageSize::new(first)?;
    let after = SearchCursor::decode_opt(after.as_deref())?;
    let max_bytes = super::budget::for_page(ctx);
    let page =
        service::search::search(&app.db, &app.search, shape, filter, first, after, max_bytes)
            .await?;
    if let (Some(_), Some(budget)) = (max_bytes, super::budget::of(ctx)) {
        let bytes = page
            .items
            .iter()
            .map(|(a, _)| service::pages::row_size(a))
            .sum();
        budget.page(page.items.iter().map(|(a, _)| a.id), bytes);
    }
    let assets: Vec<&entity::asset::Model> = page.items.iter().map(|(a, _)| a).collect();
    super::loaders::prefetch(ctx, &assets).await?;
    Ok(page)
}

#[Object(name = "Query")]
impl QueryRoot {
    /// One asset by id, archived ones included; null when there is none.
    async fn asset(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Asset>> {
        let db = ctx.data::<Db>()?;
        let id = parse_id("id", &id)?;
        Ok(service::assets::get(db, context::principal(ctx), id)
            .await?
            .map(Asset))
    }

    /// Active assets within `radiusMeters` of `near`, nearest first; every edge carries
    /// `distanceMeters`, the geodesic distance (WGS84 ellipsoid) to the nearest point of
    /// the asset's geometry (0 inside a polygon). The radius is inclusive, more than 0 and
    /// at most 50 000 m. `first` is 1 to 100 (default 20); `after` is an `endCursor`.
    #[graphql(complexity = "PageSize::cost(first, child_complexity)")]
    async fn nearby_assets(
        &self,
        ctx: &Context<'_>,
        near: LonLatInput,
        radius_meters: f64,
        filter: Option<AssetFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AssetSearchConnection> {
        let center = near.locate(ctx.data::<Db>()?).await?;
        let radius = Radius::meters(radius_meters)?;
        let filter = AssetFilterInput::parse(filter)?;
        let shape = Shape::Near { center, radius };
        Ok(searched(ctx, shape, filter, first, after).await?.into())
    }

    /// Active assets whose geometry intersects the box (a map viewport), in a stable
    /// order (by id). `first` is 1 to 100 (default 20).
    #[graphql(
        name = "assetsInBBox",
        complexity = "PageSize::cost(first, child_complexity)"
    )]
    async fn assets_in_bbox(
        &self,
        ctx: &Context<'_>,
        bbox: BBoxInput,
        filter: Option<AssetFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AssetConnection> {
        let bbox = BBox::new(bbox.min_lon, bbox.min_lat, bbox.max_lon, bbox.max_lat)?;
        let filter = AssetFilterInput::parse(filter)?;
        Ok(searched(ctx, Shape::InBox(bbox), filter, first, after)
            .await?
            .into())
    }

    /// Active assets that intersect `geometry` (a ward boundary), or that lie within
    /// `bufferMeters` of it (a corridor along a route), nearest first. `distanceMeters` is
    /// the geodesic distance between the nearest points (0 where they intersect).
    /// `bufferMeters` is 0 to 10 000 (default 0).
    #[graphql(complexity = "PageSize::cost(first, child_complexity)")]
    async fn assets_intersecting(
        &self,
        ctx: &Context<'_>,
        geometry: GeoJson,
        buffer_meters: Option<f64>,
        filter: Option<AssetFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AssetSearchConnection> {
        let geometry = ValidGeometry::parse(&geometry.0).map_err(AppError::from)?;
        let buffer = Buffer::meters(buffer_meters)?;
        let filter = AssetFilterInput::parse(filter)?;
        let shape = Shape::Around {
            geometry: &geometry,
            buffer,
        };
        Ok(searched(ctx, shape, filter, first, after).await?.into())
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
    #[graphql(complexity = "PageSize::cost(first, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<OrganizationConnection> {
        let db = ctx.data::<Db>()?;
        let first = PageSize::new(first)?;
        let after: Option<Uuid> = SearchCursor::decode_opt(after.as_deref())?.map(|c| c.id);
        let rows = service::organizations::list(db, after, first).await?;
        let (edges, page_info) = page::id_page(
            rows,
            first,
            after,
            |o| o.id,
            |o, cursor| OrganizationEdge {
                node: Organization(o),
                cursor,
            },
        );
        Ok(OrganizationConnection { edges, page_info })
    }

    /// The caller, as their API token identifies them; null without one.
    async fn viewer(&self, ctx: &Context<'_>) -> Option<Viewer> {
        context::principal(ctx).get().cloned().map(Viewer)
    }

    /// Proposed changes with this status (default PENDING), oldest first: all of them for
    /// moderators, those of their own organizations for editors. `first` is 1 to 100
    /// (default 20).
    #[graphql(complexity = "PageSize::cost(first, child_complexity)")]
    async fn pending_changes(
        &self,
        ctx: &Context<'_>,
        status: Option<ChangeStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PendingChangeConnection> {
        let actor = context::actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let first = PageSize::new(first)?;
        let after: Option<Uuid> = SearchCursor::decode_opt(after.as_deref())?.map(|c| c.id);
        let status = status.unwrap_or(ChangeStatus::Pending);
        let rows = service::moderation::list(db, actor, status.into(), after, first).await?;
        let (edges, page_info) = page::id_page(
            rows,
            first,
            after,
            |c| c.id,
            |c, cursor| PendingChangeEdge {
                node: PendingChange(c),
                cursor,
            },
        );
        Ok(PendingChangeConnection { edges, page_info })
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
    #[graphql(complexity = "PageSize::cost(first, child_complexity)")]
    async fn stale_assets(
        &self,
        ctx: &Context<'_>,
        near: LonLatInput,
        radius_meters: f64,
        older_than_days: i32,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AssetSearchConnection> {
        context::principal(ctx).require_moderator()?;
        let center = near.locate(ctx.data::<Db>()?).await?;
        let radius = Radius::meters(radius_meters)?;
        let filter = AssetFilter::stale(older_than_days, service::now())?;
        let shape = Shape::Near { center, radius };
        Ok(searched(ctx, shape, filter, first, after).await?.into())
    }

    /// Changes to what the public sees, oldest first, after `after` (a cursor from an
    /// earlier page; none: from the beginning, which holds every listed asset). Each edge
    /// is one entry of the change log with the asset as the public sees it now, or a
    /// tombstone when it is gone (archived, taken down, or out of this `filter`). Keep
    /// `pageInfo.endCursor` and ask again to stay in sync; a cursor older than the log
    /// keeps (a week by default) is `CURSOR_EXPIRED`: start again without one. `first` is
    /// 1 to 100 (default 20).
    #[graphql(complexity = "PageSize::cost(first, child_complexity)")]
    async fn asset_changes(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        filter: Option<AssetChangeFilter>,
    ) -> async_graphql::Result<AssetChangeConnection> {
        let db = ctx.data::<Db>()?;
        let after = after
            .as_deref()
            .map(ChangeCursor::decode)
            .transpose()?
            .unwrap_or_default();
        let first = PageSize::new(first)?;
        let filter = AssetChangeFilter::parse(filter, db).await?;
        let max_bytes = super::budget::for_page(ctx);
        let page = service::changes::page(db, after, first, &filter, max_bytes).await?;
        if let (Some(_), Some(budget)) = (max_bytes, super::budget::of(ctx)) {
            let rows = page.items.iter().filter_map(|d| d.asset.as_ref());
            let bytes = rows.clone().map(service::pages::row_size).sum();
            budget.page(rows.map(|a| a.id), bytes);
        }
        let assets: Vec<&entity::asset::Model> =
            page.items.iter().filter_map(|d| d.asset.as_ref()).collect();
        super::loaders::prefetch(ctx, &assets).await?;
        let position = Position {
            has_next: page.has_next,
            has_previous: after.0 > 0,
            resume_after: Some(page.end.encode()),
        };
        let (edges, page_info) = page::edges(
            page.items,
            position,
            |d| ChangeCursor(d.entry.position).encode(),
            |d, _| AssetChangeEdge(d),
        );
        Ok(AssetChangeConnection { edges, page_info })
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
