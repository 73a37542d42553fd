//! Who is asking, history and moderation, as the API shows them.

use async_graphql::{Context, Enum, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{asset_revision, pending_change};
use serde_json::Value;

use super::asset::Asset;
use super::organization::Organization;
use super::page::PageInfo;
use crate::auth::Actor;
use crate::db::Db;
use crate::error::AppResult;
use crate::service;

/// What an API token may do.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::auth::Role")]
pub enum Role {
    /// Makes shortlists for residents (`createShortlist`).
    LinkWorker,
    /// Creates and changes assets of the organizations the token names.
    Editor,
    /// Changes any asset, approves or rejects pending changes, restores revisions and
    /// manages organizations.
    Moderator,
    /// Everything a moderator may.
    Admin,
}

/// The caller, as the API token identifies them.
pub struct Viewer(pub Actor);

#[Object]
impl Viewer {
    /// The token holder's name, as history shows it.
    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn role(&self) -> Role {
        self.0.role.into()
    }

    /// The organizations an editor acts for; empty for moderators and admins, who act for
    /// all.
    async fn organizations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Organization>> {
        let db = ctx.data::<Db>()?;
        let found = service::organizations::by_ids(db, &self.0.organizations).await?;
        Ok(self
            .0
            .organizations
            .iter()
            .filter_map(|id| found.get(id).cloned().map(Organization))
            .collect())
    }
}

/// One field that a change sets, with its value before and after (JSON; `geometry` is
/// GeoJSON, `categories` a list of slugs).
#[derive(SimpleObject)]
pub struct FieldChange {
    pub field: String,
    pub before: Json<Value>,
    pub after: Json<Value>,
}

/// The diff of two snapshots, counted against the response's budget before it is built
/// (a snapshot holds the geometry).
fn changes(
    ctx: &Context<'_>,
    before: Option<&str>,
    after: Option<&str>,
) -> AppResult<Vec<FieldChange>> {
    if let Some(budget) = super::budget::of(ctx) {
        budget.spend_bytes(before.map_or(0, str::len) + after.map_or(0, str::len))?;
    }
    Ok(service::asset_version::revision::diff(before, after)?
        .into_iter()
        .map(|(field, before, after)| FieldChange {
            field,
            before: Json(before),
            after: Json(after),
        })
        .collect())
}

/// What a revision did.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::asset_revision::Action")]
pub enum RevisionAction {
    Create,
    Update,
    Archive,
    /// A moderator published an asset that waited for approval.
    Approve,
    /// A moderator turned down an asset that waited for approval.
    Reject,
    /// A moderator put back an earlier version.
    Restore,
    /// An editor confirmed the listing is still right (the content did not change).
    Verify,
    /// Loaded by a bulk import.
    Import,
    /// A moderator took the listing down for review: it waits for approval again.
    TakeDown,
}

/// One change in an asset's history. History is append-only: nothing rewrites it.
pub struct AssetRevision(pub asset_revision::Model);

#[Object]
impl AssetRevision {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The asset's version after this change (a verification keeps the version).
    async fn version(&self) -> i32 {
        self.0.version
    }

    async fn action(&self) -> RevisionAction {
        self.0.action.into()
    }

    /// Who made the change: the token holder's name.
    async fn actor(&self) -> &str {
        &self.0.actor_name
    }

    /// The moderator who approved it, when it waited for one.
    async fn approved_by(&self) -> Option<&str> {
        self.0.approved_by.as_deref()
    }

    /// When (RFC 3339, UTC).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// The fields it changed, before and after; empty for approvals, rejections,
    /// verifications and imports, which change no content.
    async fn changes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<FieldChange>> {
        if self.0.before.is_none() && self.0.after.is_none() {
            return Ok(Vec::new());
        }
        Ok(changes(
            ctx,
            self.0.before.as_deref(),
            self.0.after.as_deref(),
        )?)
    }
}

/// Where a proposed change stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::pending_change::ChangeStatus")]
pub enum ChangeStatus {
    /// Waits for a moderator.
    Pending,
    Approved,
    Rejected,
}

/// What a proposed change would do.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::pending_change::ChangeAction")]
pub enum ChangeAction {
    /// Publish a new asset.
    Create,
    /// Change an asset.
    Update,
    /// Archive an asset.
    Archive,
}

/// A change proposed by an editor of an organization that is not trusted. Until a
/// moderator approves it, the public sees the asset as it was (or, for a new asset, not
/// at all).
pub struct PendingChange(pub pending_change::Model);

#[Object]
impl PendingChange {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The asset as it is now (for a proposed new asset: as proposed).
    async fn asset(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Asset>> {
        let db = ctx.data::<Db>()?;
        Ok(service::assets::load_ordered(db, &[self.0.asset_id])
            .await?
            .into_iter()
            .next()
            .map(Asset))
    }

    async fn action(&self) -> ChangeAction {
        self.0.action.into()
    }

    async fn status(&self) -> ChangeStatus {
        self.0.status.into()
    }

    /// The asset's version the change was made against; it applies to that version only.
    async fn base_version(&self) -> i32 {
        self.0.base_version
    }

    /// Who proposed it: the token holder's name.
    async fn proposed_by(&self) -> &str {
        &self.0.proposed_by_name
    }

    async fn proposed_at(&self) -> DateTime<Utc> {
        self.0.proposed_at
    }

    /// The diff: each field the change sets, as it was when proposed and as proposed.
    async fn changes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<FieldChange>> {
        Ok(changes(ctx, self.0.before.as_deref(), Some(&self.0.after))?)
    }

    /// The moderator who decided, once decided.
    async fn decided_by(&self) -> Option<&str> {
        self.0.decided_by.as_deref()
    }

    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }

    /// Why a moderator rejected it.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
}

/// A pending change in a page of them.
#[derive(SimpleObject)]
pub struct PendingChangeEdge {
    pub node: PendingChange,
    /// Opaque; pass as `after` to continue after this edge.
    pub cursor: String,
}

/// A page of pending changes, oldest first.
#[derive(SimpleObject)]
pub struct PendingChangeConnection {
    pub edges: Vec<PendingChangeEdge>,
    pub page_info: PageInfo,
}
