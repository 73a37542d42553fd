//! From a GeoJSON feature's properties to an asset's content: the name, kind, categories
//! and contact details under the common property names (or the ones the options name),
//! and what a link worker checks from OpenStreetMap's tags. The geometry and every value
//! go through the same gates as the API.

use serde_json::{Map, Value};

use super::ImportOptions;
use crate::domain::asset::{self, AssetContent, Contact, Details};
use crate::domain::hours::Hours;
use crate::domain::kind::parse_kind;
use crate::domain::listing::{Accessibility, AccessibilitySet, AgeRange};
use crate::domain::text::{parse_email, web_address};
use crate::domain::{AssetKind, AssetStatus, Text, ValidGeometry};
use crate::error::{AppError, AppResult};

/// Property names tried, in order, for each field when no option names one.
pub const NAME_PROPERTIES: &[&str] = &["name", "Name", "NAME", "site_name", "title", "Title"];
const DESCRIPTION_PROPERTIES: &[&str] = &["description", "Description", "DESCRIPTION"];
const ADDRESS_PROPERTIES: &[&str] = &["address", "Address", "ADDRESS"];
const POSTCODE_PROPERTIES: &[&str] = &["postcode", "Postcode", "POSTCODE", "post_code"];
const WEBSITE_PROPERTIES: &[&str] = &["website", "Website", "url", "URL"];
const EMAIL_PROPERTIES: &[&str] = &["email", "Email", "EMAIL"];
const PHONE_PROPERTIES: &[&str] = &["phone", "Phone", "telephone", "Telephone", "tel"];
/// A free-text contact: an email address if it has an @, else a phone number.
const CONTACT_PROPERTIES: &[&str] = &["contact", "Contact"];
/// Opening hours in OpenStreetMap syntax (OSM's own tag first).
const HOURS_PROPERTIES: &[&str] = &["opening_hours", "openingHours"];
const COST_PROPERTIES: &[&str] = &["costNote", "charge", "cost"];
/// Values publishers use for "nothing here".
const PLACEHOLDERS: &[&str] = &["n/a", "na", "none", "-", "not known", "unknown"];

/// A feature that passed, with the name of the organization that runs it (to be found
/// or created).
pub struct Prepared {
    pub content: AssetContent,
    pub organization: Option<String>,
    /// The feed's own id of the record (an Open Referral service's id), so that a
    /// second import of the feed updates the asset instead of adding another.
    pub source_id: Option<String>,
    /// What of the record was left out, and why (a website that is not a web address,
    /// a malformed email, opening times that are not in the OpenStreetMap syntax): the
    /// asset is imported without it, and the report says so.
    pub left_out: Vec<String>,
}

fn short(text: &str) -> String {
    let mut s: String = text.chars().take(60).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

/// The first of these properties that holds real text.
pub fn text_property<'a>(props: &'a Map<String, Value>, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| {
        props
            .get(*n)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty() && !PLACEHOLDERS.contains(&v.to_ascii_lowercase().as_str()))
    })
}

/// The feature's name, for the content and for the rejection report.
pub fn feature_name(feature: &Value) -> Option<String> {
    feature
        .get("properties")
        .and_then(Value::as_object)
        .and_then(|p| text_property(p, NAME_PROPERTIES))
        .map(str::to_owned)
}

fn geometry(feature: &Value) -> AppResult<ValidGeometry> {
    if feature.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(AppError::invalid("feature", "not a GeoJSON Feature"));
    }
    match feature.get("geometry") {
        None | Some(Value::Null) => match feature.get("unplaced").and_then(Value::as_str) {
            // a CSV row the reader could not place, with the reason
            Some(reason) => Err(AppError::invalid("postcode", reason)),
            None => Err(AppError::invalid("geometry", "the feature has no geometry")),
        },
        Some(g) => Ok(ValidGeometry::parse(g)?),
    }
}

fn name(props: &Map<String, Value>, options: &ImportOptions) -> AppResult<Text> {
    let names: Vec<&str> = match &options.name_property {
        Some(p) => vec![p.as_str()],
        None => NAME_PROPERTIES.to_vec(),
    };
    let fallback: Vec<&str> = options
        .fallback_name_property
        .as_deref()
        .into_iter()
        .collect();
    let name = text_property(props, &names)
        .or_else(|| text_property(props, &fallback))
        .ok_or_else(|| AppError::invalid("name", "the feature has no name property"))?;
    Text::name(name)
}

/// The kind and categories: the options', the feature's own, then each matching rule's.
fn kind_and_categories(
    props: &Map<String, Value>,
    options: &ImportOptions,
) -> AppResult<(AssetKind, Vec<String>)> {
    let mut kind = options.kind;
    if let Some(k) = props.get("kind").and_then(Value::as_str) {
        kind = Some(
            parse_kind(k)
                .ok_or_else(|| AppError::invalid("kind", format!("unknown kind {k:?}")))?,
        );
    }
    let mut cats = options.categories.clone();
    // a feature's own categories: an array of slugs, or one string of comma-separated slugs
    match props.get("categories") {
        Some(Value::Array(items)) => {
            cats.extend(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|s| s.trim().to_owned()),
            );
        }
        Some(Value::String(list)) => cats.extend(
            list.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
        ),
        _ => {}
    }
    for rule in &options.rules {
        if props.get(&rule.property).and_then(Value::as_str) == Some(rule.value.as_str()) {
            kind = rule.kind.or(kind);
            cats.extend(rule.categories.iter().cloned());
        }
    }
    let kind = kind.ok_or_else(|| {
        AppError::invalid(
            "kind",
            "no kind: pass --kind or give features a kind property",
        )
    })?;
    Ok((kind, asset::categories(cats)?))
}

fn contact(props: &Map<String, Value>, left_out: &mut Vec<String>) -> AppResult<Contact> {
    let mut email = text_property(props, EMAIL_PROPERTIES);
    let mut phone = text_property(props, PHONE_PROPERTIES);
    if let Some(contact) = text_property(props, CONTACT_PROPERTIES) {
        if contact.contains('@') {
            email = email.or(Some(contact));
        } else if contact.chars().any(|c| c.is_ascii_digit()) {
            phone = phone.or(Some(contact));
        }
    }
    let field = |name: &'static str, names: &[&str]| {
        Text::parse_opt(name, text_property(props, names), Text::FIELD_MAX)
    };
    Ok(Contact {
        address: field("address", ADDRESS_PROPERTIES)?,
        postcode: field("postcode", POSTCODE_PROPERTIES)?,
        // published data often leaves out the scheme; anything not a web address is
        // left out (and reported), like a malformed email, rather than costing the asset
        website: text_property(props, WEBSITE_PROPERTIES).and_then(|given| {
            let kept =
                web_address(given).and_then(|w| Text::parse("website", &w, Text::FIELD_MAX).ok());
            if kept.is_none() {
                left_out.push(format!(
                    "its website {:?} is not an http or https address",
                    short(given)
                ));
            }
            kept
        }),
        email: parse_email(email).unwrap_or_else(|_| {
            left_out.push(format!(
                "its email {:?} is not an email address",
                short(email.unwrap_or_default())
            ));
            None
        }),
        phone: Text::parse_opt("phone", phone, Text::FIELD_MAX)?,
    })
}

/// Maps one feature to content, or says why it cannot be imported.
pub fn prepare(feature: &Value, options: &ImportOptions) -> AppResult<Prepared> {
    let mut left_out = Vec::new();
    let geometry = geometry(feature)?;
    let empty = Map::new();
    let props = feature
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let name = name(props, options)?;
    let (kind, categories) = kind_and_categories(props, options)?;
    let description = Text::description(text_property(props, DESCRIPTION_PROPERTIES))?;
    let organization = options
        .organization_property
        .as_deref()
        .and_then(|p| text_property(props, &[p]))
        .map(str::to_owned);
    // an Open Referral service's status: anything but active is not listed (other
    // files' `status` properties mean other things and are left alone)
    let status = match (
        feature.get("source_id"),
        props.get("status").and_then(Value::as_str),
    ) {
        (Some(_), Some(s)) if !s.trim().eq_ignore_ascii_case("active") => AssetStatus::Archived,
        _ => AssetStatus::Active,
    };
    let content = AssetContent {
        kind,
        name,
        description,
        geometry,
        organization_id: None,
        contact: contact(props, &mut left_out)?,
        categories,
        status,
        details: details(props, &mut left_out),
    };
    content.check()?;
    Ok(Prepared {
        content,
        organization,
        source_id: feature
            .get("source_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        left_out,
    })
}

/// What a link worker checks, from our own export's properties or OpenStreetMap's tags
/// (`opening_hours`, `wheelchair`, `toilets:wheelchair`, `hearing_loop`, `fee`,
/// `charge`, `min_age`, `max_age`). Like a malformed email, a value that does not parse
/// (free-text opening times such as "Wednesday 10am - 4pm") is left out rather than
/// costing the asset.
fn details(props: &Map<String, Value>, left_out: &mut Vec<String>) -> Details {
    let yes = |key: &str| {
        props
            .get(key)
            .and_then(Value::as_str)
            .is_some_and(|v| matches!(v.trim(), "yes" | "designated"))
    };
    let mut features: Vec<Accessibility> = match props.get("accessibility") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter_map(Accessibility::from_name)
            .collect(),
        _ => Vec::new(),
    };
    for (tag, feature) in [
        ("wheelchair", Accessibility::StepFreeAccess),
        ("toilets:wheelchair", Accessibility::AccessibleToilet),
        ("hearing_loop", Accessibility::HearingLoop),
        ("changing_places", Accessibility::ChangingPlaces),
    ] {
        if yes(tag) {
            features.push(feature);
        }
    }
    let free = match props.get("free") {
        Some(Value::Bool(b)) => Some(*b),
        _ => match props.get("fee").and_then(Value::as_str).map(str::trim) {
            Some("no") => Some(true),
            Some("yes") => Some(false),
            _ => None,
        },
    };
    let age = |key: &str| -> Option<i32> {
        match props.get(key)? {
            Value::Number(n) => n.as_i64().and_then(|v| i32::try_from(v).ok()),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    };
    Details {
        opening_hours: text_property(props, HOURS_PROPERTIES).and_then(|t| {
            let hours = Hours::parse(t).ok();
            if hours.is_none() {
                left_out.push(format!(
                    "its opening hours {:?} are not in the OpenStreetMap syntax",
                    short(t)
                ));
            }
            hours
        }),
        accessibility: AccessibilitySet::of(&features),
        free,
        cost_note: text_property(props, COST_PROPERTIES)
            .and_then(|t| Text::parse("costNote", t, Text::FIELD_MAX).ok()),
        ages: AgeRange::new(age("min_age"), age("max_age")).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::import::Rule;
    use serde_json::json;

    fn options() -> ImportOptions {
        ImportOptions {
            kind: Some(AssetKind::Service),
            ..ImportOptions::default()
        }
    }

    #[test]
    fn maps_hours_access_and_cost_from_osm_tags() {
        let feature = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.2, 53.5]},
            "properties": {"name": "Community centre", "opening_hours": "Mo-Fr 09:00-17:00; PH off",
                "wheelchair": "yes", "toilets:wheelchair": "designated", "fee": "no", "min_age": "18"}});
        let d = prepare(&feature, &options()).unwrap().content.details;
        assert_eq!(
            d.opening_hours.map(|h| h.as_str().to_owned()).as_deref(),
            Some("Mo-Fr 09:00-17:00; PH off")
        );
        assert_eq!(
            d.accessibility.features(),
            vec![
                Accessibility::StepFreeAccess,
                Accessibility::AccessibleToilet
            ]
        );
        assert_eq!(d.free, Some(true));
        assert_eq!(d.ages.min, Some(18));
        // free-text hours and a nonsense age are left out, the asset is kept
        let free_text = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.2, 53.5]},
            "properties": {"name": "Food bank", "Opening times": "Wednesday 10am - 4pm",
                "opening_hours": "Wednesday 10am - 4pm", "max_age": -4}});
        let d = prepare(&free_text, &options()).unwrap().content.details;
        assert_eq!(d.opening_hours, None);
        assert_eq!(d.ages.max, None);
    }

    #[test]
    fn maps_the_usual_property_names() {
        let f = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.4, 53.5]},
            "properties": {"Name": "BRASS Bolton", "Postcode": "BL3 2HP", "Contact": "admin@brass-bolton.org.uk",
                           "Website": "http://brassbolton.org/", "Address": "N/A"}});
        let p = prepare(&f, &options()).unwrap().content;
        assert_eq!(p.name.as_str(), "BRASS Bolton");
        assert_eq!(p.contact.postcode.unwrap().as_str(), "BL3 2HP");
        assert_eq!(
            p.contact.email.unwrap().as_str(),
            "admin@brass-bolton.org.uk"
        );
        assert_eq!(p.contact.address, None);
    }

    #[test]
    fn rules_set_kind_and_categories() {
        let mut opts = options();
        opts.rules.push(Rule {
            property: "site_type".into(),
            value: "Public Park Or Garden".into(),
            kind: Some(AssetKind::Park),
            categories: vec!["parks".into()],
        });
        let f = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.4, 53.5]},
            "properties": {"site_name": "Longford Park", "site_type": "Public Park Or Garden"}});
        let p = prepare(&f, &opts).unwrap().content;
        assert_eq!(p.kind, AssetKind::Park);
        assert_eq!(p.categories, vec!["parks".to_owned()]);
    }

    #[test]
    fn rejects_features_without_name_or_geometry() {
        let no_name = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]}, "properties": {}});
        assert!(prepare(&no_name, &options()).is_err());
        let no_geom = json!({"type": "Feature", "geometry": null, "properties": {"name": "x"}});
        assert!(prepare(&no_geom, &options()).is_err());
    }
}
