//! An asset's content: everything an editor writes about it, typed once. Every write
//! (create, update, archive, restore, approve, import) takes an [`AssetContent`], every
//! revision and pending change stores one as JSON (its serde form, kept compatible with
//! what earlier versions wrote), and history compares two of them.
//!
//! What is not content stays on the row: the id, the version, the moderation state, the
//! timestamps and the last verification.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::hours::Hours;
use crate::domain::kind::KindRules;
use crate::domain::listing::{AccessibilitySet, AgeRange};
use crate::domain::text::{Text, parse_slug};
use crate::domain::{AssetKind, AssetStatus, ValidGeometry};
use crate::error::{AppError, AppResult};

/// Contact details of an asset; every field optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub address: Option<Text>,
    pub postcode: Option<Text>,
    pub website: Option<Text>,
    pub email: Option<Text>,
    pub phone: Option<Text>,
}

/// What a link worker checks: opening hours, accessibility, cost and ages.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Details {
    #[serde(default)]
    pub opening_hours: Option<Hours>,
    #[serde(default)]
    pub accessibility: AccessibilitySet,
    /// Free to use; None when not known.
    #[serde(default)]
    pub free: Option<bool>,
    #[serde(default)]
    pub cost_note: Option<Text>,
    #[serde(flatten)]
    pub ages: AgeRange,
}

/// An asset's content at one version. The geometry is the exact one (for people, only
/// their own editors see it; the row conversion stores the public, approximate point
/// beside it). Categories are slugs, sorted and without repeats.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetContent {
    pub kind: AssetKind,
    pub name: Text,
    pub description: Option<Text>,
    pub geometry: ValidGeometry,
    pub organization_id: Option<Uuid>,
    #[serde(flatten)]
    pub contact: Contact,
    pub categories: Vec<String>,
    pub status: AssetStatus,
    #[serde(flatten)]
    pub details: Details,
}

/// The most categories one asset may carry.
pub const MAX_CATEGORIES: usize = 20;

/// Category slugs as content holds them: each a valid slug, sorted, no repeats, at most
/// [`MAX_CATEGORIES`].
pub fn categories(slugs: impl IntoIterator<Item = String>) -> AppResult<Vec<String>> {
    let mut out = slugs
        .into_iter()
        .map(|s| parse_slug(&s))
        .collect::<AppResult<Vec<String>>>()?;
    out.sort();
    out.dedup();
    if out.len() > MAX_CATEGORIES {
        return Err(AppError::invalid(
            "categories",
            format!("at most {MAX_CATEGORIES} categories"),
        ));
    }
    Ok(out)
}

impl AssetContent {
    /// The rules that span fields: the geometry type suits the kind, the ages are in
    /// order.
    pub fn check(&self) -> AppResult<()> {
        self.kind.check_geometry(self.geometry.geometry_type())?;
        AgeRange::new(self.details.ages.min, self.details.ages.max)?;
        Ok(())
    }

    /// The content with a patch applied; `check` it before writing.
    #[must_use]
    pub fn apply(&self, patch: AssetPatch) -> Self {
        fn set<T>(field: &mut T, value: Option<T>) {
            if let Some(v) = value {
                *field = v;
            }
        }
        let mut next = self.clone();
        set(&mut next.kind, patch.kind);
        set(&mut next.name, patch.name);
        set(&mut next.description, patch.description);
        set(&mut next.geometry, patch.geometry);
        set(&mut next.categories, patch.categories);
        set(&mut next.organization_id, patch.organization_id);
        set(&mut next.contact.address, patch.address);
        set(&mut next.contact.postcode, patch.postcode);
        set(&mut next.contact.website, patch.website);
        set(&mut next.contact.email, patch.email);
        set(&mut next.contact.phone, patch.phone);
        set(&mut next.details.opening_hours, patch.opening_hours);
        set(&mut next.details.accessibility, patch.accessibility);
        set(&mut next.details.free, patch.free);
        set(&mut next.details.cost_note, patch.cost_note);
        set(&mut next.details.ages.min, patch.min_age);
        set(&mut next.details.ages.max, patch.max_age);
        next
    }

    /// The same content, archived.
    #[must_use]
    pub fn archived(&self) -> Self {
        Self {
            status: AssetStatus::Archived,
            ..self.clone()
        }
    }

    /// As revisions and pending changes store it.
    pub fn to_json(&self) -> AppResult<String> {
        serde_json::to_string(self).map_err(|e| AppError::Internal(e.into()))
    }

    /// A stored snapshot, read back.
    pub fn from_json(text: &str) -> AppResult<Self> {
        serde_json::from_str(text).map_err(|e| AppError::Internal(e.into()))
    }
}

/// An asset as the caller last read it: a change names the version it was based on,
/// and is refused if the asset has moved on since.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AtVersion {
    pub id: Uuid,
    pub version: i32,
}

/// A partial update: `None` leaves a field as it is; for nullable fields `Some(None)`
/// clears it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AssetPatch {
    pub kind: Option<AssetKind>,
    pub name: Option<Text>,
    pub description: Option<Option<Text>>,
    pub geometry: Option<ValidGeometry>,
    /// As [`categories`] returns them.
    pub categories: Option<Vec<String>>,
    pub organization_id: Option<Option<Uuid>>,
    pub address: Option<Option<Text>>,
    pub postcode: Option<Option<Text>>,
    pub website: Option<Option<Text>>,
    pub email: Option<Option<Text>>,
    pub phone: Option<Option<Text>>,
    pub opening_hours: Option<Option<Hours>>,
    pub accessibility: Option<AccessibilitySet>,
    pub free: Option<Option<bool>>,
    pub cost_note: Option<Option<Text>>,
    pub min_age: Option<Option<i32>>,
    pub max_age: Option<Option<i32>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::listing::Accessibility;

    fn park() -> AssetContent {
        AssetContent {
            kind: AssetKind::Park,
            name: Text::parse("name", "Longford Park", 200).unwrap(),
            description: None,
            geometry: ValidGeometry::parse(
                &serde_json::json!({"type": "Point", "coordinates": [-2.29, 53.44]}),
            )
            .unwrap(),
            organization_id: None,
            contact: Contact::default(),
            categories: categories(vec!["parks".into(), "parks".into(), "food".into()]).unwrap(),
            status: AssetStatus::Active,
            details: Details {
                opening_hours: Some(Hours::parse("Mo-Fr 09:00-17:00").unwrap()),
                accessibility: AccessibilitySet::of(&[Accessibility::Lift, Accessibility::Seating]),
                free: Some(true),
                cost_note: None,
                ages: AgeRange::new(Some(18), None).unwrap(),
            },
        }
    }

    #[test]
    fn categories_are_sorted_and_unique() {
        assert_eq!(
            park().categories,
            vec!["food".to_owned(), "parks".to_owned()]
        );
        assert!(categories(vec!["Not A Slug".into()]).is_err());
    }

    #[test]
    fn snapshots_keep_the_stored_shape_and_round_trip() {
        let content = park();
        let text = content.to_json().unwrap();
        // the order earlier versions wrote (idempotency hashes are taken of this text)
        let keys = [
            "kind",
            "name",
            "description",
            "geometry",
            "organizationId",
            "address",
            "postcode",
            "website",
            "email",
            "phone",
            "categories",
            "status",
            "openingHours",
            "accessibility",
            "free",
            "costNote",
            "minAge",
            "maxAge",
        ];
        let at: Vec<usize> = keys
            .iter()
            .map(|k| text.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json.as_object().unwrap().len(), keys.len());
        assert_eq!(json["kind"], "PARK");
        assert_eq!(json["status"], "active");
        assert_eq!(
            json["accessibility"],
            serde_json::json!(["SEATING", "LIFT"])
        );
        assert_eq!(
            AssetContent::from_json(&content.to_json().unwrap()).unwrap(),
            content
        );
    }

    #[test]
    fn snapshots_written_before_the_link_worker_fields_still_read() {
        let old = r#"{"kind":"VENUE","name":"Library","description":null,
            "geometry":{"type":"Point","coordinates":[-2.2,53.4]},"organizationId":null,
            "address":null,"postcode":null,"website":null,"email":null,"phone":null,
            "categories":["libraries"],"status":"archived"}"#;
        let content = AssetContent::from_json(old).unwrap();
        assert_eq!(content.status, AssetStatus::Archived);
        assert_eq!(content.details, Details::default());
    }

    #[test]
    fn a_patch_sets_and_clears_fields() {
        let before = park();
        let after = before.apply(AssetPatch {
            name: Some(Text::parse("name", "Longford", 200).unwrap()),
            opening_hours: Some(None),
            min_age: Some(None),
            ..AssetPatch::default()
        });
        assert_eq!(after.name.as_str(), "Longford");
        assert_eq!(after.details.opening_hours, None);
        assert_eq!(after.details.ages.min, None);
        assert_eq!(after.details.free, Some(true));
        assert_eq!(before.apply(AssetPatch::default()), before);
    }

    #[test]
    fn the_kind_must_suit_the_geometry() {
        let mut path = park();
        path.kind = AssetKind::CyclePath;
        assert!(path.check().is_err());
        assert!(park().check().is_ok());
    }
}
