//! The groups and charities that run assets.

use std::collections::HashMap;

use entity::organization;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::db::Db;
use crate::domain::{PageSize, Text};
use crate::error::AppResult;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrganization {
    pub name: Text,
    pub description: Option<Text>,
    pub website: Option<Text>,
    pub email: Option<Text>,
    pub phone: Option<Text>,
    /// Edits by its editors publish without a moderator.
    pub trusted: bool,
}

pub async fn create(db: &Db, new: NewOrganization) -> AppResult<organization::Model> {
    insert(&db.write, new).await
}

pub async fn insert(
    conn: &impl ConnectionTrait,
    new: NewOrganization,
) -> AppResult<organization::Model> {
    let now = super::now();
    let model = organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(new.name.into_string()),
        description: Set(new.description.map(Text::into_string)),
        website: Set(new.website.map(Text::into_string)),
        email: Set(new.email.map(Text::into_string)),
        phone: Set(new.phone.map(Text::into_string)),
        created_at: Set(now),
        updated_at: Set(now),
        trusted: Set(new.trusted),
    };
    Ok(model.insert(conn).await?)
}

pub async fn get(db: &Db, id: Uuid) -> AppResult<Option<organization::Model>> {
    Ok(organization::Entity::find_by_id(id).one(&db.read).await?)
}

pub async fn by_ids(db: &Db, ids: &[Uuid]) -> AppResult<HashMap<Uuid, organization::Model>> {
    let rows = organization::Entity::find()
        .filter(organization::Column::Id.is_in(ids.iter().copied()))
        .all(&db.read)
        .await?;
    Ok(rows.into_iter().map(|o| (o.id, o)).collect())
}

/// Organizations by id (creation order, ids being UUIDv7), after `after`, one page plus
/// one to tell whether more follow.
pub async fn list(
    db: &Db,
    after: Option<Uuid>,
    first: PageSize,
) -> AppResult<Vec<organization::Model>> {
    let mut query = organization::Entity::find().order_by_asc(organization::Column::Id);
    if let Some(after) = after {
        query = query.filter(organization::Column::Id.gt(after));
    }
    Ok(query.limit(first.get() + 1).all(&db.read).await?)
}

pub async fn find_by_name(
    conn: &impl ConnectionTrait,
    name: &str,
) -> AppResult<Option<organization::Model>> {
    Ok(organization::Entity::find()
        .filter(organization::Column::Name.eq(name))
        .one(conn)
        .await?)
}

/// Marks an organization trusted (its editors' changes publish at once) or not (they wait
/// for a moderator).
pub async fn set_trusted(db: &Db, id: Uuid, trusted: bool) -> AppResult<organization::Model> {
    let result = organization::Entity::update_many()
        .col_expr(
            organization::Column::Trusted,
            sea_orm::sea_query::Expr::value(trusted),
        )
        .col_expr(
            organization::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(super::now()),
        )
        .filter(organization::Column::Id.eq(id))
        .exec(&db.write)
        .await?;
    if result.rows_affected == 0 {
        return Err(crate::error::AppError::NotFound("organization"));
    }
    organization::Entity::find_by_id(id)
        .one(&db.write)
        .await?
        .ok_or(crate::error::AppError::NotFound("organization"))
}
