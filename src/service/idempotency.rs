//! Idempotent creates: a client's key, claimed in the same transaction as the asset it
//! makes, with a hash of the input, so a retry gets the first asset back instead of a
//! duplicate, and the same key with other input is refused.

use entity::{asset, idempotency_key};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, SqlErr};
use uuid::Uuid;

use crate::auth::Actor;
use crate::error::{AppError, AppResult};

/// A client's idempotency key: 1 to [`IdempotencyKey::MAX`] characters, none of them
/// control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX: usize = 200;

    pub fn parse(key: &str) -> AppResult<Self> {
        if key.is_empty() || key.chars().count() > Self::MAX || key.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "idempotencyKey",
                format!(
                    "idempotencyKey is 1 to {} characters, none of them control characters",
                    Self::MAX
                ),
            ));
        }
        Ok(Self(key.to_owned()))
    }
}

/// A key with a hash of the input it came with.
pub struct Claim {
    key: IdempotencyKey,
    request_hash: String,
}

/// What claiming a key found.
pub enum Claimed {
    /// The key is this request's now: go on and make the asset in this transaction.
    New(DatabaseTransaction),
    /// An earlier request with this key and the same input made this asset.
    Replay(Box<asset::Model>),
}

impl Claim {
    /// `input` is the request's normalized input (the content as JSON).
    pub fn new(key: IdempotencyKey, input: &str) -> Self {
        Self {
            key,
            request_hash: super::tokens::hash(input),
        }
    }

    /// The asset an earlier create with this key made, or an error if the key came with
    /// different input.
    async fn replay(
        &self,
        conn: &impl ConnectionTrait,
        actor: &Actor,
    ) -> AppResult<Option<asset::Model>> {
        let Some(found) =
            idempotency_key::Entity::find_by_id((actor.id.clone(), self.key.0.clone()))
                .one(conn)
                .await?
        else {
            return Ok(None);
        };
        if found.request_hash != self.request_hash {
            return Err(AppError::invalid(
                "idempotencyKey",
                "this idempotencyKey was already used with different input: use a new key for a new asset",
            ));
        }
        asset::Entity::find_by_id(found.asset_id)
            .one(conn)
            .await?
            .map(Some)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("idempotency key without its asset")))
    }

    /// Claims the key for `asset_id` in `txn`, or finds the asset an earlier request with
    /// it made. When another request holding the same key commits first, this waits for
    /// it (PostgreSQL's unique index) and replays its asset, read through `outside` since
    /// `txn` can no longer be used.
    pub async fn claim(
        &self,
        txn: DatabaseTransaction,
        outside: &impl ConnectionTrait,
        actor: &Actor,
        asset_id: Uuid,
    ) -> AppResult<Claimed> {
        if let Some(existing) = self.replay(&txn, actor).await? {
            return Ok(Claimed::Replay(Box::new(existing)));
        }
        let claimed = idempotency_key::ActiveModel {
            owner: Set(actor.id.clone()),
            key: Set(self.key.0.clone()),
            request_hash: Set(self.request_hash.clone()),
            asset_id: Set(asset_id),
            created_at: Set(super::now()),
        }
        .insert(&txn)
        .await;
        match claimed {
            Ok(_) => Ok(Claimed::New(txn)),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                drop(txn);
                let existing = self
                    .replay(outside, actor)
                    .await?
                    .ok_or_else(|| AppError::Internal(e.into()))?;
                Ok(Claimed::Replay(Box::new(existing)))
            }
            Err(e) => Err(e.into()),
        }
    }
}
