//! The demo map: real open data from Greater Manchester (see `data/gm/README.md`),
//! loaded through the importer once, in one transaction, into an empty database.
//! A marker in `app_meta` keeps it from loading again, even after every demo asset has
//! been archived.

use entity::app_meta;
use sea_orm::{ActiveModelTrait, EntityTrait, Set, TransactionTrait};

use super::asset_version;
use super::import::{ImportOptions, ImportReport, Rule, features_of, import_into};
use crate::db::Db;
use crate::domain::AssetKind;
use crate::error::AppResult;

const MARKER: &str = "demo_loaded";

struct Dataset {
    file: &'static str,
    json: &'static str,
    options: fn() -> ImportOptions,
}

fn rule(property: &str, value: &str, kind: Option<AssetKind>, categories: &[&str]) -> Rule {
    Rule {
        property: property.to_owned(),
        value: value.to_owned(),
        kind,
        categories: categories.iter().map(|c| (*c).to_owned()).collect(),
    }
}

fn greenspace() -> ImportOptions {
    let site =
        |value: &str, kind: Option<AssetKind>, cats: &[&str]| rule("site_type", value, kind, cats);
    ImportOptions {
        kind: Some(AssetKind::GreenSpace),
        categories: vec!["nature-and-green-space".into()],
        name_property: Some("site_name".into()),
        fallback_name_property: Some("site_type".into()),
        rules: vec![
            site("Public Park Or Garden", Some(AssetKind::Park), &["parks"]),
            site("Play Space", None, &["play"]),
            site("Playing Field", None, &["sport"]),
            site("Other Sports Facility", None, &["sport"]),
            site("Bowling Green", None, &["sport"]),
            site("Tennis Court", None, &["sport"]),
            site("Golf Course", None, &["sport"]),
            site("Allotments Or Community Growing Spaces", None, &["growing"]),
        ],
        ..ImportOptions::default()
    }
}

fn green_flag_parks() -> ImportOptions {
    ImportOptions {
        kind: Some(AssetKind::Park),
        categories: vec!["parks".into(), "walking".into()],
        organization_property: Some("managed".into()),
        ..ImportOptions::default()
    }
}

fn food_banks() -> ImportOptions {
    ImportOptions {
        kind: Some(AssetKind::Service),
        categories: vec!["food-banks".into()],
        ..ImportOptions::default()
    }
}

fn libraries() -> ImportOptions {
    ImportOptions {
        kind: Some(AssetKind::Venue),
        categories: vec!["libraries".into()],
        ..ImportOptions::default()
    }
}

fn sports_clubs() -> ImportOptions {
    let sport = |value: &str, cats: &[&str]| rule("category", value, None, cats);
    ImportOptions {
        kind: Some(AssetKind::CommunityGroup),
        categories: vec!["sport".into()],
        rules: vec![
            sport("Swimming", &["swimming"]),
            sport("Cycling", &["cycling"]),
            sport("Walking", &["walking"]),
        ],
        ..ImportOptions::default()
    }
}

fn mental_health() -> ImportOptions {
    ImportOptions {
        kind: Some(AssetKind::Service),
        categories: vec!["mental-wellbeing".into()],
        ..ImportOptions::default()
    }
}

const DATASETS: &[Dataset] = &[
    Dataset {
        file: "trafford_greenspace_sites.geojson",
        json: include_str!("../../data/gm/trafford_greenspace_sites.geojson"),
        options: greenspace,
    },
    Dataset {
        file: "gm_green_flag_parks.geojson",
        json: include_str!("../../data/gm/gm_green_flag_parks.geojson"),
        options: green_flag_parks,
    },
    Dataset {
        file: "gm_food_banks.geojson",
        json: include_str!("../../data/gm/gm_food_banks.geojson"),
        options: food_banks,
    },
    Dataset {
        file: "gm_libraries.geojson",
        json: include_str!("../../data/gm/gm_libraries.geojson"),
        options: libraries,
    },
    Dataset {
        file: "trafford_sports_clubs.geojson",
        json: include_str!("../../data/gm/trafford_sports_clubs.geojson"),
        options: sports_clubs,
    },
    Dataset {
        file: "trafford_mental_health_services.geojson",
        json: include_str!("../../data/gm/trafford_mental_health_services.geojson"),
        options: mental_health,
    },
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
        let report = import_into(
            &txn,
            features_of(&collection)?,
            &(dataset.options)(),
            &|_| {},
        )
        .await?;
        reports.push((dataset.file, report));
    }
    app_meta::ActiveModel {
        key: Set(MARKER.to_owned()),
        value: Set(super::now().to_rfc3339()),
    }
    .insert(&txn)
    .await?;
    asset_version::commit(db, txn).await?;
    Ok(Some(reports))
}
