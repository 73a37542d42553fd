//! One change to what the public sees of an asset, at a position in the change log.
use sea_orm::entity::prelude::*;

use crate::asset::AssetKind;

stored_enum! {
    /// What a change did to the public's view: the asset is there (as it is now), or it
    /// is gone (archived, taken down, or no longer matching a client's filter).
    pub enum ChangeState {
        Updated = "updated",
        Deleted = "deleted",
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "asset_changes")]
pub struct Model {
    /// Taken from `change_log_state` in the writing transaction: visible in order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i64,
    pub asset_id: Uuid,
    /// The asset's kind after the change (before it, for a deletion).
    pub kind: AssetKind,
    pub state: ChangeState,
    pub changed_at: DateTimeUtc,
    /// The public's view before the change; null where the public did not see it.
    pub before_kind: Option<AssetKind>,
    pub before_min_lon: Option<f64>,
    pub before_min_lat: Option<f64>,
    pub before_max_lon: Option<f64>,
    pub before_max_lat: Option<f64>,
    /// Category slugs, comma-separated.
    pub before_categories: Option<String>,
    /// The public's view after the change (its kind is `kind`); null for a deletion.
    pub after_min_lon: Option<f64>,
    pub after_min_lat: Option<f64>,
    pub after_max_lon: Option<f64>,
    pub after_max_lat: Option<f64>,
    pub after_categories: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
