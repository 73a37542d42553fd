//! What clients send to create or change an asset, and how it becomes content: every
//! field through its domain type, so a mistake is named by the field it is in.

use async_graphql::{ID, InputObject, MaybeUndefined};

use super::asset::{AccessibilityFeature, AssetKind, parse_id};
use super::scalars::GeoJson;
use crate::domain::asset::{self, AssetContent, AssetPatch, Contact, Details};
use crate::domain::hours::Hours;
use crate::domain::listing::{AccessibilitySet, AgeRange};
use crate::domain::text::{parse_email, parse_website};
use crate::domain::{AssetStatus, Text, ValidGeometry};
use crate::error::{AppError, AppResult};

/// A new asset. Text is trimmed; empty optional text counts as absent.
#[derive(InputObject)]
pub struct CreateAssetInput {
    /// What the asset is; decides which geometry types it may have.
    pub kind: AssetKind,
    /// 1 to 200 characters.
    pub name: String,
    /// Up to 5000 characters.
    pub description: Option<String>,
    /// Must be a geometry type the kind allows (see `AssetKind`).
    pub geometry: GeoJson,
    /// Category slugs (see `categories`), at most 20.
    pub categories: Option<Vec<String>>,
    /// The organization that runs the asset (see `createOrganization`).
    pub organization_id: Option<ID>,
    /// Postal address, up to 500 characters.
    pub address: Option<String>,
    /// Postcode, up to 500 characters.
    pub postcode: Option<String>,
    /// Web address, up to 500 characters.
    pub website: Option<String>,
    /// An email address.
    pub email: Option<String>,
    /// Telephone number, up to 500 characters.
    pub phone: Option<String>,
    /// OpenStreetMap `opening_hours` syntax, e.g. `Mo-Fr 09:30-12:00,13:30-16:00; PH off`
    /// (UK time; `PH`: bank holidays of England and Wales). Up to 500 characters.
    pub opening_hours: Option<String>,
    /// Accessibility features it has.
    pub accessibility: Option<Vec<AccessibilityFeature>>,
    /// Free to use; omit when not known.
    pub free: Option<bool>,
    /// What it costs, in words, up to 500 characters.
    pub cost_note: Option<String>,
    /// The youngest age it is for (0 to 130).
    pub min_age: Option<i32>,
    /// The oldest age it is for (0 to 130, not less than minAge).
    pub max_age: Option<i32>,
}

/// A change to an asset: omitted fields stay as they are; `null` clears an optional one.
#[derive(InputObject)]
pub struct UpdateAssetInput {
    /// A new kind; the geometry (new or current) must suit it.
    pub kind: Option<AssetKind>,
    /// 1 to 200 characters.
    pub name: Option<String>,
    /// Up to 5000 characters; null clears it.
    pub description: MaybeUndefined<String>,
    /// A new geometry, under the same rules as `createAsset`.
    pub geometry: Option<GeoJson>,
    /// Replaces the asset's categories.
    pub categories: Option<Vec<String>>,
    /// Another organization; null unlinks it.
    pub organization_id: MaybeUndefined<ID>,
    /// Null clears it.
    pub address: MaybeUndefined<String>,
    /// Null clears it.
    pub postcode: MaybeUndefined<String>,
    /// Null clears it.
    pub website: MaybeUndefined<String>,
    /// Null clears it.
    pub email: MaybeUndefined<String>,
    /// Null clears it.
    pub phone: MaybeUndefined<String>,
    /// OpenStreetMap `opening_hours` syntax; null clears it.
    pub opening_hours: MaybeUndefined<String>,
    /// Replaces the accessibility features.
    pub accessibility: Option<Vec<AccessibilityFeature>>,
    /// Null: not known.
    pub free: MaybeUndefined<bool>,
    /// Null clears it.
    pub cost_note: MaybeUndefined<String>,
    /// Null clears it.
    pub min_age: MaybeUndefined<i32>,
    /// Null clears it.
    pub max_age: MaybeUndefined<i32>,
}

/// Optional text of an ordinary field (up to [`Text::FIELD_MAX`] characters).
pub fn text(field: &'static str, v: Option<&str>) -> AppResult<Option<Text>> {
    Text::parse_opt(field, v, Text::FIELD_MAX)
}

/// `undefined` leaves a field alone; `null` or empty text clears it.
fn patch_text(
    field: &'static str,
    v: &MaybeUndefined<String>,
    max: usize,
) -> AppResult<Option<Option<Text>>> {
    match v {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(s) => Text::parse_opt(field, Some(s), max).map(Some),
    }
}

/// `undefined` leaves a field alone; `null` clears it; a value is parsed.
fn patch_with<T, U>(
    v: &MaybeUndefined<T>,
    parse: impl FnOnce(&T) -> AppResult<Option<U>>,
) -> AppResult<Option<Option<U>>> {
    match v {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(x) => parse(x).map(Some),
    }
}

fn hours(v: Option<&str>) -> AppResult<Option<Hours>> {
    v.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(Hours::parse)
        .transpose()
}

fn features(v: Option<Vec<AccessibilityFeature>>) -> AccessibilitySet {
    let features: Vec<_> = v.unwrap_or_default().into_iter().map(Into::into).collect();
    AccessibilitySet::of(&features)
}

fn age(field: &'static str, age: i32) -> AppResult<Option<i32>> {
    if (0..=AgeRange::OLDEST).contains(&age) {
        Ok(Some(age))
    } else {
        Err(AppError::invalid(
            field,
            format!("{field} is 0 to {}", AgeRange::OLDEST),
        ))
    }
}

impl CreateAssetInput {
    /// The new asset's content, every field checked.
    pub fn into_content(self) -> AppResult<AssetContent> {
        let content = AssetContent {
            kind: self.kind.into(),
            name: Text::name(&self.name)?,
            description: Text::description(self.description.as_deref())?,
            geometry: ValidGeometry::parse(&self.geometry.0)?,
            organization_id: self
                .organization_id
                .as_ref()
                .map(|id| parse_id("organizationId", id))
                .transpose()?,
            contact: Contact {
                address: text("address", self.address.as_deref())?,
                postcode: text("postcode", self.postcode.as_deref())?,
                website: parse_website(self.website.as_deref())?,
                email: parse_email(self.email.as_deref())?,
                phone: text("phone", self.phone.as_deref())?,
            },
            categories: asset::categories(self.categories.unwrap_or_default())?,
            status: AssetStatus::Active,
            details: Details {
                opening_hours: hours(self.opening_hours.as_deref())?,
                accessibility: features(self.accessibility),
                free: self.free,
                cost_note: text("costNote", self.cost_note.as_deref())?,
                ages: AgeRange::new(self.min_age, self.max_age)?,
            },
        };
        content.check()?;
        Ok(content)
    }
}

impl UpdateAssetInput {
    /// The change, every given field checked; the rules that span fields are checked on
    /// the content it makes.
    pub fn into_patch(self) -> AppResult<AssetPatch> {
        Ok(AssetPatch {
            kind: self.kind.map(Into::into),
            name: self.name.as_deref().map(Text::name).transpose()?,
            description: patch_text("description", &self.description, Text::DESCRIPTION_MAX)?,
            geometry: self
                .geometry
                .as_ref()
                .map(|g| ValidGeometry::parse(&g.0))
                .transpose()?,
            categories: self.categories.map(asset::categories).transpose()?,
            organization_id: patch_with(&self.organization_id, |id| {
                parse_id("organizationId", id).map(Some)
            })?,
            address: patch_text("address", &self.address, Text::FIELD_MAX)?,
            postcode: patch_text("postcode", &self.postcode, Text::FIELD_MAX)?,
            website: patch_with(&self.website, |w| parse_website(Some(w)))?,
            email: patch_with(&self.email, |e| parse_email(Some(e)))?,
            phone: patch_text("phone", &self.phone, Text::FIELD_MAX)?,
            opening_hours: patch_with(&self.opening_hours, |t| hours(Some(t)))?,
            accessibility: self.accessibility.map(|f| features(Some(f))),
            free: patch_with(&self.free, |f| Ok(Some(*f)))?,
            cost_note: patch_text("costNote", &self.cost_note, Text::FIELD_MAX)?,
            min_age: patch_with(&self.min_age, |a| age("minAge", *a))?,
            max_age: patch_with(&self.max_age, |a| age("maxAge", *a))?,
        })
    }
}
