//! GeoJSON out: every active asset as a Feature of one FeatureCollection, written as it
//! is read, a page at a time.

use std::io::Write;

use std::collections::HashMap;

use entity::{asset, category, organization};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};
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

/// These assets as GeoJSON Features, by id (their categories and organizations read in
/// one query each).
pub async fn features(db: &Db, rows: &[asset::Model]) -> AppResult<HashMap<Uuid, Value>> {
    let ids: Vec<Uuid> = rows.iter().map(|a| a.id).collect();
    let cats = categories::of_assets(&db.read, &ids).await?;
    let org_ids: Vec<Uuid> = rows.iter().filter_map(|a| a.organization_id).collect();
    let orgs = organizations::by_ids(db, &org_ids).await?;
    rows.iter()
        .map(|a| Ok((a.id, feature(a, &cats, &orgs)?)))
        .collect()
}

/// One asset as a GeoJSON Feature, with the properties the importer reads back.
fn feature(
    a: &asset::Model,
    cats: &HashMap<Uuid, Vec<category::Model>>,
    orgs: &HashMap<Uuid, organization::Model>,
) -> AppResult<Value> {
    let geometry: Value =
        serde_json::from_str(&a.geometry).map_err(|e| AppError::Internal(e.into()))?;
    Ok(json!({
        "type": "Feature",
        "id": a.id.to_string(),
        "geometry": geometry,
        "properties": {
            "kind": a.kind.as_str(),
            "name": a.name,
            "description": a.description,
            "categories": cats.get(&a.id).map(|c| c.iter().map(|c| c.slug.clone()).collect::<Vec<_>>()).unwrap_or_default(),
            "organization": a.organization_id.and_then(|o| orgs.get(&o)).map(|o| o.name.clone()),
            "organizationId": a.organization_id.map(|o| o.to_string()),
            "address": a.address,
            "postcode": a.postcode,
            "website": a.website,
            "email": a.email,
            "phone": a.phone,
            "opening_hours": a.opening_hours,
            "accessibility": Accessibility::from_mask(a.accessibility)
                .into_iter()
                .map(Accessibility::name)
                .collect::<Vec<_>>(),
            "free": a.free,
            "costNote": a.cost_note,
            "min_age": a.min_age,
            "max_age": a.max_age,
            "lastVerifiedAt": a.last_verified_at.map(|t| t.to_rfc3339()),
            "version": a.version,
            "createdAt": a.created_at.to_rfc3339(),
            "updatedAt": a.updated_at.to_rfc3339(),
        }
    }))
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
        let mut features = features(db, &rows).await?;
        for a in &rows {
            let feature = features.remove(&a.id).unwrap_or(Value::Null);
            if written > 0 {
                out.write_all(b",\n").map_err(io)?;
            }
            serde_json::to_writer(&mut *out, &feature).map_err(|e| AppError::Internal(e.into()))?;
            written += 1;
        }
    }
    out.write_all(b"\n]}\n").map_err(io)?;
    out.flush().map_err(io)?;
    Ok(written)
}
