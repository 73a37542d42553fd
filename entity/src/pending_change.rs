//! A change proposed by an editor of an organization that is not trusted, waiting for a
//! moderator.
use sea_orm::entity::prelude::*;

stored_enum! {
    /// What a proposed change would do.
    pub enum ChangeAction {
        Create = "create",
        Update = "update",
        Archive = "archive",
    }
}

stored_enum! {
    /// Where a proposed change stands.
    pub enum ChangeStatus {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pending_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub asset_id: Uuid,
    /// The organization the change is for, so its editors can follow it.
    pub organization_id: Option<Uuid>,
    pub action: ChangeAction,
    /// The asset's version the change was based on; it applies only to that version.
    pub base_version: i32,
    /// JSON snapshot of the asset when proposed; null for a create.
    pub before: Option<String>,
    /// JSON snapshot the asset would have.
    pub after: String,
    pub proposed_by_id: String,
    pub proposed_by_name: String,
    pub proposed_at: DateTimeUtc,
    pub status: ChangeStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    /// Why it was rejected.
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
