//! Creating, reading, changing and archiving assets.
//!
//! Every change runs in one transaction and bumps `version`; a change names the version
//! it was based on and is refused with `CONFLICT` (changing nothing) when another change
//! got there first. Nothing is ever deleted: archiving hides an asset from searches.

use std::collections::HashMap;

use entity::{asset, organization};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

use super::categories;
use crate::db::Db;
use crate::domain::asset::Contact;
use crate::domain::{AssetKind, AssetPatch, NewAsset, Text, ValidGeometry};
use crate::error::{AppError, AppResult};
use crate::spatial;

pub const ACTIVE: &str = "active";
pub const ARCHIVED: &str = "archived";

/// The row for a new asset, without its category links.
pub fn new_row(id: Uuid, new: &NewAsset, now: chrono::DateTime<chrono::Utc>) -> asset::ActiveModel {
    let bbox = new.geometry.bbox();
    let text = |t: &Option<Text>| t.as_ref().map(|t| t.as_str().to_owned());
    let Contact {
        address,
        postcode,
        website,
        email,
        phone,
    } = &new.contact;
    asset::ActiveModel {
        id: Set(id),
        kind: Set(new.kind.as_str().to_owned()),
        name: Set(new.name.as_str().to_owned()),
        description: Set(text(&new.description)),
        geometry: Set(new.geometry.to_geojson_string()),
        min_lon: Set(bbox.min().x),
        min_lat: Set(bbox.min().y),
        max_lon: Set(bbox.max().x),
        max_lat: Set(bbox.max().y),
        organization_id: Set(new.organization_id),
        address: Set(text(address)),
        postcode: Set(text(postcode)),
        website: Set(text(website)),
        email: Set(text(email)),
        phone: Set(text(phone)),
        status: Set(ACTIVE.to_owned()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
    }
}

async fn check_organization(conn: &impl ConnectionTrait, id: Option<Uuid>) -> AppResult<()> {
    if let Some(id) = id
        && organization::Entity::find_by_id(id)
            .one(conn)
            .await?
            .is_none()
    {
        return Err(AppError::invalid(
            "organizationId",
            "organizationId does not name an organization",
        ));
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(asset.kind = new.kind.as_str()))]
pub async fn create(db: &Db, new: NewAsset) -> AppResult<asset::Model> {
    let txn = db.write.begin().await?;
    let category_ids = categories::resolve(&txn, &new.categories).await?;
    check_organization(&txn, new.organization_id).await?;
    let id = Uuid::now_v7();
    let model = new_row(id, &new, super::now()).insert(&txn).await?;
    spatial::index::index(&txn, &[(id, new.geometry.geometry())]).await?;
    categories::link(&txn, category_ids.into_iter().map(|c| (id, c))).await?;
    txn.commit().await?;
    Ok(model)
}

pub async fn get(db: &Db, id: Uuid) -> AppResult<Option<asset::Model>> {
    Ok(asset::Entity::find_by_id(id).one(&db.read).await?)
}

/// The assets with these ids, in the order given; ids with no asset are skipped.
pub async fn load_ordered(db: &Db, ids: &[Uuid]) -> AppResult<Vec<asset::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut by_id: HashMap<Uuid, asset::Model> = asset::Entity::find()
        .filter(asset::Column::Id.is_in(ids.iter().copied()))
        .all(&db.read)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// Loads the asset to change and checks that the caller saw its latest version.
async fn current_for_change(
    conn: &impl ConnectionTrait,
    id: Uuid,
    expected_version: i32,
) -> AppResult<asset::Model> {
    let current = asset::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("asset"))?;
    if current.version != expected_version {
        return Err(conflict(current.version));
    }
    if current.status == ARCHIVED {
        return Err(AppError::Conflict {
            message: "the asset is archived".to_owned(),
            current_version: Some(current.version),
        });
    }
    Ok(current)
}

fn conflict(current_version: i32) -> AppError {
    AppError::Conflict {
        message: format!(
            "the asset was changed by someone else: it is at version {current_version}; \
             reload it and apply your change again"
        ),
        current_version: Some(current_version),
    }
}

/// Writes `changes` only if the row is still at `expected_version`, bumping the version.
async fn write_if_current(
    conn: &impl ConnectionTrait,
    id: Uuid,
    expected_version: i32,
    mut changes: asset::ActiveModel,
) -> AppResult<asset::Model> {
    changes.version = Set(expected_version + 1);
    changes.updated_at = Set(super::now());
    let result = asset::Entity::update_many()
        .set(changes)
        .filter(asset::Column::Id.eq(id))
        .filter(asset::Column::Version.eq(expected_version))
        .exec(conn)
        .await?;
    if result.rows_affected != 1 {
        let now = asset::Entity::find_by_id(id).one(conn).await?;
        return Err(now.map_or(AppError::NotFound("asset"), |a| conflict(a.version)));
    }
    asset::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("asset"))
}

#[tracing::instrument(skip_all, fields(asset.id = %id))]
pub async fn update(
    db: &Db,
    id: Uuid,
    expected_version: i32,
    patch: AssetPatch,
) -> AppResult<asset::Model> {
    let txn = db.write.begin().await?;
    let current = current_for_change(&txn, id, expected_version).await?;

    let kind = match patch.kind {
        Some(k) => k,
        None => AssetKind::parse(&current.kind)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("stored kind {:?}", current.kind)))?,
    };
    if patch.kind.is_some() || patch.geometry.is_some() {
        let geometry_type = match &patch.geometry {
            Some(g) => g.geometry_type(),
            None => ValidGeometry::parse_str(&current.geometry)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("stored geometry: {e}")))?
                .geometry_type(),
        };
        kind.check_geometry(geometry_type)?;
    }
    if let Some(Some(org)) = patch.organization_id {
        check_organization(&txn, Some(org)).await?;
    }
    let category_ids = match &patch.categories {
        Some(slugs) => Some(categories::resolve(&txn, slugs).await?),
        None => None,
    };

    let text = |t: Option<Text>| t.map(Text::into_string);
    let mut changes = asset::ActiveModel {
        ..Default::default()
    };
    if let Some(k) = patch.kind {
        changes.kind = Set(k.as_str().to_owned());
    }
    if let Some(name) = patch.name {
        changes.name = Set(name.into_string());
    }
    if let Some(g) = &patch.geometry {
        let bbox = g.bbox();
        changes.geometry = Set(g.to_geojson_string());
        changes.min_lon = Set(bbox.min().x);
        changes.min_lat = Set(bbox.min().y);
        changes.max_lon = Set(bbox.max().x);
        changes.max_lat = Set(bbox.max().y);
    }
    if let Some(v) = patch.description {
        changes.description = Set(text(v));
    }
    if let Some(v) = patch.organization_id {
        changes.organization_id = Set(v);
    }
    if let Some(v) = patch.address {
        changes.address = Set(text(v));
    }
    if let Some(v) = patch.postcode {
        changes.postcode = Set(text(v));
    }
    if let Some(v) = patch.website {
        changes.website = Set(text(v));
    }
    if let Some(v) = patch.email {
        changes.email = Set(text(v));
    }
    if let Some(v) = patch.phone {
        changes.phone = Set(text(v));
    }
    let updated = write_if_current(&txn, id, expected_version, changes).await?;
    if let Some(g) = &patch.geometry {
        let old = ValidGeometry::parse_str(&current.geometry)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("stored geometry: {e}")))?;
        spatial::index::unindex(&txn, id, old.geometry()).await?;
        spatial::index::index(&txn, &[(id, g.geometry())]).await?;
    }
    if let Some(ids) = category_ids {
        categories::set_for_asset(&txn, id, &ids).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

#[tracing::instrument(skip_all, fields(asset.id = %id))]
pub async fn archive(db: &Db, id: Uuid, expected_version: i32) -> AppResult<asset::Model> {
    let txn = db.write.begin().await?;
    current_for_change(&txn, id, expected_version).await?;
    let changes = asset::ActiveModel {
        status: Set(ARCHIVED.to_owned()),
        archived_at: Set(Some(super::now())),
        ..Default::default()
    };
    let archived = write_if_current(&txn, id, expected_version, changes).await?;
    txn.commit().await?;
    Ok(archived)
}

/// How many assets are stored, archived ones included.
pub async fn count_all(conn: &impl ConnectionTrait) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(asset::Entity::find().count(conn).await?)
}
