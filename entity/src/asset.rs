//! A community asset: a park, a walking group, a food bank ...
use sea_orm::entity::prelude::*;

stored_enum! {
    /// What an asset is, stored in SCREAMING_SNAKE_CASE.
    pub enum AssetKind {
        Park = "PARK",
        GreenSpace = "GREEN_SPACE",
        CyclePath = "CYCLE_PATH",
        WalkingRoute = "WALKING_ROUTE",
        CommunityGroup = "COMMUNITY_GROUP",
        Charity = "CHARITY",
        Activity = "ACTIVITY",
        Venue = "VENUE",
        Service = "SERVICE",
        HealthChampion = "HEALTH_CHAMPION",
    }
}

stored_enum! {
    /// Whether an asset is listed: archived assets leave every search.
    pub enum Status {
        Active = "active",
        Archived = "archived",
    }
}

stored_enum! {
    /// Whether the public sees an asset: approved ones only; pending ones wait for a
    /// moderator; rejected ones never were.
    pub enum Moderation {
        Approved = "approved",
        Pending = "pending",
        Rejected = "rejected",
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "assets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: AssetKind,
    pub name: String,
    pub description: Option<String>,
    /// RFC 7946 GeoJSON geometry object, (lon, lat), WGS84, already validated.
    pub geometry: String,
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
    pub organization_id: Option<Uuid>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: Status,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub archived_at: Option<DateTimeUtc>,
    pub moderation: Moderation,
    /// When an editor last confirmed the listing is still right; not a change.
    pub last_verified_at: Option<DateTimeUtc>,
    /// Who confirmed it: the actor's name.
    pub last_verified_by: Option<String>,
    /// OpenStreetMap `opening_hours` text, validated.
    pub opening_hours: Option<String>,
    /// Accessibility features as bits (see `domain::listing::Accessibility`).
    pub accessibility: i64,
    /// Free to use; null when not known.
    pub free: Option<bool>,
    pub cost_note: Option<String>,
    pub min_age: Option<i32>,
    pub max_age: Option<i32>,
    /// People (health champions): the exact point, never shown to the public, which sees
    /// `geometry`, an approximate one.
    pub exact_geometry: Option<String>,
    /// Name, description and category words, for the full-text index.
    pub search_text: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id"
    )]
    Organization,
    #[sea_orm(has_many = "super::asset_category::Entity")]
    AssetCategory,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
