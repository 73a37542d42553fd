//! The mutation root.

use async_graphql::{Context, ID, Object};

use super::asset::{Asset, parse_id};
use super::asset_input::{CreateAssetInput, UpdateAssetInput, text};
use super::context;
use super::organization::{Category, CreateOrganizationInput, Organization};
use super::trust::PendingChange;
use crate::db::Db;
use crate::domain::AtVersion;
use crate::domain::Text;
use crate::domain::text::{parse_email, parse_slug};
use crate::error::{AppError, AppResult};
use crate::service;
use crate::service::idempotency::IdempotencyKey;

pub struct MutationRoot;

/// The asset `id` at the version the caller last read.
fn at_version(id: &ID, expected_version: i32) -> AppResult<AtVersion> {
    Ok(AtVersion {
        id: parse_id("id", id)?,
        version: expected_version,
    })
}

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Creates an asset at version 1. Editors create assets only for their own
    /// organizations; if the organization is not trusted, the asset waits for a moderator
    /// (status PENDING) and is not public until approved. `idempotencyKey` (up to 200
    /// characters, your choice, e.g. a UUID) makes a retry safe: sent again with the same
    /// key and input, the asset made the first time is returned instead of a duplicate.
    async fn create_asset(
        &self,
        ctx: &Context<'_>,
        input: CreateAssetInput,
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<Asset> {
        let (actor, db) = context::caller(ctx)?;
        let key = idempotency_key
            .as_deref()
            .map(IdempotencyKey::parse)
            .transpose()?;
        let content = input.into_content()?;
        Ok(Asset(
            service::assets::create(db, actor, content, key).await?,
        ))
    }

    /// Changes an asset. `expectedVersion` is the version the change was based on; if the
    /// asset has moved on since, nothing changes and the error is `CONFLICT` with
    /// `extensions.currentVersion`. Editors change assets of their own organizations only,
    /// and move them only between those; if the organization is not trusted, the change
    /// waits for a moderator and the asset is returned unchanged (see its
    /// `pendingChanges`).
    async fn update_asset(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateAssetInput,
    ) -> async_graphql::Result<Asset> {
        let (actor, db) = context::caller(ctx)?;
        let at = at_version(&id, expected_version)?;
        let patch = input.into_patch()?;
        Ok(Asset(service::assets::update(db, actor, at, patch).await?))
    }

    /// Archives an asset: it leaves every search but stays readable by id, and a
    /// moderator can restore it. Same rules as `updateAsset`.
    async fn archive_asset(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> async_graphql::Result<Asset> {
        let (actor, db) = context::caller(ctx)?;
        let at = at_version(&id, expected_version)?;
        Ok(Asset(service::assets::archive(db, actor, at).await?))
    }

    /// Confirms that the listing, as at `expectedVersion`, is still right: sets
    /// `lastVerifiedAt` (not `updatedAt` nor `version`) and records it in the history.
    /// For the asset's organization's editors and moderators; never waits for approval.
    async fn verify_asset(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> async_graphql::Result<Asset> {
        let (actor, db) = context::caller(ctx)?;
        let at = at_version(&id, expected_version)?;
        Ok(Asset(service::assets::verify(db, actor, at).await?))
    }

    /// Moderators: puts an asset back as it was at `toVersion` (see `Asset.history`), as
    /// a new version. Restores an archived asset too: give the version before it was
    /// archived.
    async fn restore_asset(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        to_version: i32,
    ) -> async_graphql::Result<Asset> {
        let (actor, db) = context::moderator(ctx)?;
        let at = at_version(&id, expected_version)?;
        Ok(Asset(
            service::assets::restore(db, actor, at, to_version).await?,
        ))
    }

    /// Moderators: publishes a pending change. It applies only to the version it was
    /// proposed against; if the asset changed since, the error is `CONFLICT`: reject it.
    async fn approve_change(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<PendingChange> {
        let (actor, db) = context::moderator(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(PendingChange(
            service::moderation::approve(db, actor, id).await?,
        ))
    }

    /// Moderators: takes a published asset down for review (after a complaint, say). It
    /// leaves every search and sync clients see it deleted; it waits in `pendingChanges`
    /// as a proposed asset (status PENDING), to be approved again or rejected.
    async fn take_down_asset(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> async_graphql::Result<Asset> {
        let (actor, db) = context::moderator(ctx)?;
        let at = at_version(&id, expected_version)?;
        Ok(Asset(service::moderation::take_down(db, actor, at).await?))
    }

    /// Moderators: turns a pending change down, with a reason its editors will see (1 to
    /// 500 characters).
    async fn reject_change(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> async_graphql::Result<PendingChange> {
        let (actor, db) = context::moderator(ctx)?;
        let id = parse_id("id", &id)?;
        let reason = Text::parse("reason", &reason, Text::FIELD_MAX)?;
        Ok(PendingChange(
            service::moderation::reject(db, actor, id, reason).await?,
        ))
    }

    /// Moderators: creates an organization that assets can belong to.
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        input: CreateOrganizationInput,
    ) -> async_graphql::Result<Organization> {
        context::principal(ctx).require_moderator()?;
        let db = ctx.data::<Db>()?;
        let new = service::organizations::NewOrganization {
            name: Text::name(&input.name)?,
            description: Text::description(input.description.as_deref())?,
            website: crate::domain::text::parse_website(input.website.as_deref())?,
            email: parse_email(input.email.as_deref())?,
            phone: text("phone", input.phone.as_deref())?,
            trusted: input.trusted.unwrap_or(false),
        };
        Ok(Organization(service::organizations::create(db, new).await?))
    }

    /// Makes a shortlist of 1 to 20 listed assets, with an optional note (up to 1 000
    /// characters), for a resident; returns its code. Link workers, editors, moderators
    /// and admins. A shortlist must hold no personal data: there is no field for a name,
    /// NHS number, address or phone number, and a note that looks like it holds one is
    /// refused (`INVALID_INPUT`). It expires after the days the server is configured with
    /// (90 by default).
    async fn create_shortlist(
        &self,
        ctx: &Context<'_>,
        asset_ids: Vec<ID>,
        note: Option<String>,
    ) -> async_graphql::Result<super::shortlists::Shortlist> {
        let (actor, db) = context::caller(ctx)?;
        let ids = super::shortlists::id_list(&asset_ids)?;
        let note = service::shortlists::check_note(note.as_deref())?;
        let days = super::shortlists::days(ctx);
        let (list, assets) = service::shortlists::create(db, actor, &ids, note, days).await?;
        Ok(super::shortlists::Shortlist { list, assets })
    }

    /// Admins: adds a term to the needs-and-interests taxonomy, optionally under a parent
    /// (`parentSlug`). The slug is lowercase letters, digits and hyphens, and stays stable.
    async fn create_category(
        &self,
        ctx: &Context<'_>,
        slug: String,
        name: String,
        parent_slug: Option<String>,
    ) -> async_graphql::Result<Category> {
        let actor = context::actor(ctx)?;
        if actor.role != crate::auth::Role::Admin {
            return Err(AppError::forbidden("only an admin may add categories").into());
        }
        let db = ctx.data::<Db>()?;
        let slug = parse_slug(&slug)?;
        let name = Text::name(&name)?;
        let parent = parent_slug.as_deref().map(parse_slug).transpose()?;
        Ok(Category(
            service::categories::create(db, &slug, name, parent.as_deref()).await?,
        ))
    }

    /// Moderators: trusts an organization (its editors' changes publish at once) or
    /// stops trusting it (they wait for a moderator).
    async fn set_organization_trusted(
        &self,
        ctx: &Context<'_>,
        id: ID,
        trusted: bool,
    ) -> async_graphql::Result<Organization> {
        context::principal(ctx).require_moderator()?;
        let db = ctx.data::<Db>()?;
        let id = parse_id("id", &id)?;
        Ok(Organization(
            service::organizations::set_trusted(db, id, trusted).await?,
        ))
    }
}
