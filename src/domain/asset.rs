//! A new asset and a change to one, validated.

use uuid::Uuid;

use crate::domain::geometry::ValidGeometry;
use crate::domain::kind::AssetKind;
use crate::error::{AppError, AppResult};

/// Trimmed text of bounded length with no control characters (newlines allowed in
/// long text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text(String);

impl Text {
    pub const NAME_MAX: usize = 200;
    pub const DESCRIPTION_MAX: usize = 5_000;
    pub const FIELD_MAX: usize = 500;

    pub fn parse(field: &'static str, value: &str, max_chars: usize) -> AppResult<Self> {
        let value = value.trim();
        if value.is_empty() {
            return Err(AppError::invalid(
                field,
                format!("{field} must not be empty"),
            ));
        }
        if value.chars().count() > max_chars {
            return Err(AppError::invalid(
                field,
                format!("{field} must be at most {max_chars} characters"),
            ));
        }
        if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            return Err(AppError::invalid(
                field,
                format!("{field} must not contain control characters"),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// Empty or absent text is no text.
    pub fn parse_opt(
        field: &'static str,
        value: Option<&str>,
        max_chars: usize,
    ) -> AppResult<Option<Self>> {
        match value.map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => Self::parse(field, v, max_chars).map(Some),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Contact details of an asset; every field optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contact {
    pub address: Option<Text>,
    pub postcode: Option<Text>,
    pub website: Option<Text>,
    pub email: Option<Text>,
    pub phone: Option<Text>,
}

pub fn parse_email(value: Option<&str>) -> AppResult<Option<Text>> {
    let email = Text::parse_opt("email", value, Text::FIELD_MAX)?;
    if let Some(e) = &email {
        let ok = e
            .as_str()
            .split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
            && !e.as_str().contains(char::is_whitespace);
        if !ok {
            return Err(AppError::invalid("email", "email is not an email address"));
        }
    }
    Ok(email)
}

/// A category slug: lowercase letters, digits and hyphens.
pub fn parse_slug(value: &str) -> AppResult<String> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(AppError::invalid(
            "categories",
            format!(
                "{:?} is not a category slug (lowercase letters, digits and hyphens)",
                value.chars().take(64).collect::<String>()
            ),
        ))
    }
}

/// What a link worker checks: opening hours, accessibility, cost and ages.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Details {
    pub opening_hours: Option<crate::domain::hours::Hours>,
    pub accessibility: Vec<crate::domain::listing::Accessibility>,
    /// Free to use; None when not known.
    pub free: Option<bool>,
    pub cost_note: Option<Text>,
    pub ages: crate::domain::listing::AgeRange,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewAsset {
    pub kind: AssetKind,
    pub name: Text,
    pub description: Option<Text>,
    pub geometry: ValidGeometry,
    /// Category slugs, deduplicated.
    pub categories: Vec<String>,
    pub organization_id: Option<Uuid>,
    pub contact: Contact,
    pub details: Details,
}

impl NewAsset {
    pub const MAX_CATEGORIES: usize = 20;

    /// Checks the rules that span fields: the geometry type fits the kind, and the
    /// category list is short and free of repeats.
    pub fn new(
        kind: AssetKind,
        name: Text,
        description: Option<Text>,
        geometry: ValidGeometry,
        categories: Vec<String>,
        organization_id: Option<Uuid>,
        contact: Contact,
    ) -> AppResult<Self> {
        kind.check_geometry(geometry.geometry_type())?;
        Ok(Self {
            kind,
            name,
            description,
            geometry,
            categories: dedup_categories(categories)?,
            organization_id,
            contact,
            details: Details::default(),
        })
    }
}

pub fn dedup_categories(categories: Vec<String>) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(categories.len());
    for c in categories {
        let slug = parse_slug(&c)?;
        if !out.contains(&slug) {
            out.push(slug);
        }
    }
    if out.len() > NewAsset::MAX_CATEGORIES {
        return Err(AppError::invalid(
            "categories",
            format!("at most {} categories", NewAsset::MAX_CATEGORIES),
        ));
    }
    Ok(out)
}

/// A partial update: `None` leaves a field as it is; for nullable fields `Some(None)`
/// clears it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AssetPatch {
    pub kind: Option<AssetKind>,
    pub name: Option<Text>,
    pub description: Option<Option<Text>>,
    pub geometry: Option<ValidGeometry>,
    pub categories: Option<Vec<String>>,
    pub organization_id: Option<Option<Uuid>>,
    pub address: Option<Option<Text>>,
    pub postcode: Option<Option<Text>>,
    pub website: Option<Option<Text>>,
    pub email: Option<Option<Text>>,
    pub phone: Option<Option<Text>>,
    pub opening_hours: Option<Option<crate::domain::hours::Hours>>,
    pub accessibility: Option<Vec<crate::domain::listing::Accessibility>>,
    pub free: Option<Option<bool>>,
    pub cost_note: Option<Option<Text>>,
    pub min_age: Option<Option<i32>>,
    pub max_age: Option<Option<i32>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(
            Text::parse("name", "  Park  ", 10).unwrap().as_str(),
            "Park"
        );
        assert!(Text::parse("name", "   ", 10).is_err());
        assert!(Text::parse("name", "abcdefghijk", 10).is_err());
        assert!(Text::parse("name", "a\u{0}b", 10).is_err());
        assert_eq!(Text::parse_opt("d", Some(" "), 10).unwrap(), None);
    }

    #[test]
    fn emails_and_slugs() {
        assert!(parse_email(Some("a@b.org")).is_ok());
        assert!(parse_email(Some("not an email")).is_err());
        assert!(parse_slug("mental-wellbeing").is_ok());
        assert!(parse_slug("Mental Wellbeing").is_err());
        assert_eq!(
            dedup_categories(vec!["food".into(), "food".into()]).unwrap(),
            vec!["food".to_owned()]
        );
    }
}
