//! Pending changes: what editors of organizations that are not trusted propose, and
//! moderators approve or reject. The public sees only approved content: a proposed
//! update leaves the asset as it was, a proposed new asset stays unpublished.
//!
//! A pending change applies only to the version it was based on; if the asset moved on
//! in the meantime, approving it is a `CONFLICT` and the moderator rejects it instead.

use entity::asset_revision::Action;
use entity::pending_change::{ChangeAction, ChangeStatus};
use entity::{asset, pending_change};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::asset_version::{self, Guard, Made, row};
use crate::auth::Actor;
use crate::db::Db;
use crate::domain::{AssetContent, AtVersion, Moderation, PageSize, Text};
use crate::error::{AppError, AppResult};

/// The revision a change makes when it is applied.
pub fn revision_action(action: ChangeAction) -> Action {
    match action {
        ChangeAction::Create => Action::Create,
        ChangeAction::Update => Action::Update,
        ChangeAction::Archive => Action::Archive,
    }
}

/// Records a change an editor proposes for `asset` (at its current version); `before` and
/// `after` are content snapshots.
pub async fn propose(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    asset: &asset::Model,
    action: ChangeAction,
    before: Option<String>,
    after: String,
) -> AppResult<pending_change::Model> {
    Ok(pending_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        asset_id: Set(asset.id),
        organization_id: Set(asset.organization_id),
        action: Set(action),
        base_version: Set(asset.version),
        before: Set(before),
        after: Set(after),
        proposed_by_id: Set(actor.id.clone()),
        proposed_by_name: Set(actor.name.clone()),
        proposed_at: Set(super::now()),
        status: Set(ChangeStatus::Pending),
        decided_by: Set(None),
        decided_at: Set(None),
        reason: Set(None),
    }
    .insert(conn)
    .await?)
}

/// Changes with this status, oldest first, after `after`: all of them for moderators,
/// those of their own organizations for editors.
pub async fn list(
    db: &Db,
    actor: &Actor,
    status: ChangeStatus,
    after: Option<Uuid>,
    first: PageSize,
) -> AppResult<Vec<pending_change::Model>> {
    let mut query = pending_change::Entity::find()
        .filter(pending_change::Column::Status.eq(status))
        .order_by_asc(pending_change::Column::Id)
        .limit(first.get() + 1);
    if let Some(after) = after {
        query = query.filter(pending_change::Column::Id.gt(after));
    }
    if !actor.is_moderator() {
        query = query.filter(
            pending_change::Column::OrganizationId.is_in(actor.organizations.iter().copied()),
        );
    }
    Ok(query.all(&db.read).await?)
}

async fn undecided(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<pending_change::Model> {
    let change = pending_change::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("pending change"))?;
    if change.status != ChangeStatus::Pending {
        return Err(AppError::Conflict {
            message: format!("the change was already {}", change.status.as_str()),
            current_version: None,
        });
    }
    Ok(change)
}

/// Marks the change decided, if no one else decided it first.
async fn decide(
    conn: &impl ConnectionTrait,
    moderator: &Actor,
    id: Uuid,
    status: ChangeStatus,
    reason: Option<String>,
) -> AppResult<pending_change::Model> {
    let result = pending_change::Entity::update_many()
        .col_expr(pending_change::Column::Status, Expr::value(status))
        .col_expr(
            pending_change::Column::DecidedBy,
            Expr::value(moderator.name.clone()),
        )
        .col_expr(pending_change::Column::DecidedAt, Expr::value(super::now()))
        .col_expr(pending_change::Column::Reason, Expr::value(reason))
        .filter(pending_change::Column::Id.eq(id))
        .filter(pending_change::Column::Status.eq(ChangeStatus::Pending))
        .exec(conn)
        .await?;
    if result.rows_affected != 1 {
        return Err(AppError::Conflict {
            message: "the change was decided by someone else first".to_owned(),
            current_version: None,
        });
    }
    pending_change::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("pending change"))
}

/// The version a change was proposed against.
fn base_of(change: &pending_change::Model) -> AtVersion {
    AtVersion {
        id: change.asset_id,
        version: change.base_version,
    }
}

/// Publishes or turns down a proposed new asset, if it still waits at the proposed
/// version.
async fn settle_new(
    txn: &DatabaseTransaction,
    moderator: &Actor,
    change: &pending_change::Model,
    moderation: Moderation,
) -> AppResult<()> {
    let guard = Guard {
        moderation: Moderation::Pending,
        ..Guard::published(moderator, base_of(change))
    };
    let action = if moderation == Moderation::Approved {
        Action::Approve
    } else {
        Action::Reject
    };
    asset_version::settle(txn, &guard, moderation, &Made::by(action, moderator)).await
}

/// A moderator publishes a pending change: a new asset becomes public, an update or an
/// archiving is applied to the asset (only if it is still at the proposed version).
pub async fn approve(db: &Db, moderator: &Actor, id: Uuid) -> AppResult<pending_change::Model> {
    moderator.require_moderator()?;
    let txn = db.write.begin().await?;
    let change = undecided(&txn, id).await?;
    if change.action == ChangeAction::Create {
        settle_new(&txn, moderator, &change, Moderation::Approved).await?;
    } else {
        let current = asset::Entity::find_by_id(change.asset_id)
            .one(&txn)
            .await?
            .ok_or(AppError::NotFound("asset"))?;
        if current.version != change.base_version {
            return Err(AppError::Conflict {
                message: format!(
                    "the asset changed since this edit was proposed (it was version {}, it is {} now): reject it and ask for the edit again",
                    change.base_version, current.version
                ),
                current_version: Some(current.version),
            });
        }
        let before = row::read(&txn, &current).await?;
        let after = AssetContent::from_json(&change.after)?;
        let made = Made {
            action: revision_action(change.action),
            actor_id: &change.proposed_by_id,
            actor_name: &change.proposed_by_name,
            approved_by: Some(&moderator.name),
        };
        let guard = Guard::published(moderator, base_of(&change));
        asset_version::write(&txn, &guard, &before, &after, &made).await?;
    }
    let decided = decide(&txn, moderator, id, ChangeStatus::Approved, None).await?;
    asset_version::commit(txn).await?;
    Ok(decided)
}

/// A moderator takes a published asset down for review: it leaves the public's view (a
/// deletion in the change log) and waits in the moderation queue as a proposed asset,
/// to be approved again or rejected.
pub async fn take_down(db: &Db, moderator: &Actor, at: AtVersion) -> AppResult<asset::Model> {
    moderator.require_moderator()?;
    let txn = db.write.begin().await?;
    let guard = Guard::published(moderator, at);
    let current = guard.check(&txn).await?;
    let made = Made::by(Action::TakeDown, moderator);
    asset_version::settle(&txn, &guard, Moderation::Pending, &made).await?;
    let taken_down = asset::Entity::find_by_id(at.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("asset"))?;
    let snapshot = row::read(&txn, &current).await?.to_json()?;
    propose(
        &txn,
        moderator,
        &taken_down,
        ChangeAction::Create,
        None,
        snapshot,
    )
    .await?;
    asset_version::commit(txn).await?;
    Ok(taken_down)
}

/// A moderator turns a pending change down, saying why; a proposed new asset is then
/// rejected too (it stays unpublished, and in the history).
pub async fn reject(
    db: &Db,
    moderator: &Actor,
    id: Uuid,
    reason: Text,
) -> AppResult<pending_change::Model> {
    moderator.require_moderator()?;
    let txn = db.write.begin().await?;
    let change = undecided(&txn, id).await?;
    if change.action == ChangeAction::Create {
        settle_new(&txn, moderator, &change, Moderation::Rejected).await?;
    }
    let decided = decide(
        &txn,
        moderator,
        id,
        ChangeStatus::Rejected,
        Some(reason.into_string()),
    )
    .await?;
    asset_version::commit(txn).await?;
    Ok(decided)
}
