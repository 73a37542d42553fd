//! GeoJSON out: every active asset as a Feature of one FeatureCollection, written as it
//! is read, a page at a time.

use std::io::Write;

use std::collections::HashMap;

use entity::{asset, category, organization};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::{categories, organizations};
use crate::db::Db;
use crate::domain::listing::Accessibility;
use crate::domain::{AssetStatus, Moderation};
use crate::error::{AppError, AppResult};

const PAGE: u64 = 1_000;

fn io(err: std::io::Error) -> AppError {
    AppError::Internal(err.into())
}

/// What a page of assets needs beside their rows to be written as Features: their
/// categories and organizations, read in one query each.
pub struct Parts {
    categories: HashMap<Uuid, Vec<category::Model>>,
    organizations: HashMap<Uuid, organization::Model>,
}

impl Parts {
    pub async fn of(db: &Db, rows: &[asset::Model]) -> AppResult<Self> {
        let ids: Vec<Uuid> = rows.iter().map(|a| a.id).collect();
        let categories = categories::of_assets(&db.read, &ids).await?;
        let org_ids: Vec<Uuid> = rows.iter().filter_map(|a| a.organization_id).collect();
        let organizations = organizations::by_ids(db, &org_ids).await?;
        Ok(Self {
            categories,
            organizations,
        })
    }
}

/// A Feature as written: the stored geometry text goes out as it is (it was written by
/// the geometry gate), so no tree of values is built for thousands of positions. Keys
/// in alphabetical order, as a `serde_json::Value` prints them.
#[derive(Serialize)]
struct Feature<'a> {
    geometry: &'a RawValue,
    id: String,
    properties: Properties<'a>,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Properties<'a> {
    accessibility: Vec<&'static str>,
    address: Option<&'a str>,
    categories: Vec<&'a str>,
    cost_note: Option<&'a str>,
    created_at: String,
    description: Option<&'a str>,
    email: Option<&'a str>,
    free: Option<bool>,
    kind: &'static str,
    last_verified_at: Option<String>,
    #[serde(rename = "max_age")]
    max_age: Option<i32>,
    #[serde(rename = "min_age")]
    min_age: Option<i32>,
    name: &'a str,
    #[serde(rename = "opening_hours")]
    opening_hours: Option<&'a str>,
    organization: Option<&'a str>,
    organization_id: Option<String>,
    phone: Option<&'a str>,
    postcode: Option<&'a str>,
    updated_at: String,
    version: i32,
    website: Option<&'a str>,
}

/// Writes one asset as a GeoJSON Feature, with the properties the importer reads back.
pub fn write_feature(out: &mut impl Write, a: &asset::Model, parts: &Parts) -> AppResult<()> {
    let geometry: &RawValue =
        serde_json::from_str(&a.geometry).map_err(|e| AppError::Internal(e.into()))?;
    let feature = Feature {
        geometry,
        id: a.id.to_string(),
        kind: "Feature",
        properties: Properties {
            accessibility: Accessibility::from_mask(a.accessibility)
                .into_iter()
                .map(Accessibility::name)
                .collect(),
            address: a.address.as_deref(),
            categories: parts
                .categories
                .get(&a.id)
                .map(|c| c.iter().map(|c| c.slug.as_str()).collect())
                .unwrap_or_default(),
            cost_note: a.cost_note.as_deref(),
            created_at: a.created_at.to_rfc3339(),
            description: a.description.as_deref(),
            email: a.email.as_deref(),
            free: a.free,
            kind: a.kind.as_str(),
            last_verified_at: a.last_verified_at.map(|t| t.to_rfc3339()),
            max_age: a.max_age,
            min_age: a.min_age,
            name: &a.name,
            opening_hours: a.opening_hours.as_deref(),
            organization: a
                .organization_id
                .and_then(|o| parts.organizations.get(&o))
                .map(|o| o.name.as_str()),
            organization_id: a.organization_id.map(|o| o.to_string()),
            phone: a.phone.as_deref(),
            postcode: a.postcode.as_deref(),
            updated_at: a.updated_at.to_rfc3339(),
            version: a.version,
            website: a.website.as_deref(),
        },
    };
    serde_json::to_writer(out, &feature).map_err(|e| AppError::Internal(e.into()))
}

/// Writes the FeatureCollection and returns how many features it holds.
pub async fn export(db: &Db, out: &mut impl Write) -> AppResult<u64> {
    out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")
        .map_err(io)?;
    let mut after: Option<Uuid> = None;
    let mut written = 0_u64;
    loop {
        let mut query = asset::Entity::find()
            .filter(asset::Column::Status.eq(AssetStatus::Active))
            .filter(asset::Column::Moderation.eq(Moderation::Approved))
            .order_by_asc(asset::Column::Id)
            .limit(PAGE);
        if let Some(a) = after {
            query = query.filter(asset::Column::Id.gt(a));
        }
        let rows = query.all(&db.read).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id);
        let parts = Parts::of(db, &rows).await?;
        for a in &rows {
            if written > 0 {
                out.write_all(b",\n").map_err(io)?;
            }
            write_feature(&mut *out, a, &parts)?;
            written += 1;
        }
    }
    out.write_all(b"\n]}\n").map_err(io)?;
    out.flush().map_err(io)?;
    Ok(written)
}
