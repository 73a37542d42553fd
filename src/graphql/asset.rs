//! An asset as the API shows it, and the enums that describe one. Doc comments here
//! become the SDL's descriptions.

use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use entity::asset;
use uuid::Uuid;

use super::context;
use super::loaders::{Cached, CategoriesByAsset, OrganizationById};
use super::organization::{Category, Organization};
use super::scalars::GeoJsonText;
use super::trust;
use crate::domain::hours::{Hours, check_time};
use crate::domain::listing::Accessibility;
use crate::domain::{AssetStatus as Stored, Moderation, PageSize};
use crate::error::{AppError, AppResult};

/// What an asset is. Each kind allows certain geometry types: PARK, GREEN_SPACE and VENUE
/// a Point, Polygon or MultiPolygon; CYCLE_PATH and WALKING_ROUTE a LineString or
/// MultiLineString; COMMUNITY_GROUP, CHARITY and SERVICE a Point or MultiPoint; ACTIVITY a
/// point or a line (a walk); HEALTH_CHAMPION a Point.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::AssetKind")]
pub enum AssetKind {
    /// A public park or garden.
    Park,
    /// Other green space: playing fields, allotments, play areas, churchyards.
    GreenSpace,
    CyclePath,
    WalkingRoute,
    /// A group that meets: a walking group, a lunch club, a sports club.
    CommunityGroup,
    Charity,
    /// Something to take part in: a class, a session, a guided walk.
    Activity,
    /// A building people go to: a library, a community centre.
    Venue,
    /// A service people use: a food bank, an advice service.
    Service,
    /// A volunteer health champion.
    HealthChampion,
}

/// Accessibility features, a fixed and documented set. A filter on them requires every
/// listed feature.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::listing::Accessibility")]
pub enum AccessibilityFeature {
    /// Level or ramped entrance and routes inside: no steps.
    StepFreeAccess,
    /// A toilet for wheelchair users.
    AccessibleToilet,
    /// An induction loop for hearing aids.
    HearingLoop,
    /// A quiet room or space to step away to.
    QuietSpace,
    /// Staff trained and a setting adapted for people living with dementia.
    DementiaFriendly,
    /// A Changing Places toilet: hoist, adult changing bench, room for two carers.
    ChangingPlaces,
    /// Somewhere to sit down, inside or along the route.
    Seating,
    /// Blue badge or accessible parking close by.
    AccessibleParking,
    /// British Sign Language interpretation available.
    BslInterpretation,
    /// Information in large print.
    LargePrint,
    /// Assistance dogs welcome.
    AssistanceDogsWelcome,
    /// A lift to every floor used.
    Lift,
}

/// Whether an asset is listed. Archived assets never appear in searches but can still be
/// fetched by id, so clients holding one learn that it is gone.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AssetStatus {
    /// Listed: appears in searches.
    Active,
    /// Taken off the map: readable by id only.
    Archived,
    /// Proposed by an editor of an organization that is not trusted; waits for a
    /// moderator. Seen only by that organization's editors and by moderators.
    Pending,
    /// Proposed and turned down by a moderator; never published.
    Rejected,
}

pub fn parse_id(field: &'static str, id: &ID) -> AppResult<Uuid> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| AppError::invalid(field, format!("{field} is not an id issued by this API")))
}

/// A community asset: anything a community can draw on.
pub struct Asset(pub asset::Model);

impl Asset {
    fn hours(&self) -> AppResult<Option<Hours>> {
        self.0
            .opening_hours
            .as_deref()
            .map(Hours::parse)
            .transpose()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("stored opening hours do not parse")))
    }

    /// History and pending changes are for the asset's own editors and moderators.
    fn require_member(&self, ctx: &Context<'_>) -> AppResult<()> {
        let actor = context::actor(ctx)?;
        if actor.may_edit(self.0.organization_id) {
            Ok(())
        } else {
            Err(AppError::forbidden(
                "only the asset's organization's editors and moderators see this",
            ))
        }
    }
}

#[Object]
impl Asset {
    /// A UUID, unique across replicas and offline clients.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// What the asset is; decides which geometry types it may have.
    async fn kind(&self) -> AssetKind {
        self.0.kind.into()
    }

    /// The name residents know it by.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What it offers, in plain words.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The asset's geometry as an RFC 7946 GeoJSON object, (longitude, latitude), WGS84.
    /// For people (HEALTH_CHAMPION) it is the centre of a grid cell about 1 km across,
    /// never where they are, except for their own organization's editors and moderators.
    async fn geometry(&self, ctx: &Context<'_>) -> async_graphql::Result<GeoJsonText<'_>> {
        let text = match &self.0.exact_geometry {
            Some(exact) if context::principal(ctx).sees(self.0.organization_id) => exact,
            _ => &self.0.geometry,
        };
        if let Some(budget) = super::budget::of(ctx) {
            budget.spend(Some(self.0.id), text.len())?;
        }
        Ok(GeoJsonText(text))
    }

    /// When it is open, in OpenStreetMap `opening_hours` syntax
    /// (<https://wiki.openstreetmap.org/wiki/Key:opening_hours>), in UK time; `PH` means
    /// the bank holidays of England and Wales. Null when not known.
    async fn opening_hours(&self) -> Option<&str> {
        self.0.opening_hours.as_deref()
    }

    /// Whether it is open at `at` (default now). Null when its hours are not known: an
    /// asset with no hours is neither open nor closed.
    async fn is_open(&self, at: Option<DateTime<Utc>>) -> async_graphql::Result<Option<bool>> {
        let at = check_time("at", at.unwrap_or_else(crate::service::now))?;
        Ok(self.hours()?.map(|h| h.is_open(at)))
    }

    /// The first time at or after `after` (default now) when it is open, within a year.
    /// Null when its hours are not known or it does not open within a year.
    async fn next_open(
        &self,
        after: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Option<DateTime<Utc>>> {
        let after = check_time("after", after.unwrap_or_else(crate::service::now))?;
        Ok(self.hours()?.and_then(|h| h.next_open(after)))
    }

    /// Its accessibility features.
    async fn accessibility(&self) -> Vec<AccessibilityFeature> {
        Accessibility::from_mask(self.0.accessibility)
            .into_iter()
            .map(AccessibilityFeature::from)
            .collect()
    }

    /// Free to use; null when not known.
    async fn free(&self) -> Option<bool> {
        self.0.free
    }

    /// What it costs, in words ("£2 a session, carers free").
    async fn cost_note(&self) -> Option<&str> {
        self.0.cost_note.as_deref()
    }

    /// The youngest age it is for, in years; null for no lower limit.
    async fn min_age(&self) -> Option<i32> {
        self.0.min_age
    }

    /// The oldest age it is for, in years; null for no upper limit.
    async fn max_age(&self) -> Option<i32> {
        self.0.max_age
    }

    /// Needs-and-interests categories, by slug.
    #[graphql(complexity = "5 + child_complexity")]
    async fn categories(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Category>> {
        let loader = ctx.data::<Cached<CategoriesByAsset>>()?;
        Ok(loader
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Category)
            .collect())
    }

    /// The group or charity that runs the asset, if any.
    #[graphql(complexity = "5 + child_complexity")]
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        let Some(id) = self.0.organization_id else {
            return Ok(None);
        };
        let loader = ctx.data::<Cached<OrganizationById>>()?;
        Ok(loader.load_one(id).await?.map(Organization))
    }

    /// Postal address, free text.
    async fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }

    /// UK postcode, as published.
    async fn postcode(&self) -> Option<&str> {
        self.0.postcode.as_deref()
    }

    /// Web address, as published.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }

    /// Contact email address.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    /// Contact telephone number, as published.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }

    /// Whether the asset is listed, archived, or not (yet) published.
    async fn status(&self) -> AssetStatus {
        match (self.0.moderation, self.0.status) {
            (Moderation::Pending, _) => AssetStatus::Pending,
            (Moderation::Rejected, _) => AssetStatus::Rejected,
            (Moderation::Approved, Stored::Archived) => AssetStatus::Archived,
            (Moderation::Approved, Stored::Active) => AssetStatus::Active,
        }
    }

    /// When an editor last confirmed that the listing is still right (`verifyAsset`);
    /// null if never. Separate from `updatedAt`: confirming is not changing.
    async fn last_verified_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_verified_at
    }

    /// The asset's history, newest first: every change, who made it, when, and each
    /// field before and after. For the asset's organization's editors and moderators.
    /// `last` is 1 to 100 (default 20).
    #[graphql(complexity = "5 + PageSize::cost(last, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        last: Option<i32>,
    ) -> async_graphql::Result<Vec<trust::AssetRevision>> {
        self.require_member(ctx)?;
        let db = ctx.data::<crate::db::Db>()?;
        let last = PageSize::named("last", last)?;
        Ok(crate::service::assets::history(db, self.0.id, last.get())
            .await?
            .into_iter()
            .map(trust::AssetRevision)
            .collect())
    }

    /// Changes proposed for this asset that wait for a moderator, oldest first. For the
    /// asset's organization's editors and moderators.
    #[graphql(complexity = "5 + 10 * child_complexity")]
    async fn pending_changes(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<trust::PendingChange>> {
        self.require_member(ctx)?;
        let db = ctx.data::<crate::db::Db>()?;
        Ok(crate::service::assets::pending_for(db, self.0.id)
            .await?
            .into_iter()
            .map(trust::PendingChange)
            .collect())
    }

    /// Starts at 1 and goes up by one with every change; pass it back as
    /// `expectedVersion` to change the asset.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When the asset was created (RFC 3339, UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the asset last changed (RFC 3339, UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// When the asset was archived; null while it is active.
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.0.archived_at
    }
}
