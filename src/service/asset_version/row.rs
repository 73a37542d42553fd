//! The one conversion between an asset's content and its database row.
//!
//! A row holds the content in columns (the public geometry in `geometry` and its box,
//! the exact point of a person in `exact_geometry`, accessibility as bits, the words of
//! the full-text index in `search_text`) beside what is not content: id, version,
//! moderation, timestamps, verification.

use entity::asset;
use sea_orm::ActiveValue::Set;
use sea_orm::ConnectionTrait;

use crate::domain::asset::{AssetContent, Contact, Details};
use crate::domain::hours::Hours;
use crate::domain::listing::{AccessibilitySet, AgeRange};
use crate::domain::search::search_text;
use crate::domain::text::{Text, opt_string};
use crate::domain::{ValidGeometry, people};
use crate::error::{AppError, AppResult};
use crate::service::categories;

fn stored_error(what: &str, cause: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("stored {what} unreadable: {cause}"))
}

/// The content a row holds; `categories` are the asset's category slugs.
pub fn content_of(row: &asset::Model, mut categories: Vec<String>) -> AppResult<AssetContent> {
    categories.sort();
    let text = |t: &Option<String>| t.clone().map(Text::stored);
    // for people, the exact point: content is for their own editors only
    let geometry = ValidGeometry::parse_str(row.exact_geometry.as_deref().unwrap_or(&row.geometry))
        .map_err(|e| stored_error("geometry", e))?;
    let opening_hours = row
        .opening_hours
        .as_deref()
        .map(Hours::parse)
        .transpose()
        .map_err(|e| stored_error("opening hours", e.message()))?;
    Ok(AssetContent {
        kind: row.kind,
        name: Text::stored(row.name.clone()),
        description: text(&row.description),
        geometry,
        organization_id: row.organization_id,
        contact: Contact {
            address: text(&row.address),
            postcode: text(&row.postcode),
            website: text(&row.website),
            email: text(&row.email),
            phone: text(&row.phone),
        },
        categories,
        status: row.status,
        details: Details {
            opening_hours,
            accessibility: AccessibilitySet::from_mask(row.accessibility),
            free: row.free,
            cost_note: text(&row.cost_note),
            ages: AgeRange {
                min: row.min_age,
                max: row.max_age,
            },
        },
    })
}

/// The content of a stored asset, with its categories (one query).
pub async fn read(conn: &impl ConnectionTrait, row: &asset::Model) -> AppResult<AssetContent> {
    let slugs = categories::of_assets(conn, &[row.id])
        .await?
        .remove(&row.id)
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.slug)
        .collect();
    content_of(row, slugs)
}

/// The geometry the public sees of this content (for people, an approximate point).
pub fn public_geometry(content: &AssetContent) -> AppResult<ValidGeometry> {
    Ok(people::public_geometry(content.kind, &content.geometry)?.into_owned())
}

/// The row's content columns set from `content`; the other columns are left unset.
pub fn columns(content: &AssetContent) -> AppResult<asset::ActiveModel> {
    let public = public_geometry(content)?;
    let bbox = public.bbox();
    let Contact {
        address,
        postcode,
        website,
        email,
        phone,
    } = &content.contact;
    let details = &content.details;
    Ok(asset::ActiveModel {
        kind: Set(content.kind),
        name: Set(content.name.as_str().to_owned()),
        description: Set(opt_string(content.description.as_ref())),
        geometry: Set(public.to_geojson_string()),
        min_lon: Set(bbox.min().x),
        min_lat: Set(bbox.min().y),
        max_lon: Set(bbox.max().x),
        max_lat: Set(bbox.max().y),
        exact_geometry: Set(
            people::is_person(content.kind).then(|| content.geometry.to_geojson_string())
        ),
        organization_id: Set(content.organization_id),
        address: Set(opt_string(address.as_ref())),
        postcode: Set(opt_string(postcode.as_ref())),
        website: Set(opt_string(website.as_ref())),
        email: Set(opt_string(email.as_ref())),
        phone: Set(opt_string(phone.as_ref())),
        status: Set(content.status),
        opening_hours: Set(details
            .opening_hours
            .as_ref()
            .map(|h| h.as_str().to_owned())),
        accessibility: Set(details.accessibility.mask()),
        free: Set(details.free),
        cost_note: Set(opt_string(details.cost_note.as_ref())),
        min_age: Set(details.ages.min),
        max_age: Set(details.ages.max),
        search_text: Set(search_text(
            content.name.as_str(),
            content.description.as_ref().map(Text::as_str),
            &content.categories,
        )),
        ..Default::default()
    })
}
