//! Output and input types. Doc comments here become the SDL's descriptions.

use async_graphql::{
    ComplexObject, Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject,
};
use chrono::{DateTime, Utc};
use entity::{asset, category, organization};
use uuid::Uuid;

use super::loaders::{Cached, CategoriesByAsset, CategoryById, OrganizationById};
use super::scalars::GeoJson;
use crate::domain::{self, AssetKind as Kind};
use crate::error::{AppError, AppResult};
use crate::service::search::{Asked, Page};
use std::sync::Arc;

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
    fn hours(&self) -> AppResult<Option<crate::domain::hours::Hours>> {
        self.0
            .opening_hours
            .as_deref()
            .map(crate::domain::hours::Hours::parse)
            .transpose()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("stored opening hours do not parse")))
    }

    /// History and pending changes are for the asset's own editors and moderators.
    fn require_member(&self, ctx: &Context<'_>) -> AppResult<()> {
        let actor = super::trust::actor(ctx)?;
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
    async fn kind(&self) -> async_graphql::Result<AssetKind> {
        Kind::parse(&self.0.kind)
            .map(AssetKind::from)
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("stored kind {:?}", self.0.kind)).into()
            })
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
    async fn geometry(&self, ctx: &Context<'_>) -> async_graphql::Result<GeoJson> {
        let text = match &self.0.exact_geometry {
            Some(exact) if super::trust::principal(ctx).sees(self.0.organization_id) => exact,
            _ => &self.0.geometry,
        };
        serde_json::from_str(text)
            .map(GeoJson)
            .map_err(|e| AppError::Internal(e.into()).into())
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
        let at = crate::domain::hours::check_time("at", at.unwrap_or_else(crate::service::now))?;
        Ok(self.hours()?.map(|h| h.is_open(at)))
    }

    /// The first time at or after `after` (default now) when it is open, within a year.
    /// Null when its hours are not known or it does not open within a year.
    async fn next_open(
        &self,
        after: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Option<DateTime<Utc>>> {
        let after =
            crate::domain::hours::check_time("after", after.unwrap_or_else(crate::service::now))?;
        Ok(self.hours()?.and_then(|h| h.next_open(after)))
    }

    /// Its accessibility features.
    async fn accessibility(&self) -> Vec<AccessibilityFeature> {
        crate::domain::listing::Accessibility::from_mask(self.0.accessibility)
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
        use crate::service::assets::{ARCHIVED, PENDING, REJECTED};
        match (self.0.moderation.as_str(), self.0.status.as_str()) {
            (PENDING, _) => AssetStatus::Pending,
            (REJECTED, _) => AssetStatus::Rejected,
            (_, ARCHIVED) => AssetStatus::Archived,
            _ => AssetStatus::Active,
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
    #[graphql(complexity = "5 + last.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        last: Option<i32>,
    ) -> async_graphql::Result<Vec<super::trust::AssetRevision>> {
        self.require_member(ctx)?;
        let db = ctx.data::<crate::db::Db>()?;
        let last = crate::domain::PageSize::new(last)?;
        Ok(crate::service::assets::history(db, self.0.id, last.get())
            .await?
            .into_iter()
            .map(super::trust::AssetRevision)
            .collect())
    }

    /// Changes proposed for this asset that wait for a moderator, oldest first. For the
    /// asset's organization's editors and moderators.
    #[graphql(complexity = "5 + 10 * child_complexity")]
    async fn pending_changes(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::trust::PendingChange>> {
        self.require_member(ctx)?;
        let db = ctx.data::<crate::db::Db>()?;
        Ok(crate::service::assets::pending_for(db, self.0.id)
            .await?
            .into_iter()
            .map(super::trust::PendingChange)
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

/// Relay page information.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// More results follow: ask again with `after: endCursor`.
    pub has_next_page: bool,
    /// True when this page was asked for with `after`.
    pub has_previous_page: bool,
    /// The cursor of the first edge; null on an empty page.
    pub start_cursor: Option<String>,
    /// The cursor of the last edge, to pass as `after`; null on an empty page.
    pub end_cursor: Option<String>,
}

/// An asset in a page of assets.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct AssetEdge {
    pub node: Asset,
    /// Opaque; pass as `after` to continue after this edge.
    pub cursor: String,
    #[graphql(skip)]
    pub asked: Arc<Asked>,
}

#[ComplexObject]
impl AssetEdge {
    /// Why this asset matched the search, in words a link worker can pass on.
    #[graphql(complexity = "5")]
    async fn reasons(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<MatchReason>> {
        reasons(ctx, &self.node, None, &self.asked).await
    }
}

/// What a reason is about.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum MatchReasonKind {
    /// How far away it is.
    Distance,
    /// It is in a category that was asked for.
    Category,
    /// It is open at the time asked for (or its hours are not known).
    Open,
    /// It has the accessibility features asked for.
    Accessibility,
    /// It is free.
    Free,
    /// It is for the age asked for.
    Age,
    /// Its organization confirmed it recently.
    Verified,
    /// Its name, description or categories have the words searched for.
    Text,
}

/// One reason a search result matched.
#[derive(SimpleObject)]
pub struct MatchReason {
    pub kind: MatchReasonKind,
    /// In plain words, e.g. "1.2 km away", "Lunch clubs", "open Mon 23 Nov 10:00".
    pub detail: String,
}

fn distance_words(meters: f64) -> String {
    if meters < 1.0 {
        "here: the search point is inside it".to_owned()
    } else if meters < 1_000.0 {
        format!("{} m away", (meters / 10.0).round() * 10.0)
    } else {
        format!("{:.1} km away", meters / 1_000.0)
    }
}

async fn reasons(
    ctx: &Context<'_>,
    node: &Asset,
    distance: Option<f64>,
    asked: &Asked,
) -> async_graphql::Result<Vec<MatchReason>> {
    use crate::domain::listing::Accessibility;
    let filter = &asked.filter;
    let mut out = Vec::new();
    let mut say = |kind, detail: String| out.push(MatchReason { kind, detail });
    if let Some(d) = distance {
        say(MatchReasonKind::Distance, distance_words(d));
    }
    if !asked.category_ids.is_empty() {
        let loader = ctx.data::<Cached<CategoriesByAsset>>()?;
        let categories = loader.load_one(node.0.id).await?.unwrap_or_default();
        let matched: Vec<String> = categories
            .into_iter()
            .filter(|c| asked.category_ids.contains(&c.id))
            .map(|c| c.name)
            .collect();
        if !matched.is_empty() {
            say(MatchReasonKind::Category, matched.join(", "));
        }
    }
    if let Some(at) = filter.open_at {
        let local = at.with_timezone(&chrono_tz::Europe::London);
        say(
            MatchReasonKind::Open,
            if node.0.opening_hours.is_some() {
                format!("open {}", local.format("%a %-d %b %H:%M"))
            } else {
                "opening hours not known".to_owned()
            },
        );
    }
    if filter.accessibility != 0 {
        let names: Vec<String> = Accessibility::from_mask(filter.accessibility)
            .into_iter()
            .map(|f| f.name().to_lowercase().replace('_', " "))
            .collect();
        say(MatchReasonKind::Accessibility, names.join(", "));
    }
    if filter.free == Some(true) {
        say(MatchReasonKind::Free, "free".to_owned());
    }
    if let Some(age) = filter.age {
        say(
            MatchReasonKind::Age,
            match (node.0.min_age, node.0.max_age) {
                (None, None) => format!("open to all ages, {age} included"),
                (Some(lo), None) => format!("for {lo} and over"),
                (None, Some(hi)) => format!("for {hi} and under"),
                (Some(lo), Some(hi)) => format!("for ages {lo} to {hi}"),
            },
        );
    }
    if filter.verified_since.is_some()
        && let Some(at) = node.0.last_verified_at
    {
        say(
            MatchReasonKind::Verified,
            format!("confirmed by its organisers on {}", at.format("%-d %b %Y")),
        );
    }
    if let Some(text) = &filter.text {
        say(
            MatchReasonKind::Text,
            format!(
                "mentions {}",
                crate::domain::search::search_words(text).join(", ")
            ),
        );
    }
    Ok(out)
}

/// A page of assets.
#[derive(SimpleObject)]
pub struct AssetConnection {
    pub edges: Vec<AssetEdge>,
    pub page_info: PageInfo,
}

/// An asset in a page of search results, with its distance.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct AssetSearchEdge {
    pub node: Asset,
    /// Opaque; pass as `after` to continue after this edge.
    pub cursor: String,
    /// Geodesic distance in metres on the WGS84 ellipsoid from the query point or
    /// geometry to the nearest point of the asset's geometry; 0 inside a polygon.
    pub distance_meters: f64,
    #[graphql(skip)]
    pub asked: Arc<Asked>,
}

#[ComplexObject]
impl AssetSearchEdge {
    /// Why this asset matched the search, in words a link worker can pass on: the
    /// distance, the categories it is in that were asked for, open at the time asked,
    /// the accessibility features asked for, and so on.
    #[graphql(complexity = "5")]
    async fn reasons(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<MatchReason>> {
        reasons(ctx, &self.node, Some(self.distance_meters), &self.asked).await
    }
}

/// A page of search results, nearest first.
#[derive(SimpleObject)]
pub struct AssetSearchConnection {
    pub edges: Vec<AssetSearchEdge>,
    pub page_info: PageInfo,
}

fn page_info(page: &Page) -> PageInfo {
    PageInfo {
        has_next_page: page.has_next,
        has_previous_page: page.has_previous,
        start_cursor: page.items.first().map(|(_, h)| h.cursor().encode()),
        end_cursor: page
            .resume_after
            .or_else(|| page.items.last().map(|(_, h)| h.cursor()))
            .map(|c| c.encode()),
    }
}

impl From<Page> for AssetSearchConnection {
    fn from(page: Page) -> Self {
        let page_info = page_info(&page);
        Self {
            edges: page
                .items
                .into_iter()
                .map(|(model, hit)| AssetSearchEdge {
                    node: Asset(model),
                    cursor: hit.cursor().encode(),
                    distance_meters: hit.distance,
                    asked: page.asked.clone(),
                })
                .collect(),
            page_info,
        }
    }
}

impl From<Page> for AssetConnection {
    fn from(page: Page) -> Self {
        let page_info = page_info(&page);
        Self {
            edges: page
                .items
                .into_iter()
                .map(|(model, hit)| AssetEdge {
                    node: Asset(model),
                    cursor: hit.cursor().encode(),
                    asked: page.asked.clone(),
                })
                .collect(),
            page_info,
        }
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

/// A WGS84 position.
#[derive(InputObject)]
pub struct LonLatInput {
    /// Longitude in degrees, -180 to 180.
    pub lon: f64,
    /// Latitude in degrees, -90 to 90.
    pub lat: f64,
}

/// A longitude/latitude box, WGS84 degrees. It may not cross the antimeridian and may
/// cover at most 6.25 square degrees.
#[derive(InputObject)]
#[graphql(name = "BBoxInput")]
pub struct BBoxInput {
    /// Western edge, degrees of longitude.
    pub min_lon: f64,
    /// Southern edge, degrees of latitude.
    pub min_lat: f64,
    /// Eastern edge, degrees of longitude; not less than `minLon`.
    pub max_lon: f64,
    /// Northern edge, degrees of latitude; not less than `minLat`.
    pub max_lat: f64,
}

/// Narrows a search. All given conditions must hold.
#[derive(InputObject, Default)]
#[graphql(name = "AssetFilter")]
pub struct AssetFilterInput {
    /// Any of these kinds.
    pub kinds: Option<Vec<AssetKind>>,
    /// Any of these category slugs; a parent category also matches its children.
    pub categories: Option<Vec<String>>,
    /// Words to find in the name, description or categories, through the full-text index
    /// (English stemming: "walk" finds "walking"; each word also matches as the start of
    /// a longer one). Every word must match. Up to 200 characters, 10 words.
    pub text: Option<String>,
    /// Has every one of these accessibility features.
    pub accessibility: Option<Vec<AccessibilityFeature>>,
    /// true: free to use; false: known to cost something.
    pub free: Option<bool>,
    /// For someone of this age (assets with no age limits match any age).
    pub age: Option<i32>,
    /// Confirmed right by its editors (`verifyAsset`) within this many days (1 to 3650).
    pub verified_within_days: Option<i32>,
    /// Open at this time. Assets with no known hours are left out unless
    /// `includeUnknownHours` is true.
    pub open_at: Option<DateTime<Utc>>,
    /// Open now (the same as `openAt` with the current time).
    pub open_now: Option<bool>,
    /// With `openAt` or `openNow`: keep assets whose hours are not known (default false).
    pub include_unknown_hours: Option<bool>,
}

impl AssetFilterInput {
    pub fn into_domain(self) -> AppResult<domain::AssetFilter> {
        let mut filter = domain::AssetFilter::new(
            self.kinds
                .unwrap_or_default()
                .into_iter()
                .map(Kind::from)
                .collect(),
            self.categories.unwrap_or_default(),
            self.text,
        )?;
        let features: Vec<crate::domain::listing::Accessibility> = self
            .accessibility
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        filter.accessibility = crate::domain::listing::Accessibility::mask(&features);
        filter.free = self.free;
        filter.age = self
            .age
            .map(crate::domain::listing::AgeRange::check_age)
            .transpose()?;
        if let Some(days) = self.verified_within_days {
            if !(1..=3650).contains(&days) {
                return Err(AppError::invalid(
                    "verifiedWithinDays",
                    "verifiedWithinDays is 1 to 3650",
                ));
            }
            filter.verified_since =
                Some(crate::service::now() - chrono::Duration::days(i64::from(days)));
        }
        filter.open_at = match (self.open_at, self.open_now) {
            (Some(_), Some(true)) => {
                return Err(AppError::invalid(
                    "openNow",
                    "give openAt or openNow, not both",
                ));
            }
            (Some(at), _) => Some(crate::domain::hours::check_time("openAt", at)?),
            (None, Some(true)) => Some(crate::service::now()),
            (None, _) => None,
        };
        filter.include_unknown_hours = self.include_unknown_hours.unwrap_or(false);
        Ok(filter)
    }
}

/// A new asset. Text is trimmed; empty optional text counts as absent.
#[derive(InputObject)]
pub struct CreateAssetInput {
    /// What the asset is; decides which geometry types it may have.
    pub kind: AssetKind,
    /// 1 to 200 characters.
    pub name: String,
    /// Up to 5000 characters.
    pub description: Option<String>,
    /// Must be a geometry type the kind allows (see `AssetKind`).
    pub geometry: GeoJson,
    /// Category slugs (see `categories`), at most 20.
    pub categories: Option<Vec<String>>,
    /// The organization that runs the asset (see `createOrganization`).
    pub organization_id: Option<ID>,
    /// Postal address, up to 500 characters.
    pub address: Option<String>,
    /// Postcode, up to 500 characters.
    pub postcode: Option<String>,
    /// Web address, up to 500 characters.
    pub website: Option<String>,
    /// An email address.
    pub email: Option<String>,
    /// Telephone number, up to 500 characters.
    pub phone: Option<String>,
    /// OpenStreetMap `opening_hours` syntax, e.g. `Mo-Fr 09:30-12:00,13:30-16:00; PH off`
    /// (UK time; `PH`: bank holidays of England and Wales). Up to 500 characters.
    pub opening_hours: Option<String>,
    /// Accessibility features it has.
    pub accessibility: Option<Vec<AccessibilityFeature>>,
    /// Free to use; omit when not known.
    pub free: Option<bool>,
    /// What it costs, in words, up to 500 characters.
    pub cost_note: Option<String>,
    /// The youngest age it is for (0 to 130).
    pub min_age: Option<i32>,
    /// The oldest age it is for (0 to 130, not less than minAge).
    pub max_age: Option<i32>,
}

/// A change to an asset: omitted fields stay as they are; `null` clears an optional one.
#[derive(InputObject)]
pub struct UpdateAssetInput {
    /// A new kind; the geometry (new or current) must suit it.
    pub kind: Option<AssetKind>,
    /// 1 to 200 characters.
    pub name: Option<String>,
    /// Up to 5000 characters; null clears it.
    pub description: MaybeUndefined<String>,
    /// A new geometry, under the same rules as `createAsset`.
    pub geometry: Option<GeoJson>,
    /// Replaces the asset's categories.
    pub categories: Option<Vec<String>>,
    /// Another organization; null unlinks it.
    pub organization_id: MaybeUndefined<ID>,
    /// Null clears it.
    pub address: MaybeUndefined<String>,
    /// Null clears it.
    pub postcode: MaybeUndefined<String>,
    /// Null clears it.
    pub website: MaybeUndefined<String>,
    /// Null clears it.
    pub email: MaybeUndefined<String>,
    /// Null clears it.
    pub phone: MaybeUndefined<String>,
    /// OpenStreetMap `opening_hours` syntax; null clears it.
    pub opening_hours: MaybeUndefined<String>,
    /// Replaces the accessibility features.
    pub accessibility: Option<Vec<AccessibilityFeature>>,
    /// Null: not known.
    pub free: MaybeUndefined<bool>,
    /// Null clears it.
    pub cost_note: MaybeUndefined<String>,
    /// Null clears it.
    pub min_age: MaybeUndefined<i32>,
    /// Null clears it.
    pub max_age: MaybeUndefined<i32>,
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
