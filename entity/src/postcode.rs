//! A live postcode and its centroid (from the ONS Postcode Directory).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "postcodes")]
pub struct Model {
    /// Upper case, no spaces: `WN11XX`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub postcode: String,
    /// As the directory writes it: `WN1 1XX`.
    pub display: String,
    pub lon: f64,
    pub lat: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
