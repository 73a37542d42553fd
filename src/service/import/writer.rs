//! Writing imported assets in batches, through the one write path
//! (`asset_version::insert_batch`), with the organizations they name found or created
//! once each.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseTransaction};
use uuid::Uuid;

use super::ImportReport;
use super::mapping::Prepared;
use crate::domain::Text;
use crate::error::{AppError, AppResult};
use crate::service::asset_version::{self, Made, NewVersion};
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
}

impl<'t> Writer<'t> {
    /// A writer into `txn`; the taxonomy is read once.
    pub async fn new(txn: &'t DatabaseTransaction) -> AppResult<Self> {
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
    /// writes the batch when it is full.
    pub async fn add(
        &mut self,
        prepared: Prepared,
        category_ids: Vec<Uuid>,
        report: &mut ImportReport,
    ) -> AppResult<()> {
        let Prepared {
            mut content,
            organization,
        } = prepared;
        if let Some(name) = organization {
            content.organization_id = Some(self.organization(name, report).await?);
        }
        self.batch.push(NewVersion {
            id: Uuid::now_v7(),
            content,
            category_ids,
        });
        if self.batch.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes what is waiting.
    pub async fn flush(&mut self) -> AppResult<()> {
        let batch = std::mem::take(&mut self.batch);
        asset_version::insert_batch(self.txn, &batch, &Made::import()).await
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
