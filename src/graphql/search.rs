//! Searches as the API shows them: the filter and the shapes searched with, pages of
//! results, and why each result matched.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, InputObject, SimpleObject};
use chrono::{DateTime, Utc};

use super::asset::{AccessibilityFeature, Asset, AssetKind};
use super::loaders::{Cached, CategoriesByAsset};
use super::page::{self, PageInfo, Position};
use crate::domain::listing::Accessibility;
use crate::domain::reasons::{self, Facts};
use crate::domain::{AssetFilter, LonLat};
use crate::error::{AppError, AppResult};
use crate::service::postcodes::{self, Postcode};
use crate::service::search::{Asked, Page};
use crate::spatial::Hit;

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
#[graphql(remote = "crate::domain::reasons::ReasonKind")]
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

/// A place to search from: a WGS84 position (`lon` and `lat`), or a UK postcode
/// (`postcode`, however it is typed: `wn1 1xx`, `WN11XX`), one or the other. An
/// unknown postcode is `NOT_FOUND`, a malformed one `INVALID_INPUT`, each with
/// `extensions.field` naming `postcode`. Postcodes come from the ONS Postcode
/// Directory the server has loaded (`assetmap postcodes import`).
#[derive(InputObject)]
pub struct LonLatInput {
    /// Longitude in degrees, -180 to 180.
    pub lon: Option<f64>,
    /// Latitude in degrees, -90 to 90.
    pub lat: Option<f64>,
    /// A UK postcode, instead of `lon` and `lat`.
    pub postcode: Option<String>,
}

impl LonLatInput {
    /// Where this place is: the position given, or the postcode's centroid.
    pub async fn locate(&self, db: &crate::db::Db) -> AppResult<LonLat> {
        match (self.lon, self.lat, self.postcode.as_deref()) {
            (Some(lon), Some(lat), None) => LonLat::new(lon, lat),
            (None, None, Some(postcode)) => {
                let postcode = Postcode::parse("postcode", postcode)?;
                postcodes::locate(&db.read, "postcode", &postcode).await
            }
            (_, _, Some(_)) => Err(AppError::invalid(
                "postcode",
                "give either a postcode or lon and lat, not both",
            )),
            (None, _, None) => Err(AppError::invalid("lon", "give lon and lat, or a postcode")),
            (Some(_), None, None) => {
                Err(AppError::invalid("lat", "give lon and lat, or a postcode"))
            }
        }
    }
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
    /// The filter, with every rule checked (see `domain::AssetFilter`).
    pub fn into_domain(self) -> AppResult<AssetFilter> {
        let now = crate::service::now();
        let features: Vec<Accessibility> = self
            .accessibility
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        AssetFilter::new(
            self.kinds
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            self.categories.unwrap_or_default(),
            self.text,
        )?
        .with_accessibility(&features)
        .with_free(self.free)
        .with_age(self.age)?
        .verified_within(self.verified_within_days, now)?
        .open(self.open_at, self.open_now, self.include_unknown_hours, now)
    }

    /// The filter of an optional input (no input: no conditions).
    pub fn parse(input: Option<Self>) -> AppResult<AssetFilter> {
        input.unwrap_or_default().into_domain()
    }
}

/// The reasons `node` matched the search asked: the rules are the domain's; this loads
/// the names of the asset's categories that were asked for (from the page's prefetch).
async fn reasons(
    ctx: &Context<'_>,
    node: &Asset,
    distance: Option<f64>,
    asked: &Asked,
) -> async_graphql::Result<Vec<MatchReason>> {
    let mut matched = Vec::new();
    if !asked.category_ids.is_empty() {
        let loader = ctx.data::<Cached<CategoriesByAsset>>()?;
        let categories = loader.load_one(node.0.id).await?.unwrap_or_default();
        matched = categories
            .into_iter()
            .filter(|c| asked.category_ids.contains(&c.id))
            .map(|c| c.name)
            .collect();
    }
    let facts = Facts {
        distance,
        matched_categories: &matched,
        has_hours: node.0.opening_hours.is_some(),
        ages: crate::domain::listing::AgeRange {
            min: node.0.min_age,
            max: node.0.max_age,
        },
        last_verified_at: node.0.last_verified_at,
    };
    Ok(reasons::reasons(&asked.filter, facts)
        .into_iter()
        .map(|r| MatchReason {
            kind: r.kind.into(),
            detail: r.detail,
        })
        .collect())
}

/// A search page's edges: `edge` makes each from the asset, its hit, its cursor and
/// what was asked.
fn page_edges<E>(
    page: Page,
    edge: impl Fn(Asset, Hit, String, Arc<Asked>) -> E,
) -> (Vec<E>, PageInfo) {
    let position = Position {
        has_next: page.has_next,
        has_previous: page.has_previous,
        resume_after: page.resume_after.map(|c| c.encode()),
    };
    let asked = page.asked;
    page::edges(
        page.items,
        position,
        |(_, hit)| hit.cursor().encode(),
        |(model, hit), cursor| edge(Asset(model), hit, cursor, asked.clone()),
    )
}

impl From<Page> for AssetSearchConnection {
    fn from(page: Page) -> Self {
        let (edges, page_info) = page_edges(page, |node, hit, cursor, asked| AssetSearchEdge {
            node,
            cursor,
            distance_meters: hit.distance,
            asked,
        });
        Self { edges, page_info }
    }
}

impl From<Page> for AssetConnection {
    fn from(page: Page) -> Self {
        let (edges, page_info) = page_edges(page, |node, _, cursor, asked| AssetEdge {
            node,
            cursor,
            asked,
        });
        Self { edges, page_info }
    }
}
