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
//! history.

mod guard;
pub mod revision;
pub mod row;

use entity::asset;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait};
use uuid::Uuid;

pub use guard::Guard;
pub use revision::{Entry, Made};

use crate::db::Db;
use crate::domain::{AssetContent, AssetStatus, Moderation};
use crate::error::{AppError, AppResult};
use crate::service::changes::{self, Change, public_view};
use crate::service::{categories, now};
use crate::spatial;

/// Commits a transaction that wrote assets, then lets this replica's subscriptions hear
/// of it before the caller answers.
pub async fn commit(db: &Db, txn: DatabaseTransaction) -> AppResult<()> {
    txn.commit().await?;
    db.changes.committed(db).await;
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

/// The `app_meta` key a migration sets to `rebuild` when the search records must be
/// computed anew from the assets.
const SEARCH_RECORDS: &str = "search_records";

/// Computes every public asset's search records again, when a migration asked for it
/// (SQLite), in one transaction; a no-op otherwise.
pub async fn rebuild_search_records(db: &Db) -> AppResult<()> {
    use entity::app_meta;
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};
    let flag = app_meta::Entity::find_by_id(SEARCH_RECORDS)
        .one(&db.write)
        .await?;
    if flag.is_none_or(|f| f.value != "rebuild") {
        return Ok(());
    }
    tracing::info!("computing the search records of every asset (once, after an upgrade)");
    let txn = db.write.begin().await?;
    let mut after: Option<Uuid> = None;
    loop {
        let mut query = asset::Entity::find()
            .filter(asset::Column::Status.eq(AssetStatus::Active))
            .filter(asset::Column::Moderation.eq(Moderation::Approved))
            .order_by_asc(asset::Column::Id)
            .limit(1_000);
        if let Some(after) = after {
            query = query.filter(asset::Column::Id.gt(after));
        }
        let rows = query.all(&txn).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id);
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut cats = categories::of_assets(&txn, &ids).await?;
        let mut views = Vec::with_capacity(rows.len());
        for r in &rows {
            let mine = cats.remove(&r.id).unwrap_or_default();
            let slugs = mine.iter().map(|c| c.slug.clone()).collect();
            let content = row::content_of(r, slugs)?;
            let category_ids: Vec<Uuid> = mine.iter().map(|c| c.id).collect();
            views.push((public_view(&content, r.moderation)?, category_ids));
        }
        let indexed: Vec<spatial::Indexed<'_>> = rows
            .iter()
            .zip(&views)
            .map(|(r, (view, category_ids))| spatial::Indexed {
                id: r.id,
                version: r.version,
                verified_at: r.last_verified_at,
                view: view.as_ref(),
                category_ids,
            })
            .collect();
        spatial::reindex(&txn, &indexed).await?;
    }
    app_meta::ActiveModel {
        key: Set(SEARCH_RECORDS.to_owned()),
        value: Set("ready".to_owned()),
    }
    .update(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The `app_meta` key a migration sets to `check` when stored websites must be checked.
const WEBSITES: &str = "websites";

/// Once, after the upgrade that made websites `http`/`https` only: every asset whose
/// stored website is not such an address gets it fixed (`http://` added where only the
/// scheme was missing) or cleared (`javascript:` and the like), each as a new version
/// with its revision, recorded as made by "website check"; organizations' websites the
/// same way. Returns how many assets changed.
pub async fn check_websites(db: &Db) -> AppResult<u64> {
    use crate::auth::{Actor, Role};
    use crate::domain::Text;
    use crate::domain::text::web_address;
    use entity::{app_meta, asset_revision::Action, organization};
    use sea_orm::{ColumnTrait, QueryFilter, TransactionTrait};
    let flag = app_meta::Entity::find_by_id(WEBSITES)
        .one(&db.write)
        .await?;
    if flag.is_none_or(|f| f.value != "check") {
        return Ok(0);
    }
    let txn = db.write.begin().await?;
    let checker = Actor {
        id: "system:website-check".into(),
        name: "website check".into(),
        role: Role::Admin,
        organizations: Vec::new(),
    };
    let made = Made::by(Action::Update, &checker);
    let rows = asset::Entity::find()
        .filter(asset::Column::Website.is_not_null())
        .all(&txn)
        .await?;
    let mut fixed = 0;
    for r in rows {
        let Some(website) = r.website.as_deref() else {
            continue;
        };
        let good =
            web_address(website).and_then(|w| Text::parse("website", &w, Text::FIELD_MAX).ok());
        if good.as_ref().map(Text::as_str) == Some(website) {
            continue;
        }
        let before = row::read(&txn, &r).await?;
        let mut after = before.clone();
        after.contact.website = good;
        let guard = Guard {
            id: r.id,
            version: r.version,
            moderation: r.moderation,
            actor: &checker,
        };
        write(&txn, &guard, &before, &after, &made).await?;
        fixed += 1;
    }
    for org in organization::Entity::find()
        .filter(organization::Column::Website.is_not_null())
        .all(&txn)
        .await?
    {
        let good = org.website.as_deref().and_then(web_address);
        if good.as_deref() != org.website.as_deref() {
            organization::ActiveModel {
                id: Set(org.id),
                website: Set(good),
                ..Default::default()
            }
            .update(&txn)
            .await?;
        }
    }
    app_meta::ActiveModel {
        key: Set(WEBSITES.to_owned()),
        value: Set("checked".to_owned()),
    }
    .update(&txn)
    .await?;
    commit(db, txn).await?;
    if fixed > 0 {
        tracing::info!(
            assets.fixed = fixed,
            "websites that were not web addresses fixed or cleared (once, after an upgrade)"
        );
    }
    Ok(fixed)
}
