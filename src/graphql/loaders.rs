//! DataLoaders: a page of assets loads its categories and organizations in one query
//! each, not one per asset.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{category, organization};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::db::Db;
use crate::service;

pub struct CategoriesByAsset(pub Db);

impl Loader<Uuid> for CategoriesByAsset {
    type Value = Vec<category::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        Ok(service::categories::of_assets(&self.0.read, keys).await?)
    }
}

pub struct OrganizationById(pub Db);

impl Loader<Uuid> for OrganizationById {
    type Value = organization::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        Ok(service::organizations::by_ids(&self.0, keys).await?)
    }
}

pub struct CategoryById(pub Db);

impl Loader<Uuid> for CategoryById {
    type Value = category::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = category::Entity::find()
            .filter(category::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0.read)
            .await
            .map_err(crate::error::AppError::from)?;
        Ok(rows.into_iter().map(|c| (c.id, c)).collect())
    }
}
