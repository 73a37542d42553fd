//! DataLoaders: a page of assets loads its categories and organizations in one query
//! each, not one per asset.
//!
//! The loaders live for one request and remember what they loaded. A search resolver
//! that knows its page and sees (by looking ahead) that the query asks for relations
//! fills them in one go with [`prefetch`], so the count of queries for a page is fixed
//! however busy the executor is: a loader on its own gathers keys for 1 ms and, on a
//! loaded machine, a page resolved in parts would split into several batches.

use std::collections::{HashMap, HashSet};

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{asset, category, organization};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::db::Db;
use crate::error::AppResult;
use crate::service;

/// A loader as the request holds it: with its own cache.
pub type Cached<T> = DataLoader<T, HashMapCache>;

pub struct CategoriesByAsset(pub Db);

impl Loader<Uuid> for CategoriesByAsset {
    type Value = Vec<category::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let mut found = service::categories::of_assets(&self.0.read, keys).await?;
        // an asset with no categories is an answer too: remember it
        for key in keys {
            found.entry(*key).or_default();
        }
        Ok(found)
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
        Ok(categories_by_id(&self.0, keys).await?)
    }
}

async fn categories_by_id(db: &Db, ids: &[Uuid]) -> AppResult<HashMap<Uuid, category::Model>> {
    let rows = category::Entity::find()
        .filter(category::Column::Id.is_in(ids.iter().copied()))
        .all(&db.read)
        .await?;
    Ok(rows.into_iter().map(|c| (c.id, c)).collect())
}

/// The request's loaders, each with a cache that lasts as long as the request.
pub fn for_request(request: async_graphql::Request, db: &Db) -> async_graphql::Request {
    request
        .data(DataLoader::with_cache(
            CategoriesByAsset(db.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
        .data(DataLoader::with_cache(
            OrganizationById(db.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
        .data(DataLoader::with_cache(
            CategoryById(db.clone()),
            tokio::spawn,
            HashMapCache::default(),
        ))
}

/// Loads, for a page of assets, the relations the query selects under `edges.node`:
/// categories (and their parents) and organizations, one query each, into the request's
/// loaders, where the assets' resolvers find them.
pub async fn prefetch(ctx: &Context<'_>, assets: &[&asset::Model]) -> async_graphql::Result<()> {
    if assets.is_empty() {
        return Ok(());
    }
    let node = ctx.look_ahead().field("edges").field("node");
    let categories = node.field("categories");
    let (Some(db), Some(by_asset), Some(by_org), Some(by_id)) = (
        ctx.data_opt::<Db>(),
        ctx.data_opt::<Cached<CategoriesByAsset>>(),
        ctx.data_opt::<Cached<OrganizationById>>(),
        ctx.data_opt::<Cached<CategoryById>>(),
    ) else {
        return Ok(());
    };
    // a search's reasons name the categories each asset matched
    if categories.exists() || ctx.look_ahead().field("edges").field("reasons").exists() {
        let ids: Vec<Uuid> = assets.iter().map(|a| a.id).collect();
        let found = by_asset.loader().load(&ids).await?;
        if categories.field("parent").exists() {
            let parents: HashSet<Uuid> = found
                .values()
                .flatten()
                .filter_map(|c| c.parent_id)
                .collect();
            let parents: Vec<Uuid> = parents.into_iter().collect();
            if !parents.is_empty() {
                by_id.feed_many(categories_by_id(db, &parents).await?).await;
            }
        }
        by_asset.feed_many(found).await;
    }
    if node.field("organization").exists() {
        let ids: HashSet<Uuid> = assets.iter().filter_map(|a| a.organization_id).collect();
        let ids: Vec<Uuid> = ids.into_iter().collect();
        if !ids.is_empty() {
            by_org.feed_many(by_org.loader().load(&ids).await?).await;
        }
    }
    Ok(())
}
