//! Organizations and the taxonomy as the API shows them.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{category, organization};

use super::context;
use super::loaders::{Cached, CategoryById};
use uuid::Uuid;

use super::asset::Asset;
use super::page::{self, PageInfo};
use crate::db::Db;
use crate::domain::{PageSize, SearchCursor};
use crate::service;

/// A group or charity that runs assets.
pub struct Organization(pub organization::Model);

#[Object]
impl Organization {
    /// A UUID, unique across replicas.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The organization's name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What the organization does.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// Web address.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }

    /// Contact email address.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    /// Contact telephone number.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }

    /// When the organization was added (RFC 3339, UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the organization last changed (RFC 3339, UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Whether its editors' changes publish at once (true) or wait for a moderator.
    async fn trusted(&self) -> bool {
        self.0.trusted
    }

    /// The organization's assets in a stable order (by id): listed ones for everyone;
    /// for its own editors and moderators also those waiting for a moderator or turned
    /// down, and archived ones with `includeArchived`. `first` is 1 to 100 (default 20).
    #[graphql(complexity = "PageSize::cost(first, child_complexity)")]
    async fn assets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default = false)] include_archived: bool,
    ) -> async_graphql::Result<OrganizationAssetConnection> {
        let db = ctx.data::<Db>()?;
        let first = PageSize::new(first)?;
        let after: Option<Uuid> = SearchCursor::decode_opt(after.as_deref())?.map(|c| c.id);
        let max_bytes = super::budget::for_page(ctx);
        let (rows, has_next) = service::assets::of_organization(
            db,
            context::principal(ctx),
            self.0.id,
            include_archived,
            after,
            first,
            max_bytes,
        )
        .await?;
        if let (Some(_), Some(budget)) = (max_bytes, super::budget::of(ctx)) {
            let bytes = rows.iter().map(service::pages::row_size).sum();
            budget.page(rows.iter().map(|a| a.id), bytes);
        }
        let position = page::Position {
            has_next,
            has_previous: after.is_some(),
            resume_after: None,
        };
        let (edges, page_info) = page::edges(
            rows,
            position,
            |a| page::id_cursor(a.id),
            |a, cursor| OrganizationAssetEdge {
                node: Asset(a),
                cursor,
            },
        );
        Ok(OrganizationAssetConnection { edges, page_info })
    }
}

/// An asset in a page of an organization's assets.
#[derive(SimpleObject)]
pub struct OrganizationAssetEdge {
    pub node: Asset,
    /// Opaque; pass as `after` to continue after this edge.
    pub cursor: String,
}

/// A page of an organization's assets.
#[derive(SimpleObject)]
pub struct OrganizationAssetConnection {
    pub edges: Vec<OrganizationAssetEdge>,
    pub page_info: PageInfo,
}

/// A term of the needs-and-interests taxonomy. Filtering by a category also matches
/// its children.
pub struct Category(pub category::Model);

#[Object]
impl Category {
    /// A UUID; filter by `slug`, which is stable across installations.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Stable identifier to filter by, e.g. `mental-wellbeing`.
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// A human-readable name, e.g. "Mental wellbeing".
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The broader category this one belongs to, if any.
    #[graphql(complexity = "5 + child_complexity")]
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Category>> {
        let Some(id) = self.0.parent_id else {
            return Ok(None);
        };
        let loader = ctx.data::<Cached<CategoryById>>()?;
        Ok(loader.load_one(id).await?.map(Category))
    }
}

/// An organization in a page of organizations.
#[derive(SimpleObject)]
pub struct OrganizationEdge {
    pub node: Organization,
    /// Opaque; pass as `after` to continue after this edge.
    pub cursor: String,
}

/// A page of organizations.
#[derive(SimpleObject)]
pub struct OrganizationConnection {
    pub edges: Vec<OrganizationEdge>,
    pub page_info: PageInfo,
}

/// A new organization.
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// 1 to 200 characters.
    pub name: String,
    /// Up to 5000 characters.
    pub description: Option<String>,
    /// Web address.
    pub website: Option<String>,
    /// An email address.
    pub email: Option<String>,
    /// Telephone number.
    pub phone: Option<String>,
    /// Whether its editors' changes publish without a moderator (default false).
    pub trusted: Option<bool>,
}
