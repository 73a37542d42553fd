//! The mutation root.

use async_graphql::{Context, ID, MaybeUndefined, Object};

use super::types::{
    Asset, CreateAssetInput, CreateOrganizationInput, Organization, UpdateAssetInput, parse_id,
};
use crate::db::Db;
use crate::domain::asset::{Contact, parse_email};
use crate::domain::{AssetKind, AssetPatch, NewAsset, Text, ValidGeometry};
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

fn new_asset(input: CreateAssetInput) -> AppResult<NewAsset> {
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
    })
}

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Creates an asset at version 1.
    async fn create_asset(
        &self,
        ctx: &Context<'_>,
        input: CreateAssetInput,
    ) -> async_graphql::Result<Asset> {
        let db = ctx.data::<Db>()?;
        let new = new_asset(input)?;
        Ok(Asset(service::assets::create(db, new).await?))
    }

    /// Changes an asset. `expectedVersion` is the version the change was based on; if the
    /// asset has moved on since, nothing changes and the error is `CONFLICT` with
    /// `extensions.currentVersion`.
    async fn update_asset(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateAssetInput,
    ) -> async_graphql::Result<Asset> {
        let db = ctx.data::<Db>()?;
        let id = parse_id("id", &id)?;
        let patch = patch(input)?;
        Ok(Asset(
            service::assets::update(db, id, expected_version, patch).await?,
        ))
    }

    /// Archives an asset: it leaves every search but stays readable by id. Same
    /// `expectedVersion` rule as `updateAsset`.
    async fn archive_asset(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
    ) -> async_graphql::Result<Asset> {
        let db = ctx.data::<Db>()?;
        let id = parse_id("id", &id)?;
        Ok(Asset(
            service::assets::archive(db, id, expected_version).await?,
        ))
    }

    /// Creates an organization that assets can belong to.
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        input: CreateOrganizationInput,
    ) -> async_graphql::Result<Organization> {
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
        };
        Ok(Organization(service::organizations::create(db, new).await?))
    }
}
