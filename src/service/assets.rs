//! Creating, reading, changing, archiving, verifying and restoring assets: what editors
//! and moderators do. Every write goes through `asset_version`, in one transaction that
//! also appends a revision and bumps `version`; a change names the version it was based
//! on and is refused with `CONFLICT` (changing nothing) when another got there first.
//! Nothing is ever deleted: archiving hides an asset from searches.
//!
//! Who may change what is checked twice: first here with a clear error (`FORBIDDEN`),
//! then in the write's own `WHERE` (see `asset_version::Guard`). An editor of an
//! organization that is not trusted proposes instead: the change waits in
//! `pending_changes` for a moderator (see `moderation`), and the asset is unchanged.

use std::collections::HashMap;

use entity::asset_revision::Action;
use entity::pending_change::ChangeAction;
use entity::{asset, asset_revision, organization, pending_change};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use uuid::Uuid;

use super::asset_version::{self, Guard, Made, revision, row};
use super::idempotency::{Claim, Claimed, IdempotencyKey};
use super::{categories, moderation};
use crate::auth::{Actor, Principal};
use crate::db::Db;
use crate::domain::{AssetContent, AssetPatch, AssetStatus, AtVersion, Moderation, PageSize};
use crate::error::{AppError, AppResult};

async fn organization_of(
    conn: &impl ConnectionTrait,
    id: Option<Uuid>,
) -> AppResult<Option<organization::Model>> {
    let Some(id) = id else { return Ok(None) };
    match organization::Entity::find_by_id(id).one(conn).await? {
        Some(org) => Ok(Some(org)),
        None => Err(AppError::invalid(
            "organizationId",
            "organizationId does not name an organization",
        )),
    }
}

/// Whether this actor's change to an asset of these organizations publishes at once:
/// moderators' always; editors' when every organization involved is trusted.
fn publishes(actor: &Actor, organizations: &[Option<organization::Model>]) -> bool {
    actor.is_moderator()
        || organizations
            .iter()
            .all(|o| o.as_ref().is_some_and(|o| o.trusted))
}

/// Creates an asset at version 1: published, or pending when the caller's organization
/// is not trusted. With a key, a retry with the same input returns the first asset.
#[tracing::instrument(skip_all, fields(asset.kind = content.kind.as_str()))]
pub async fn create(
    db: &Db,
    actor: &Actor,
    content: AssetContent,
    key: Option<IdempotencyKey>,
) -> AppResult<asset::Model> {
    if !actor.may_edit(content.organization_id) {
        return Err(AppError::forbidden(
            "editors create assets only for an organization they belong to: set organizationId to one of yours",
        ));
    }
    content.check()?;
    let snapshot = content.to_json()?;
    let id = Uuid::now_v7();
    let mut txn = db.write.begin().await?;
    if let Some(key) = key {
        match Claim::new(key, &snapshot)
            .claim(txn, &db.write, actor, id)
            .await?
        {
            Claimed::New(claimed) => txn = claimed,
            Claimed::Replay(existing) => return Ok(*existing),
        }
    }
    let org = organization_of(&txn, content.organization_id).await?;
    let published = publishes(actor, &[org]);
    let state = if published {
        Moderation::Approved
    } else {
        Moderation::Pending
    };
    let model =
        asset_version::insert(&txn, id, &content, state, &Made::by(Action::Create, actor)).await?;
    if !published {
        moderation::propose(&txn, actor, &model, ChangeAction::Create, None, snapshot).await?;
    }
    asset_version::commit(txn).await?;
    Ok(model)
}

/// An asset by id as this caller may see it: published assets for everyone, pending
/// and rejected ones only for their organization's editors and moderators.
pub async fn get(db: &Db, principal: &Principal, id: Uuid) -> AppResult<Option<asset::Model>> {
    let found = asset::Entity::find_by_id(id).one(&db.read).await?;
    Ok(found.filter(|a| a.moderation == Moderation::Approved || principal.sees(a.organization_id)))
}

/// An organization's assets in id order, as this caller may see them: listed,
/// published ones for everyone; for its own editors and moderators also those waiting
/// for a moderator or turned down, and archived ones when `include_archived`. With
/// `max_bytes`, no more than fit in that many bytes of stored text (see `pages`).
/// Returns the page and whether more follow.
pub async fn of_organization(
    db: &Db,
    principal: &Principal,
    organization: Uuid,
    include_archived: bool,
    after: Option<Uuid>,
    first: PageSize,
    max_bytes: Option<u64>,
) -> AppResult<(Vec<asset::Model>, bool)> {
    let mut query = asset::Entity::find()
        .filter(asset::Column::OrganizationId.eq(organization))
        .order_by_asc(asset::Column::Id);
    let own = principal.sees(Some(organization));
    if !own {
        query = query.filter(asset::Column::Moderation.eq(Moderation::Approved));
    }
    if !(own && include_archived) {
        query = query.filter(asset::Column::Status.eq(AssetStatus::Active));
    }
    if let Some(after) = after {
        query = query.filter(asset::Column::Id.gt(after));
    }
    let mut ids: Vec<Uuid> = query
        .select_only()
        .column(asset::Column::Id)
        .limit(first.get() + 1)
        .into_tuple()
        .all(&db.read)
        .await?;
    let mut more = first.split(&mut ids);
    if let Some(budget) = max_bytes {
        let fit = super::pages::fitting(&db.read, &ids, budget).await?;
        more |= fit < ids.len();
        ids.truncate(fit);
    }
    Ok((load_ordered(db, &ids).await?, more))
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

fn archived_conflict(row: &asset::Model, message: &str) -> AppResult<()> {
    if row.status == AssetStatus::Archived {
        return Err(AppError::Conflict {
            message: message.to_owned(),
            current_version: Some(row.version),
        });
    }
    Ok(())
}

/// Applies a change the caller made to the asset's current content: at once, or as a
/// pending change when the caller's organization is not trusted (the asset is then
/// returned unchanged).
async fn change(
    db: &Db,
    actor: &Actor,
    at: AtVersion,
    action: ChangeAction,
    edit: impl FnOnce(&AssetContent) -> AssetContent,
) -> AppResult<asset::Model> {
    let guard = Guard::published(actor, at);
    let txn = db.write.begin().await?;
    let current = guard.check(&txn).await?;
    archived_conflict(
        &current,
        "the asset is archived; a moderator can restore it",
    )?;
    let before = row::read(&txn, &current).await?;
    let after = edit(&before);
    if after == before {
        return Ok(current);
    }
    if after.organization_id != before.organization_id && !actor.may_edit(after.organization_id) {
        return Err(AppError::forbidden(
            "you may move an asset only to an organization you belong to",
        ));
    }
    let from = organization_of(&txn, before.organization_id).await?;
    let to = if after.organization_id == before.organization_id {
        from.clone()
    } else {
        organization_of(&txn, after.organization_id).await?
    };
    let model = if publishes(actor, &[from, to]) {
        let made = Made::by(moderation::revision_action(action), actor);
        asset_version::write(&txn, &guard, &before, &after, &made).await?
    } else {
        // the write checks the content when the change is approved; check it now too,
        // so the editor hears of a mistake while making it
        after.check()?;
        categories::resolve(&txn, &after.categories).await?;
        let (before, after) = (before.to_json()?, after.to_json()?);
        moderation::propose(&txn, actor, &current, action, Some(before), after).await?;
        current
    };
    asset_version::commit(txn).await?;
    Ok(model)
}

#[tracing::instrument(skip_all, fields(asset.id = %at.id))]
pub async fn update(
    db: &Db,
    actor: &Actor,
    at: AtVersion,
    patch: AssetPatch,
) -> AppResult<asset::Model> {
    change(db, actor, at, ChangeAction::Update, |c| c.apply(patch)).await
}

#[tracing::instrument(skip_all, fields(asset.id = %at.id))]
pub async fn archive(db: &Db, actor: &Actor, at: AtVersion) -> AppResult<asset::Model> {
    change(db, actor, at, ChangeAction::Archive, AssetContent::archived).await
}

/// An editor confirms the listing is still right: sets `lastVerifiedAt` without changing
/// the asset (nor its version or `updatedAt`), and says so in its history.
#[tracing::instrument(skip_all, fields(asset.id = %at.id))]
pub async fn verify(db: &Db, actor: &Actor, at: AtVersion) -> AppResult<asset::Model> {
    let guard = Guard::published(actor, at);
    let txn = db.write.begin().await?;
    let current = guard.check(&txn).await?;
    archived_conflict(&current, "the asset is archived")?;
    let verified =
        asset_version::mark_verified(&txn, &guard, &Made::by(Action::Verify, actor)).await?;
    asset_version::commit(txn).await?;
    Ok(verified)
}

/// A moderator puts an asset back as it was at `to_version` (archived assets too: restore
/// the version before the archiving), as a new version.
#[tracing::instrument(skip_all, fields(asset.id = %at.id))]
pub async fn restore(
    db: &Db,
    actor: &Actor,
    at: AtVersion,
    to_version: i32,
) -> AppResult<asset::Model> {
    actor.require_moderator()?;
    let guard = Guard::published(actor, at);
    let txn = db.write.begin().await?;
    let current = guard.check(&txn).await?;
    let before = row::read(&txn, &current).await?;
    let after = revision::content_at(&txn, at.id, to_version).await?;
    let made = Made::by(Action::Restore, actor);
    let restored = asset_version::write(&txn, &guard, &before, &after, &made).await?;
    asset_version::commit(txn).await?;
    Ok(restored)
}

/// The asset's revisions, newest first, at most `limit`.
pub async fn history(db: &Db, id: Uuid, limit: u64) -> AppResult<Vec<asset_revision::Model>> {
    revision::history(&db.read, id, limit).await
}

/// Pending changes proposed for this asset, oldest first.
pub async fn pending_for(db: &Db, id: Uuid) -> AppResult<Vec<pending_change::Model>> {
    use entity::pending_change::ChangeStatus;
    Ok(pending_change::Entity::find()
        .filter(pending_change::Column::AssetId.eq(id))
        .filter(pending_change::Column::Status.eq(ChangeStatus::Pending))
        .order_by_asc(pending_change::Column::Id)
        .all(&db.read)
        .await?)
}

/// How many assets are stored, archived ones included.
pub async fn count_all(conn: &impl ConnectionTrait) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(asset::Entity::find().count(conn).await?)
}
