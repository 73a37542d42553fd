//! Writing imported assets in batches, through the one write path
//! (`asset_version::insert_batch`), with the organizations they name found or created
//! once each. A record of a feed the database has seen before (by its source id)
//! becomes a new version of the asset it made (`asset_version::write`), or nothing if
//! it has not changed.

use std::collections::{HashMap, HashSet};

use entity::{asset, asset_source};
use sea_orm::ActiveValue::Set;
use sea_orm::{ConnectionTrait, DatabaseTransaction, EntityTrait};
use uuid::Uuid;

use super::ImportReport;
use super::mapping::Prepared;
use crate::auth::{Actor, Role};
use crate::domain::{AtVersion, Moderation, Text};
use crate::error::{AppError, AppResult};
use crate::service::asset_version::{self, Guard, Made, NewVersion};
use crate::service::{categories, organizations};

/// Assets written per batch.
const BATCH: usize = 500;

pub struct Writer<'t> {
    txn: &'t DatabaseTransaction,
    /// Every category's id by slug.
    category_ids: HashMap<String, Uuid>,
    /// Organizations found or created so far, by name.
    organizations: HashMap<String, Uuid>,
    batch: Vec<NewVersion>,
    /// The feed being imported, when its records carry ids.
    source: Option<String>,
    /// Source ids of the batch's new assets, written with the batch.
    sources: Vec<asset_source::ActiveModel>,
    /// Source ids met so far in this import.
    seen: HashSet<String>,
}

impl<'t> Writer<'t> {
    /// A writer into `txn`; the taxonomy is read once.
    pub async fn new(txn: &'t DatabaseTransaction, source: Option<String>) -> AppResult<Self> {
        let category_ids = categories::list(txn)
            .await?
            .into_iter()
            .map(|c| (c.slug, c.id))
            .collect();
        Ok(Self {
            txn,
            category_ids,
            organizations: HashMap::new(),
            batch: Vec::with_capacity(BATCH),
            source,
            sources: Vec::new(),
            seen: HashSet::new(),
        })
    }

    /// The ids of these slugs; an unknown slug rejects the feature.
    pub fn category_ids(&self, slugs: &[String]) -> AppResult<Vec<Uuid>> {
        slugs
            .iter()
            .map(|slug| {
                self.category_ids.get(slug).copied().ok_or_else(|| {
                    AppError::invalid("categories", format!("there is no category {slug:?}"))
                })
            })
            .collect()
    }

    /// Adds an accepted feature to the batch, finding or creating its organization, and
    /// writes the batch when it is full; a feed's record seen in an earlier import
    /// updates its asset instead. A record the feed lists twice is `INVALID_INPUT`; an
    /// asset waiting for a moderator is `CONFLICT` (both reported, not fatal).
    pub async fn add(
        &mut self,
        prepared: Prepared,
        category_ids: Vec<Uuid>,
        report: &mut ImportReport,
    ) -> AppResult<()> {
        let Prepared {
            mut content,
            organization,
            source_id,
            ..
        } = prepared;
        let source = self.source.clone().zip(source_id);
        if let Some((_, id)) = source
            .as_ref()
            .filter(|(_, id)| !self.seen.insert(id.clone()))
        {
            return Err(AppError::invalid(
                "source_id",
                format!("the feed lists {id:?} more than once"),
            ));
        }
        if let Some(name) = organization {
            content.organization_id = Some(self.organization(name, report).await?);
        }
        if let Some((feed, id)) = &source {
            let known = asset_source::Entity::find_by_id((feed.clone(), id.clone()))
                .one(self.txn)
                .await?;
            if let Some(known) = known {
                return self.update(known.asset_id, content, report).await;
            }
        }
        let id = Uuid::now_v7();
        if let Some((feed, source_id)) = source {
            self.sources.push(asset_source::ActiveModel {
                source: Set(feed),
                source_id: Set(source_id),
                asset_id: Set(id),
            });
        }
        self.batch.push(NewVersion {
            id,
            content,
            category_ids,
        });
        report.imported += 1;
        if self.batch.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    /// A new version of an asset an earlier import made, unless nothing changed.
    async fn update(
        &mut self,
        id: Uuid,
        content: crate::domain::AssetContent,
        report: &mut ImportReport,
    ) -> AppResult<()> {
        let row = asset::Entity::find_by_id(id)
            .one(self.txn)
            .await?
            .ok_or(AppError::NotFound("asset"))?;
        let before = asset_version::row::read(self.txn, &row).await?;
        if before == content {
            report.unchanged += 1;
            return Ok(());
        }
        if row.moderation != Moderation::Approved {
            return Err(AppError::Conflict {
                message: "its asset waits for a moderator; it can change after that".into(),
                current_version: Some(row.version),
            });
        }
        let importer = Actor {
            id: "cli".into(),
            name: "import".into(),
            role: Role::Admin,
            organizations: Vec::new(),
        };
        let guard = Guard::published(
            &importer,
            AtVersion {
                id,
                version: row.version,
            },
        );
        asset_version::write(self.txn, &guard, &before, &content, &Made::import()).await?;
        report.imported += 1;
        report.updated += 1;
        Ok(())
    }

    /// Writes what is waiting.
    pub async fn flush(&mut self) -> AppResult<()> {
        let batch = std::mem::take(&mut self.batch);
        asset_version::insert_batch(self.txn, &batch, &Made::import()).await?;
        let sources = std::mem::take(&mut self.sources);
        if !sources.is_empty() {
            asset_source::Entity::insert_many(sources)
                .exec_without_returning(self.txn)
                .await?;
        }
        Ok(())
    }

    async fn organization(&mut self, name: String, report: &mut ImportReport) -> AppResult<Uuid> {
        if let Some(id) = self.organizations.get(&name) {
            return Ok(*id);
        }
        let id = find_or_create(self.txn, &name, report).await?;
        self.organizations.insert(name, id);
        Ok(id)
    }
}

async fn find_or_create(
    conn: &impl ConnectionTrait,
    name: &str,
    report: &mut ImportReport,
) -> AppResult<Uuid> {
    if let Some(org) = organizations::find_by_name(conn, name).await? {
        return Ok(org.id);
    }
    let org = organizations::insert(
        conn,
        organizations::NewOrganization {
            name: Text::parse("organization", name, Text::NAME_MAX)?,
            description: None,
            website: None,
            email: None,
            phone: None,
            trusted: false,
        },
    )
    .await?;
    report.organizations_created += 1;
    Ok(org.id)
}
