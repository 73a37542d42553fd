//! A community asset: a park, a walking group, a food bank ...
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "assets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Stable SCREAMING_SNAKE_CASE kind, e.g. `PARK`.
    pub kind: String,
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
    /// `active` or `archived`.
    pub status: String,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub archived_at: Option<DateTimeUtc>,
    /// `approved` (public), `pending` (waits for a moderator) or `rejected`.
    pub moderation: String,
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
