//! Where an imported asset came from: its source and the id the source gives it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "asset_sources")]
pub struct Model {
    /// The feed, e.g. `oruk:https://council.example/api`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub source: String,
    /// The feed's own id of the record the asset was made from.
    #[sea_orm(primary_key, auto_increment = false)]
    pub source_id: String,
    pub asset_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
