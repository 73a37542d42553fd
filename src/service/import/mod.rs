//! GeoJSON FeatureCollections, CSV files and Open Referral UK feeds in: each record
//! becomes a GeoJSON Feature (`reader`; `delimited` for CSV, placed by coordinates or
//! postcode; `oruk` for a council's feed), is mapped (`mapping`: name, kind,
//! categories, contact details from the common property names), validated by the same
//! gates as the API, and either imported or reported with its reason. Features are read
//! one at a time and written in batches (`writer`), all in one transaction: a failed
//! import leaves nothing behind. Records a feed identifies (`source_id`) update the
//! asset an earlier import of that feed made.

mod delimited;
mod mapping;
mod oruk;
mod reader;
mod source;
mod writer;

use sea_orm::{DatabaseTransaction, TransactionTrait};
use serde_json::Value;
use tokio::sync::mpsc;

pub use delimited::{CsvColumns, read_csv};
pub use oruk::{FeedSource, MAX_BYTES as MAX_FEED_BYTES, TermMapping, read_oruk};
pub use reader::{FeatureReceiver, features_of, read_features};
pub use source::{Reshape, SourceMapping};

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
    /// The feed the features come from (`oruk:<url or file>`): features with a
    /// `source_id` update the assets an earlier import of this feed made.
    pub source: Option<String>,
    /// A source mapping's rewriting of each record's properties (weekday hours,
    /// accessibility columns ...), done before the mapping reads them.
    pub reshape: Option<std::sync::Arc<Reshape>>,
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
    /// The line of a CSV file the row starts on.
    pub line: Option<u64>,
    pub name: Option<String>,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub total: usize,
    /// Assets added or changed.
    pub imported: usize,
    /// Of those, assets an earlier import of the same feed made, changed.
    pub updated: usize,
    /// Records of the feed that match their asset already.
    pub unchanged: usize,
    pub organizations_created: usize,
    pub rejected: Vec<Rejection>,
    /// Records imported without a field that could not be used (`reason` says which
    /// and why).
    pub left_out: Vec<Rejection>,
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
            updated: 0,
            unchanged: 0,
            organizations_created: 0,
            ..report
        });
    }
    asset_version::commit(txn).await?;
    if report.imported > 1_000 {
        db.refresh_statistics().await;
    }
    Ok(report)
}

fn rejection(index: usize, feature: &Value, err: &AppError) -> Rejection {
    Rejection {
        index,
        line: feature.get("line").and_then(Value::as_u64),
        name: mapping::feature_name(feature),
        reason: match err {
            AppError::InvalidGeometry(g) => format!("{} ({})", g, g.reason.as_str()),
            other => other.message(),
        },
    }
}

/// A feature read and mapped (with the name and line it is reported by), or the reason
/// it was not.
type Mapped = Result<(mapping::Prepared, Option<String>, Option<u64>), Rejection>;

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
            let item = feature.map(|mut feature| {
                let reshaped = options
                    .reshape
                    .as_ref()
                    .map_or(Ok(()), |r| r.apply(&mut feature));
                if let Err(reason) = reshaped {
                    return Err(Rejection {
                        index,
                        line: feature.get("line").and_then(Value::as_u64),
                        name: mapping::feature_name(&feature),
                        reason,
                    });
                }
                mapping::prepare(&feature, &options)
                    .map(|prepared| {
                        let line = feature.get("line").and_then(Value::as_u64);
                        (prepared, mapping::feature_name(&feature), line)
                    })
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
    let mut writer = writer::Writer::new(txn, options.source.clone()).await?;
    let mut report = ImportReport::default();
    let mut features = mapped(features, options);
    while let Some(item) = features.recv().await {
        let index = report.total;
        let accepted = item?.and_then(|(prepared, name, line)| {
            writer
                .category_ids(&prepared.content.categories)
                .map(|ids| (prepared, ids, name.clone(), line))
                .map_err(|e| Rejection {
                    index,
                    line,
                    name,
                    reason: e.message(),
                })
        });
        match accepted {
            Ok((mut prepared, ids, name, line)) => {
                for reason in std::mem::take(&mut prepared.left_out) {
                    report.left_out.push(Rejection {
                        index,
                        line,
                        name: name.clone(),
                        reason,
                    });
                }
                if let Err(e) = writer.add(prepared, ids, &mut report).await {
                    match e {
                        // a record the feed lists twice, or whose asset is in no state to
                        // change: reported, the rest goes on
                        AppError::InvalidInput { .. } | AppError::Conflict { .. } => {
                            report.rejected.push(Rejection {
                                index,
                                line,
                                name,
                                reason: e.message(),
                            });
                        }
                        other => return Err(other),
                    }
                }
            }
            Err(rejected) => report.rejected.push(rejected),
        }
        report.total += 1;
        progress(report.total as u64);
    }
    writer.flush().await?;
    Ok(report)
}
