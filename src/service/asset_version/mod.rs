//! The one write path of an asset: every change to an asset row goes through here, in
//! the caller's transaction. Each function writes the row (new, or under a [`Guard`]),
//! keeps the spatial index and the category links in step, and appends the revision.
//!
//! - [`insert`], [`insert_batch`]: new assets at version 1 (a create; an import)
//! - [`write`]: a new version of the content (update, archive, restore, approval of a
//!   pending change)
//! - [`settle`]: a proposed new asset approved or rejected
//! - [`mark_verified`]: an editor confirms the listing (no new version)
//!
//! Each also appends to the change log (`service::changes`) when what the public sees
//! of the asset changed, and [`commit`] ends the transaction and tells this replica's
//! subscriptions. `row` is the one conversion between content and row, `revision` the
//! history, `upgrade` the one-off rewrites a migration asks for.

mod guard;
pub mod revision;
pub mod row;
mod upgrade;

use entity::asset;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait};
use uuid::Uuid;

pub use guard::Guard;
pub use revision::{Entry, Made};
pub use upgrade::{check_websites, rebuild_search_records};

use crate::domain::{AssetContent, AssetStatus, Moderation};
use crate::error::{AppError, AppResult};
use crate::service::changes::{self, Change, public_view};
use crate::service::{categories, now};
use crate::spatial;

/// Commits a transaction that wrote assets. The surface that asked for the write lets
/// this replica's search state and subscriptions catch up before it answers
/// (`AppState::written`); other replicas and processes hear of it from the log.
pub async fn commit(txn: DatabaseTransaction) -> AppResult<()> {
    txn.commit().await?;
    Ok(())
}

/// Logs the change between two of the public's views of an asset, if there is one.
async fn log(
    txn: &DatabaseTransaction,
    id: Uuid,
    before: Option<AssetContent>,
    after: Option<AssetContent>,
) -> AppResult<()> {
    let change = Change::between(id, before.as_ref(), after.as_ref());
    changes::append(txn, change.into_iter().collect()).await
}

/// A new asset to insert: its id, its content and its categories' ids.
pub struct NewVersion {
    pub id: Uuid,
    pub content: AssetContent,
    pub category_ids: Vec<Uuid>,
}

fn new_row(
    id: Uuid,
    content: &AssetContent,
    moderation: Moderation,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<asset::ActiveModel> {
    Ok(asset::ActiveModel {
        id: Set(id),
        version: Set(1),
        moderation: Set(moderation),
        created_at: Set(at),
        updated_at: Set(at),
        archived_at: Set(None),
        last_verified_at: Set(None),
        last_verified_by: Set(None),
        ..row::columns(content)?
    })
}

/// Links new assets' categories and makes the public ones searchable.
async fn index_new(
    txn: &DatabaseTransaction,
    assets: &[NewVersion],
    moderation: Moderation,
) -> AppResult<Vec<Option<AssetContent>>> {
    let links: Vec<(Uuid, Uuid)> = assets
        .iter()
        .flat_map(|a| a.category_ids.iter().map(move |c| (a.id, *c)))
        .collect();
    categories::link(txn, links).await?;
    let views = assets
        .iter()
        .map(|a| public_view(&a.content, moderation))
        .collect::<AppResult<Vec<_>>>()?;
    let indexed: Vec<spatial::Indexed<'_>> = assets
        .iter()
        .zip(&views)
        .filter(|(_, view)| view.is_some())
        .map(|(a, view)| spatial::Indexed {
            id: a.id,
            version: 1,
            verified_at: None,
            view: view.as_ref(),
            category_ids: &a.category_ids,
        })
        .collect();
    spatial::reindex(txn, &indexed).await?;
    Ok(views)
}

/// Makes an asset searchable as it is after a write (or not, if the public no longer
/// sees it).
async fn reindex(
    txn: &DatabaseTransaction,
    row: &asset::Model,
    view: Option<&AssetContent>,
) -> AppResult<()> {
    let category_ids = match view {
        Some(view) => categories::resolve(txn, &view.categories).await?,
        None => Vec::new(),
    };
    let indexed = spatial::Indexed {
        id: row.id,
        version: row.version,
        verified_at: row.last_verified_at,
        view,
        category_ids: &category_ids,
    };
    spatial::reindex(txn, &[indexed]).await
}

/// Inserts a new asset at version 1 and records its creation (with its content).
pub async fn insert(
    txn: &DatabaseTransaction,
    id: Uuid,
    content: &AssetContent,
    moderation: Moderation,
    made: &Made<'_>,
) -> AppResult<asset::Model> {
    content.check()?;
    let category_ids = categories::resolve(txn, &content.categories).await?;
    let model = new_row(id, content, moderation, now())?.insert(txn).await?;
    let new = NewVersion {
        id,
        content: content.clone(),
        category_ids,
    };
    let view = index_new(txn, std::slice::from_ref(&new), moderation)
        .await?
        .pop()
        .flatten();
    revision::record(txn, made, vec![Entry::of(id, 1, None, Some(content))?]).await?;
    log(txn, id, None, view).await?;
    Ok(model)
}

/// Inserts many published assets at version 1 (an import): the revisions record who
/// imported them; the imported content is version 1 itself.
pub async fn insert_batch(
    txn: &DatabaseTransaction,
    assets: &[NewVersion],
    made: &Made<'_>,
) -> AppResult<()> {
    if assets.is_empty() {
        return Ok(());
    }
    let at = now();
    let rows = assets
        .iter()
        .map(|a| {
            a.content.check()?;
            new_row(a.id, &a.content, Moderation::Approved, at)
        })
        .collect::<AppResult<Vec<_>>>()?;
    asset::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    let views = index_new(txn, assets, Moderation::Approved).await?;
    let entries = assets
        .iter()
        .map(|a| Entry {
            asset_id: a.id,
            version: 1,
            before: None,
            after: None,
        })
        .collect();
    revision::record(txn, made, entries).await?;
    let logged = assets
        .iter()
        .zip(&views)
        .filter_map(|(a, view)| Change::between(a.id, None, view.as_ref()))
        .collect();
    changes::append(txn, logged).await
}

async fn reread(txn: &DatabaseTransaction, id: Uuid) -> AppResult<asset::Model> {
    asset::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound("asset"))
}

/// Writes `after` as the asset's next version, if `guard` holds at the moment of
/// writing; re-indexes a moved geometry, re-links changed categories, and records the
/// revision from `before` (the content the change was made to).
pub async fn write(
    txn: &DatabaseTransaction,
    guard: &Guard<'_>,
    before: &AssetContent,
    after: &AssetContent,
    made: &Made<'_>,
) -> AppResult<asset::Model> {
    after.check()?;
    let category_ids = if after.categories == before.categories {
        None
    } else {
        Some(categories::resolve(txn, &after.categories).await?)
    };
    let at = now();
    let version = guard.version + 1;
    let changes = asset::ActiveModel {
        version: Set(version),
        updated_at: Set(at),
        archived_at: match (before.status, after.status) {
            (AssetStatus::Active, AssetStatus::Archived) => Set(Some(at)),
            (AssetStatus::Archived, AssetStatus::Active) => Set(None),
            _ => NotSet,
        },
        ..row::columns(after)?
    };
    guard.update(txn, changes).await?;
    if let Some(ids) = category_ids {
        categories::set_for_asset(txn, guard.id, &ids).await?;
    }
    let entry = Entry::of(guard.id, version, Some(before), Some(after))?;
    revision::record(txn, made, vec![entry]).await?;
    let (seen_before, seen_after) = (
        public_view(before, guard.moderation)?,
        public_view(after, guard.moderation)?,
    );
    let written = reread(txn, guard.id).await?;
    reindex(txn, &written, seen_after.as_ref()).await?;
    log(txn, guard.id, seen_before, seen_after).await?;
    Ok(written)
}

/// Moves an asset from the moderation state `guard` expects to `moderation`, as its
/// next version: publishes (`Pending` to `Approved`) or turns down (to `Rejected`) a
/// proposed asset, or takes a published one down for review (`Approved` to `Pending`).
pub async fn settle(
    txn: &DatabaseTransaction,
    guard: &Guard<'_>,
    moderation: Moderation,
    made: &Made<'_>,
) -> AppResult<()> {
    let current = guard.check(txn).await?;
    let content = row::read(txn, &current).await?;
    let changes = asset::ActiveModel {
        moderation: Set(moderation),
        version: Set(guard.version + 1),
        updated_at: Set(now()),
        ..Default::default()
    };
    guard.update(txn, changes).await?;
    let entry = Entry::of(guard.id, guard.version + 1, None, None)?;
    revision::record(txn, made, vec![entry]).await?;
    let (before, after) = (
        public_view(&content, guard.moderation)?,
        public_view(&content, moderation)?,
    );
    reindex(txn, &reread(txn, guard.id).await?, after.as_ref()).await?;
    log(txn, guard.id, before, after).await
}

/// Records that `guard.actor` confirmed the listing is still right: sets
/// `last_verified_at` and `last_verified_by`, without a new version.
pub async fn mark_verified(
    txn: &DatabaseTransaction,
    guard: &Guard<'_>,
    made: &Made<'_>,
) -> AppResult<asset::Model> {
    let changes = asset::ActiveModel {
        last_verified_at: Set(Some(now())),
        last_verified_by: Set(Some(guard.actor.name.clone())),
        ..Default::default()
    };
    guard.update(txn, changes).await?;
    let entry = Entry::of(guard.id, guard.version, None, None)?;
    revision::record(txn, made, vec![entry]).await?;
    let verified = reread(txn, guard.id).await?;
    // the public sees when a listing was last confirmed
    if let Some(view) = public_view(&row::read(txn, &verified).await?, verified.moderation)? {
        reindex(txn, &verified, Some(&view)).await?;
        changes::append(txn, vec![Change::touched(guard.id, &view)]).await?;
    }
    Ok(verified)
}
