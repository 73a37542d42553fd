//! The mutation root.

use async_graphql::{Context, ID, MaybeUndefined, Object};

use super::trust::{self, PendingChange};
use super::types::AccessibilityFeature;
use super::types::{
    Asset, CreateAssetInput, CreateOrganizationInput, Organization, UpdateAssetInput, parse_id,
};
use crate::db::Db;
use crate::domain::asset::{Contact, Details, parse_email};
use crate::domain::hours::Hours;
use crate::domain::listing::{Accessibility, AgeRange};
use crate::domain::{AssetKind, AssetPatch, NewAsset, Text, ValidGeometry};
use crate::error::AppError;
use crate::error::AppResult;
use crate::service;

pub struct MutationRoot;

fn text(field: &'static str, v: Option<&str>) -> AppResult<Option<Text>> {
    Text::parse_opt(field, v, Text::FIELD_MAX)
}

/// `undefined` leaves a field alone; `null` or empty text clears it.
fn patch_text(
    field: &'static str,
    v: &MaybeUndefined<String>,
    max: usize,
) -> AppResult<Option<Option<Text>>> {
    match v {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(s) => Text::parse_opt(field, Some(s), max).map(Some),
    }
}

fn hours(v: Option<&str>) -> AppResult<Option<Hours>> {
    v.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(Hours::parse)
        .transpose()
}

fn features(v: Vec<AccessibilityFeature>) -> Vec<Accessibility> {
    v.into_iter().map(Into::into).collect()
}

fn patch_value<T: Clone>(v: &MaybeUndefined<T>) -> Option<Option<T>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(x) => Some(Some(x.clone())),
    }
}

fn new_asset(input: CreateAssetInput) -> AppResult<NewAsset> {
    let details = Details {
        opening_hours: hours(input.opening_hours.as_deref())?,
        accessibility: features(input.accessibility.clone().unwrap_or_default()),
        free: input.free,
        cost_note: text("costNote", input.cost_note.as_deref())?,
        ages: AgeRange::new(input.min_age, input.max_age)?,
    };
    let mut new = new_asset_core(input)?;
    new.details = details;
    Ok(new)
}

fn new_asset_core(input: CreateAssetInput) -> AppResult<NewAsset> {
    let kind = AssetKind::from(input.kind);
    let geometry = ValidGeometry::parse(&input.geometry.0)?;
    let organization_id = input
        .organization_id
        .as_ref()
        .map(|id| parse_id("organizationId", id))
        .transpose()?;
    NewAsset::new(
        kind,
        Text::parse("name", &input.name, Text::NAME_MAX)?,
        Text::parse_opt(
            "description",
            input.description.as_deref(),
            Text::DESCRIPTION_MAX,
        )?,
        geometry,
        input.categories.unwrap_or_default(),
        organization_id,
        Contact {
            address: text("address", input.address.as_deref())?,
            postcode: text("postcode", input.postcode.as_deref())?,
            website: text("website", input.website.as_deref())?,
            email: parse_email(input.email.as_deref())?,
            phone: text("phone", input.phone.as_deref())?,
        },
    )
}

fn patch_age(field: &'static str, v: &MaybeUndefined<i32>) -> AppResult<Option<Option<i32>>> {
    match patch_value(v) {
        Some(Some(age)) if !(0..=AgeRange::OLDEST).contains(&age) => Err(AppError::invalid(
            field,
            format!("{field} is 0 to {}", AgeRange::OLDEST),
        )),
        other => Ok(other),
    }
}

fn patch(input: UpdateAssetInput) -> AppResult<AssetPatch> {
    let email = match &input.email {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(s) => Some(parse_email(Some(s))?),
    };
    let organization_id = match &input.organization_id {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(id) => Some(Some(parse_id("organizationId", id)?)),
    };
    Ok(AssetPatch {
        kind: input.kind.map(AssetKind::from),
        name: input
            .name
            .as_deref()
            .map(|n| Text::parse("name", n, Text::NAME_MAX))
            .transpose()?,
        description: patch_text("description", &input.description, Text::DESCRIPTION_MAX)?,
        geometry: input
            .geometry
            .as_ref()
            .map(|g| ValidGeometry::parse(&g.0))
            .transpose()?,
        categories: input
            .categories
            .map(crate::domain::asset::dedup_categories)
            .transpose()?,
        organization_id,
        address: patch_text("address", &input.address, Text::FIELD_MAX)?,
        postcode: patch_text("postcode", &input.postcode, Text::FIELD_MAX)?,
        website: patch_text("website", &input.website, Text::FIELD_MAX)?,
        email,
        phone: patch_text("phone", &input.phone, Text::FIELD_MAX)?,
        opening_hours: match &input.opening_hours {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(t) => Some(hours(Some(t))?),
        },
        accessibility: input.accessibility.map(features),
        free: patch_value(&input.free),
        cost_note: patch_text("costNote", &input.cost_note, Text::FIELD_MAX)?,
        min_age: patch_age("minAge", &input.min_age)?,
        max_age: patch_age("maxAge", &input.max_age)?,
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
        let actor = trust::actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let key = idempotency_key
            .as_deref()
            .map(service::assets::Idempotency::check_key)
            .transpose()?;
        let new = new_asset(input)?;
        Ok(Asset(service::assets::create(db, actor, new, key).await?))
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
        let actor = trust::actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let id = parse_id("id", &id)?;
        let patch = patch(input)?;
        Ok(Asset(
            service::assets::update(db, actor, id, expected_version, patch).await?,
        ))
    }

    /// Archives an asset: it leaves every search but stays readable by id, and a
    /// moderator can restore it. Same rules as `updateAsset`.
    async fn archive_asset(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> async_graphql::Result<Asset> {
        let actor = trust::actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let id = parse_id("id", &id)?;
        Ok(Asset(
            service::assets::archive(db, actor, id, expected_version).await?,
        ))
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
        let actor = trust::actor(ctx)?;
        let db = ctx.data::<Db>()?;
        let id = parse_id("id", &id)?;
        Ok(Asset(
            service::assets::verify(db, actor, id, expected_version).await?,
        ))
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
        let actor = trust::principal(ctx).require_moderator()?;
        let db = ctx.data::<Db>()?;
        let id = parse_id("id", &id)?;
        Ok(Asset(
            service::assets::restore(db, actor, id, expected_version, to_version).await?,
        ))
    }

    /// Moderators: publishes a pending change. It applies only to the version it was
    /// proposed against; if the asset changed since, the error is `CONFLICT`: reject it.
    async fn approve_change(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<PendingChange> {
        let actor = trust::principal(ctx).require_moderator()?;
        let db = ctx.data::<Db>()?;
        let id = parse_id("id", &id)?;
        Ok(PendingChange(
            service::moderation::approve(db, actor, id).await?,
        ))
    }

    /// Moderators: turns a pending change down, with a reason its editors will see (1 to
    /// 500 characters).
    async fn reject_change(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> async_graphql::Result<PendingChange> {
        let actor = trust::principal(ctx).require_moderator()?;
        let db = ctx.data::<Db>()?;
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
        trust::principal(ctx).require_moderator()?;
        let db = ctx.data::<Db>()?;
        let new = service::organizations::NewOrganization {
            name: Text::parse("name", &input.name, Text::NAME_MAX)?,
            description: Text::parse_opt(
                "description",
                input.description.as_deref(),
                Text::DESCRIPTION_MAX,
            )?,
            website: text("website", input.website.as_deref())?,
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
        let actor = trust::actor(ctx)?;
        let db = ctx.data::<Db>()?;
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
    ) -> async_graphql::Result<super::types::Category> {
        let actor = trust::actor(ctx)?;
        if actor.role != crate::auth::Role::Admin {
            return Err(
                crate::error::AppError::forbidden("only an admin may add categories").into(),
            );
        }
        let db = ctx.data::<Db>()?;
        let slug = crate::domain::asset::parse_slug(&slug)?;
        let name = Text::parse("name", &name, Text::NAME_MAX)?;
        let parent = parent_slug
            .as_deref()
            .map(crate::domain::asset::parse_slug)
            .transpose()?;
        Ok(super::types::Category(
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
        trust::principal(ctx).require_moderator()?;
        let db = ctx.data::<Db>()?;
        let id = parse_id("id", &id)?;
        Ok(Organization(
            service::organizations::set_trusted(db, id, trusted).await?,
        ))
    }
}
