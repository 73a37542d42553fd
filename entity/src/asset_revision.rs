//! One change to an asset, append-only: who, when, and the asset before and after.
use sea_orm::entity::prelude::*;

stored_enum! {
    /// What a revision did.
    pub enum Action {
        Create = "create",
        Update = "update",
        Archive = "archive",
        Approve = "approve",
        Reject = "reject",
        Restore = "restore",
        Verify = "verify",
        Import = "import",
        TakeDown = "take_down",
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "asset_revisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub asset_id: Uuid,
    /// The asset's version after the change.
    pub version: i32,
    pub action: Action,
    pub actor_id: String,
    pub actor_name: String,
    /// The moderator who approved the change, when it waited for one.
    pub approved_by: Option<String>,
    pub at: DateTimeUtc,
    /// JSON snapshot of the asset before the change; null for a create.
    pub before: Option<String>,
    /// JSON snapshot after the change; null for an import (the asset's version 1 is it).
    pub after: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
