//! API tokens. A token is `amt_` and 43 characters of base64url (32 random bytes); only
//! its SHA-256 is stored, so a database leak gives no working token. Tokens are issued
//! and revoked from the CLI (`assetmap token ...`); a revoked token stops working on the
//! next request, on every replica, since each request looks its hash up.

use base64::Engine;
use entity::{api_token, api_token_organization, organization};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::db::Db;
use crate::error::{AppError, AppResult};

pub const PREFIX: &str = "amt_";

/// A token as issued: the secret is shown once, here, and never again.
pub struct Issued {
    pub token: api_token::Model,
    pub organizations: Vec<Uuid>,
    pub secret: String,
}

pub fn hash(secret: &str) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().fold(String::with_capacity(64), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

fn new_secret() -> AppResult<String> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

pub async fn create(db: &Db, name: &str, role: Role, organizations: &[Uuid]) -> AppResult<Issued> {
    let name = crate::domain::Text::name(name)?;
    match role {
        Role::Editor if organizations.is_empty() => {
            return Err(AppError::invalid(
                "org",
                "an editor's token names the organizations it acts for (--org)",
            ));
        }
        Role::Moderator | Role::Admin | Role::LinkWorker if !organizations.is_empty() => {
            return Err(AppError::invalid(
                "org",
                "only editors act for organizations: give no --org",
            ));
        }
        _ => {}
    }
    let txn = db.write.begin().await?;
    let mut organizations = organizations.to_vec();
    organizations.sort_unstable();
    organizations.dedup();
    let known = organization::Entity::find()
        .filter(organization::Column::Id.is_in(organizations.iter().copied()))
        .all(&txn)
        .await?;
    let what = "does not name an organization";
    super::require_all("org", &organizations, &known, |k| k.id, what)?;
    let secret = new_secret()?;
    let token = api_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.into_string()),
        role: Set(role),
        secret_hash: Set(hash(&secret)),
        created_at: Set(super::now()),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    for org in &organizations {
        api_token_organization::ActiveModel {
            token_id: Set(token.id),
            organization_id: Set(*org),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(Issued {
        token,
        organizations,
        secret,
    })
}

/// Revokes a token; revoking a revoked token changes nothing.
pub async fn revoke(db: &Db, id: Uuid) -> AppResult<api_token::Model> {
    let token = api_token::Entity::find_by_id(id)
        .one(&db.write)
        .await?
        .ok_or(AppError::NotFound("token"))?;
    if token.revoked_at.is_some() {
        return Ok(token);
    }
    let mut active: api_token::ActiveModel = token.into();
    active.revoked_at = Set(Some(super::now()));
    Ok(active.update(&db.write).await?)
}

/// Every token, oldest first, with the organizations it acts for.
pub async fn list(db: &Db) -> AppResult<Vec<(api_token::Model, Vec<Uuid>)>> {
    let tokens = api_token::Entity::find()
        .order_by_asc(api_token::Column::Id)
        .all(&db.read)
        .await?;
    let links = api_token_organization::Entity::find().all(&db.read).await?;
    Ok(tokens
        .into_iter()
        .map(|t| {
            let orgs = links
                .iter()
                .filter(|l| l.token_id == t.id)
                .map(|l| l.organization_id)
                .collect();
            (t, orgs)
        })
        .collect())
}

/// The actor a bearer secret stands for; `UNAUTHENTICATED` when it is unknown or revoked.
pub async fn authenticate(db: &Db, secret: &str) -> AppResult<Actor> {
    let invalid =
        || AppError::Unauthenticated("the API token is not valid (unknown or revoked)".to_owned());
    if !secret.starts_with(PREFIX) || secret.len() > 100 {
        return Err(invalid());
    }
    let token = api_token::Entity::find()
        .filter(api_token::Column::SecretHash.eq(hash(secret)))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(&db.read)
        .await?
        .ok_or_else(invalid)?;
    let role = token.role;
    let organizations = if role == Role::Editor {
        api_token_organization::Entity::find()
            .filter(api_token_organization::Column::TokenId.eq(token.id))
            .all(&db.read)
            .await?
            .into_iter()
            .map(|l| l.organization_id)
            .collect()
    } else {
        Vec::new()
    };
    Ok(Actor {
        id: format!("token:{}", token.id),
        name: token.name,
        role,
        organizations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hashed() {
        let a = new_secret().unwrap_or_default();
        let b = new_secret().unwrap_or_default();
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 43, "{a}");
        assert_ne!(a, b);
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
