//! The needs-and-interests taxonomy.

use std::collections::HashMap;

use entity::{asset_category, category};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub async fn list(conn: &impl ConnectionTrait) -> AppResult<Vec<category::Model>> {
    Ok(category::Entity::find()
        .order_by_asc(category::Column::Slug)
        .all(conn)
        .await?)
}

/// The ids of these slugs, in order; an unknown slug is an `INVALID_INPUT` naming it.
pub async fn resolve(conn: &impl ConnectionTrait, slugs: &[String]) -> AppResult<Vec<Uuid>> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let found = category::Entity::find()
        .filter(category::Column::Slug.is_in(slugs.iter().cloned()))
        .all(conn)
        .await?;
    ids_of(&found, slugs)
}

/// The ids of `slugs` among `found`, in order; an unknown slug is an `INVALID_INPUT`.
fn ids_of(found: &[category::Model], slugs: &[String]) -> AppResult<Vec<Uuid>> {
    slugs
        .iter()
        .map(|slug| {
            found
                .iter()
                .find(|c| &c.slug == slug)
                .map(|c| c.id)
                .ok_or_else(|| {
                    AppError::invalid("categories", format!("there is no category {slug:?}"))
                })
        })
        .collect()
}

/// The ids a category filter matches: each named category and its children. An unknown
/// slug is an `INVALID_INPUT` naming it.
pub async fn expand(conn: &impl ConnectionTrait, slugs: &[String]) -> AppResult<Vec<Uuid>> {
    Ok(expanded(conn, slugs)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect())
}

/// The categories a filter on these slugs matches: each named one and its children.
async fn expanded(
    conn: &impl ConnectionTrait,
    slugs: &[String],
) -> AppResult<Vec<category::Model>> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    // the taxonomy is small: one query for the named terms and their children alike
    let all = list(conn).await?;
    let named = ids_of(&all, slugs)?;
    let mut matched: Vec<category::Model> = all
        .into_iter()
        .filter(|c| named.contains(&c.id) || c.parent_id.is_some_and(|p| named.contains(&p)))
        .collect();
    matched.sort_by_key(|c| c.id);
    Ok(matched)
}

/// The slugs a category filter matches: each named category and its children. An
/// unknown slug is an `INVALID_INPUT` naming it.
pub async fn expand_slugs(conn: &impl ConnectionTrait, slugs: &[String]) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = expanded(conn, slugs)
        .await?
        .into_iter()
        .map(|c| c.slug)
        .collect();
    out.sort();
    Ok(out)
}

/// Categories of each asset, sorted by slug.
pub async fn of_assets(
    conn: &impl ConnectionTrait,
    asset_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<category::Model>>> {
    let mut out: HashMap<Uuid, Vec<category::Model>> = HashMap::new();
    if asset_ids.is_empty() {
        return Ok(out);
    }
    let rows = asset_category::Entity::find()
        .filter(asset_category::Column::AssetId.is_in(asset_ids.iter().copied()))
        .find_also_related(category::Entity)
        .all(conn)
        .await?;
    for (link, cat) in rows {
        if let Some(cat) = cat {
            out.entry(link.asset_id).or_default().push(cat);
        }
    }
    for cats in out.values_mut() {
        cats.sort_by(|a, b| a.slug.cmp(&b.slug));
    }
    Ok(out)
}

/// Replaces an asset's categories.
pub async fn set_for_asset(
    conn: &impl ConnectionTrait,
    asset_id: Uuid,
    category_ids: &[Uuid],
) -> AppResult<()> {
    asset_category::Entity::delete_many()
        .filter(asset_category::Column::AssetId.eq(asset_id))
        .exec(conn)
        .await?;
    link(conn, category_ids.iter().map(|c| (asset_id, *c))).await
}

/// Inserts (asset, category) links.
pub async fn link(
    conn: &impl ConnectionTrait,
    links: impl IntoIterator<Item = (Uuid, Uuid)>,
) -> AppResult<()> {
    let models: Vec<asset_category::ActiveModel> = links
        .into_iter()
        .map(|(asset_id, category_id)| asset_category::ActiveModel {
            asset_id: sea_orm::Set(asset_id),
            category_id: sea_orm::Set(category_id),
        })
        .collect();
    Ok(crate::db::insert_all(conn, &models, 1_000).await?)
}

/// Adds a term to the taxonomy (admins). Its slug must be new; a parent, if named, must
/// exist and be a top-level term (the taxonomy is two levels deep).
pub async fn create(
    db: &crate::db::Db,
    slug: &str,
    name: crate::domain::Text,
    parent: Option<&str>,
) -> AppResult<category::Model> {
    use sea_orm::{ActiveModelTrait, Set, TransactionTrait};
    let txn = db.write.begin().await?;
    let all = list(&txn).await?;
    if all.iter().any(|c| c.slug == slug) {
        return Err(AppError::invalid(
            "slug",
            format!("there is already a category {slug:?}"),
        ));
    }
    let parent_id = match parent {
        None => None,
        Some(p) => {
            let found = all.iter().find(|c| c.slug == p).ok_or_else(|| {
                AppError::invalid("parentSlug", format!("{p:?} is not a category"))
            })?;
            if found.parent_id.is_some() {
                return Err(AppError::invalid(
                    "parentSlug",
                    format!("{p:?} is itself under another category: name a top-level one"),
                ));
            }
            Some(found.id)
        }
    };
    let created = category::ActiveModel {
        id: Set(Uuid::now_v7()),
        slug: Set(slug.to_owned()),
        name: Set(name.into_string()),
        parent_id: Set(parent_id),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(created)
}
