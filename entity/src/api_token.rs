//! An API token: who may write, as which role. Only a hash of the secret is stored.
use sea_orm::entity::prelude::*;

stored_enum! {
    /// What a token's holder may do, stored in snake_case.
    pub enum Role {
        LinkWorker = "link_worker",
        Editor = "editor",
        Moderator = "moderator",
        Admin = "admin",
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Who holds it, as it appears in history ("Jo at Wigan Food Bank").
    pub name: String,
    pub role: Role,
    /// SHA-256 of the secret, lowercase hex.
    pub secret_hash: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
