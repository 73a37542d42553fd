//! The demo map: real open data from Greater Manchester (see `data/gm/README.md`),
//! loaded through the importer once, in one transaction, into an empty database, each
//! file with its source mapping from `data/gm/mappings/`.
//! A marker in `app_meta` keeps it from loading again, even after every demo asset has
//! been archived.

use entity::app_meta;
use sea_orm::{ActiveModelTrait, EntityTrait, Set, TransactionTrait};

use super::asset_version;
use super::import::{ImportReport, SourceMapping, features_of, import_into};
use crate::db::Db;
use crate::error::AppResult;

const MARKER: &str = "demo_loaded";

/// A file of the demo map and the source mapping it is imported with: the same kind
/// of mapping file a council passes to `assetmap import --mapping`.
struct Dataset {
    file: &'static str,
    json: &'static str,
    mapping: &'static str,
}

/// A dataset of `data/gm/` by its file's stem, with the mapping of the same name.
macro_rules! dataset {
    ($stem:literal) => {
        Dataset {
            file: concat!($stem, ".geojson"),
            json: include_str!(concat!("../../data/gm/", $stem, ".geojson")),
            mapping: include_str!(concat!("../../data/gm/mappings/", $stem, ".json")),
        }
    };
}

const DATASETS: &[Dataset] = &[
    dataset!("trafford_greenspace_sites"),
    dataset!("gm_green_flag_parks"),
    dataset!("gm_food_banks"),
    dataset!("gm_libraries"),
    dataset!("trafford_sports_clubs"),
    dataset!("trafford_mental_health_services"),
    dataset!("gm_pharmacies"),
    dataset!("trafford_sports_facilities"),
];

/// Loads the demo map unless it was loaded before or the database already holds assets.
/// Returns the per-file reports when it loaded.
pub async fn load_if_empty(db: &Db) -> AppResult<Option<Vec<(&'static str, ImportReport)>>> {
    let txn = db.write.begin().await?;
    if app_meta::Entity::find_by_id(MARKER)
        .one(&txn)
        .await?
        .is_some()
        || super::assets::count_all(&txn).await? > 0
    {
        return Ok(None);
    }
    let mut reports = Vec::new();
    for dataset in DATASETS {
        let collection: serde_json::Value = serde_json::from_str(dataset.json)
            .map_err(|e| crate::error::AppError::Internal(e.into()))?;
        let (mut options, reshape) = SourceMapping::parse(dataset.mapping)?.into_options();
        options.reshape = Some(std::sync::Arc::new(reshape));
        let report = import_into(&txn, features_of(&collection)?, &options, &|_| {}).await?;
        reports.push((dataset.file, report));
    }
    app_meta::ActiveModel {
        key: Set(MARKER.to_owned()),
        value: Set(super::now().to_rfc3339()),
    }
    .insert(&txn)
    .await?;
    asset_version::commit(txn).await?;
    Ok(Some(reports))
}
