//! GeoJSON FeatureCollections in: each feature is mapped (`mapping`: name, kind,
//! categories, contact details from the common property names), validated by the same
//! gates as the API, and either imported or reported with its reason. Features are read
//! one at a time (`reader`) and written in batches (`writer`), all in one transaction: a
//! failed import leaves nothing behind.

mod mapping;
mod reader;
mod writer;

use sea_orm::{DatabaseTransaction, TransactionTrait};
use serde_json::Value;
use tokio::sync::mpsc;

pub use reader::{FeatureReceiver, features_of, read_features};

use super::{asset_version, categories};
use crate::db::Db;
use crate::domain::AssetKind;
use crate::domain::asset;
use crate::error::{AppError, AppResult};

/// Sets kind and categories for features whose `property` equals `value`.
#[derive(Clone, Debug, Default)]
pub struct Rule {
    pub property: String,
    pub value: String,
    pub kind: Option<AssetKind>,
    pub categories: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The kind of every feature, unless a rule or a `kind` property says otherwise.
    pub kind: Option<AssetKind>,
    /// Categories given to every feature.
    pub categories: Vec<String>,
    /// The property holding the name, instead of the usual names.
    pub name_property: Option<String>,
    /// The property to name a feature by when it has no name (e.g. its type, so an
    /// unnamed site becomes "Play Space").
    pub fallback_name_property: Option<String>,
    /// The property naming the organization that runs the asset; organizations are
    /// found by name or created.
    pub organization_property: Option<String>,
    pub rules: Vec<Rule>,
    /// Refuse the whole file if any feature is rejected.
    pub strict: bool,
}

impl ImportOptions {
    /// Every category the options themselves give, which must exist before anything is
    /// read.
    async fn check_categories(&self, txn: &DatabaseTransaction) -> AppResult<()> {
        let named = self
            .categories
            .iter()
            .chain(self.rules.iter().flat_map(|r| r.categories.iter()))
            .cloned();
        categories::resolve(txn, &asset::categories(named)?).await?;
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The feature's position in the collection, from 0.
    pub index: usize,
    pub name: Option<String>,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub total: usize,
    pub imported: usize,
    pub organizations_created: usize,
    pub rejected: Vec<Rejection>,
}

/// Imports a FeatureCollection held in memory, in one transaction.
pub async fn import(
    db: &Db,
    collection: &Value,
    options: &ImportOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> AppResult<ImportReport> {
    import_stream(db, features_of(collection)?, options, progress).await
}

/// Imports features as they arrive, in one transaction. `progress` is told how many
/// features have been handled so far. Nothing is written unless every feature arrived
/// and the transaction committed.
pub async fn import_stream(
    db: &Db,
    features: FeatureReceiver,
    options: &ImportOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> AppResult<ImportReport> {
    let txn = db.write.begin().await?;
    let report = import_into(&txn, features, options, progress).await?;
    if options.strict && !report.rejected.is_empty() {
        txn.rollback().await?;
        return Ok(ImportReport {
            imported: 0,
            organizations_created: 0,
            ..report
        });
    }
    asset_version::commit(db, txn).await?;
    if report.imported > 1_000 {
        db.refresh_statistics().await;
    }
    Ok(report)
}

fn rejection(index: usize, feature: &Value, err: &AppError) -> Rejection {
    Rejection {
        index,
        name: mapping::feature_name(feature),
        reason: match err {
            AppError::InvalidGeometry(g) => format!("{} ({})", g, g.reason.as_str()),
            other => other.message(),
        },
    }
}

/// A feature read and mapped (with the name it is reported by), or the reason it was
/// not.
type Mapped = Result<(mapping::Prepared, Option<String>), Rejection>;

/// Maps features on a blocking thread as they arrive, so reading, mapping and
/// validating the next features runs beside the writing of the last ones.
fn mapped(
    mut features: FeatureReceiver,
    options: &ImportOptions,
) -> mpsc::Receiver<AppResult<Mapped>> {
    let (tx, rx) = mpsc::channel(1024);
    let options = options.clone();
    tokio::task::spawn_blocking(move || {
        let mut index = 0;
        while let Some(feature) = features.blocking_recv() {
            let item = feature.map(|feature| {
                mapping::prepare(&feature, &options)
                    .map(|prepared| (prepared, mapping::feature_name(&feature)))
                    .map_err(|e| rejection(index, &feature, &e))
            });
            let failed = item.is_err();
            if tx.blocking_send(item).is_err() || failed {
                return;
            }
            index += 1;
        }
    });
    rx
}

/// Imports into an open transaction; the caller commits.
pub async fn import_into(
    txn: &DatabaseTransaction,
    features: FeatureReceiver,
    options: &ImportOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> AppResult<ImportReport> {
    options.check_categories(txn).await?;
    let mut writer = writer::Writer::new(txn).await?;
    let mut report = ImportReport::default();
    let mut features = mapped(features, options);
    while let Some(item) = features.recv().await {
        let index = report.total;
        let accepted = item?.and_then(|(prepared, name)| {
            writer
                .category_ids(&prepared.content.categories)
                .map(|ids| (prepared, ids))
                .map_err(|e| Rejection {
                    index,
                    name,
                    reason: e.message(),
                })
        });
        match accepted {
            Ok((prepared, ids)) => {
                writer.add(prepared, ids, &mut report).await?;
                report.imported += 1;
            }
            Err(rejected) => report.rejected.push(rejected),
        }
        report.total += 1;
        progress(report.total as u64);
    }
    writer.flush().await?;
    Ok(report)
}
