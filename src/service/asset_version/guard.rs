//! The condition every write of an asset row carries in its own `WHERE`: the row is still
//! at the version the change was based on, in the moderation state the change expects,
//! and (for editors) of one of the caller's organizations. A write that finds no such row
//! changes nothing and says why.

use entity::asset;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::auth::Actor;
use crate::domain::{AtVersion, Moderation};
use crate::error::{AppError, AppResult};

/// Where a write may land.
#[derive(Clone, Copy, Debug)]
pub struct Guard<'a> {
    pub id: Uuid,
    /// The version the change was based on.
    pub version: i32,
    /// The moderation state the row must be in.
    pub moderation: Moderation,
    /// Who writes: an editor writes only to their own organizations' assets.
    pub actor: &'a Actor,
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

impl<'a> Guard<'a> {
    /// A change to a published asset, based on the version `at` names.
    pub fn published(actor: &'a Actor, at: AtVersion) -> Self {
        Self {
            id: at.id,
            version: at.version,
            moderation: Moderation::Approved,
            actor,
        }
    }

    /// Why the write may not land on `row` (None: it may).
    pub fn refusal(&self, row: Option<&asset::Model>) -> Option<AppError> {
        let Some(row) = row else {
            return Some(AppError::NotFound("asset"));
        };
        if !self.actor.may_edit(row.organization_id) {
            // unpublished assets of other organizations do not exist for this caller
            return Some(if row.moderation == Moderation::Approved {
                AppError::forbidden("you may change only assets of the organizations you belong to")
            } else {
                AppError::NotFound("asset")
            });
        }
        if row.version != self.version {
            return Some(conflict(row.version));
        }
        if row.moderation == self.moderation {
            return None;
        }
        let message = match (self.moderation, row.moderation) {
            (Moderation::Approved, Moderation::Pending) => {
                "the asset waits for a moderator to approve it; it can change after that"
            }
            (Moderation::Approved, _) => "the asset was rejected by a moderator and cannot change",
            _ => "the proposed asset no longer waits for a decision",
        };
        Some(AppError::Conflict {
            message: message.to_owned(),
            current_version: Some(row.version),
        })
    }

    /// The row to change, read in the transaction, if the write may land on it.
    pub async fn check(&self, conn: &impl ConnectionTrait) -> AppResult<asset::Model> {
        let row = asset::Entity::find_by_id(self.id).one(conn).await?;
        match self.refusal(row.as_ref()) {
            Some(e) => Err(e),
            None => row.ok_or(AppError::NotFound("asset")),
        }
    }

    /// Writes `changes` to the row if, at the moment of writing, the guard holds.
    pub(super) async fn update(
        &self,
        conn: &impl ConnectionTrait,
        changes: asset::ActiveModel,
    ) -> AppResult<()> {
        let mut update = asset::Entity::update_many()
            .set(changes)
            .filter(asset::Column::Id.eq(self.id))
            .filter(asset::Column::Version.eq(self.version))
            .filter(asset::Column::Moderation.eq(self.moderation));
        if !self.actor.is_moderator() {
            update = update.filter(
                asset::Column::OrganizationId.is_in(self.actor.organizations.iter().copied()),
            );
        }
        if update.exec(conn).await?.rows_affected == 1 {
            return Ok(());
        }
        let row = asset::Entity::find_by_id(self.id).one(conn).await?;
        Err(self.refusal(row.as_ref()).unwrap_or_else(|| {
            AppError::Internal(anyhow::anyhow!("asset {} was not written", self.id))
        }))
    }
}
