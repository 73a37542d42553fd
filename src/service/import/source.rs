//! A source mapping: how one publisher's GeoJSON or CSV becomes assets, in a JSON file
//! a council can write and edit, instead of code. It names the properties that hold
//! the name and contact details, gives kinds and categories (for every record, or by
//! a property's value), turns weekday columns into OpenStreetMap `opening_hours`,
//! yes/no columns into accessibility features and an access column into free or
//! charged, and can leave out records not meant for the public.
//!
//! ```json
//! {
//!   "kind": "SERVICE", "categories": ["health"], "name": "pharmacy_name",
//!   "properties": {"phone": "telephone"},
//!   "rules": [{"property": "facility_type", "value": "Swimming pools", "categories": ["swimming"]}],
//!   "weekly_hours": {"Mo": "opening_hours_monday", "Su": "opening_hours_sunday"},
//!   "accessibility": {"STEP_FREE_ACCESS": {"property": "disability_doorways", "values": ["Yes"]}},
//!   "free": {"property": "access_type", "free": ["Free Public Access"], "charged": ["Pay and Play"]},
//!   "skip": {"property": "access_type", "values": ["Private Use"]}
//! }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{ImportOptions, Rule};
use crate::domain::kind::parse_kind;
use crate::domain::listing::Accessibility;
use crate::error::{AppError, AppResult};
use crate::service::oruk::schedule::{self, Weekly};

/// Days in OSM's order and spelling.
const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
/// Our fields a mapping may take from another property.
const FIELDS: [&str; 8] = [
    "description",
    "address",
    "postcode",
    "website",
    "email",
    "phone",
    "costNote",
    "opening_hours",
];

/// Records whose property holds one of these values.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Match {
    pub property: String,
    pub values: Vec<String>,
}

impl Match {
    fn holds(&self, props: &Map<String, Value>) -> bool {
        text(props, &self.property)
            .is_some_and(|v| self.values.iter().any(|x| x.eq_ignore_ascii_case(v)))
    }
}

/// Free or charged, by a property's value.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Cost {
    pub property: String,
    #[serde(default)]
    pub free: Vec<String>,
    #[serde(default)]
    pub charged: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub property: String,
    pub value: String,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub categories: Vec<String>,
}

/// The mapping file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SourceMapping {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    /// The property holding the name.
    #[serde(default)]
    pub name: Option<String>,
    /// The property to name a record by when it has no name.
    #[serde(default)]
    pub fallback_name: Option<String>,
    /// The property naming the organization that runs it.
    #[serde(default)]
    pub organization: Option<String>,
    /// Our field (`phone`, `address` ...) from another property.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    #[serde(default)]
    pub rules: Vec<RuleFile>,
    /// A day (`Mo` to `Su`) from a property holding `08:30-13:00,14:00-17:30`, or
    /// `CLOSED`.
    #[serde(default)]
    pub weekly_hours: BTreeMap<String, String>,
    /// An accessibility feature (`STEP_FREE_ACCESS` ...) from a property's values.
    #[serde(default)]
    pub accessibility: BTreeMap<String, Match>,
    #[serde(default)]
    pub free: Option<Cost>,
    /// Records left out (reported), e.g. facilities for private use.
    #[serde(default)]
    pub skip: Option<Match>,
}

/// What a mapping does to each record's properties, beside the import options.
#[derive(Clone, Debug, Default)]
pub struct Reshape {
    /// The property holding the name, copied to `name` so reports name the record.
    name: Option<String>,
    properties: Vec<(String, String)>,
    weekly_hours: Vec<(usize, String)>,
    accessibility: Vec<(Accessibility, Match)>,
    free: Option<Cost>,
    skip: Option<Match>,
}

fn text<'a>(props: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    props
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn bad(message: &str) -> AppError {
    AppError::invalid("mapping", format!("the mapping file: {message}"))
}

impl SourceMapping {
    /// The mapping in a JSON file's text, checked: kinds, days, fields and features
    /// must be ones we know.
    pub fn parse(text: &str) -> AppResult<Self> {
        let mapping: Self = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
        for kind in mapping
            .kind
            .iter()
            .chain(mapping.rules.iter().filter_map(|r| r.kind.as_ref()))
        {
            parse_kind(kind).ok_or_else(|| bad(&format!("unknown kind {kind:?}")))?;
        }
        for field in mapping.properties.keys() {
            if !FIELDS.contains(&field.as_str()) {
                return Err(bad(&format!(
                    "{field:?} is not a field a property can fill (one of {})",
                    FIELDS.join(", ")
                )));
            }
        }
        for day in mapping.weekly_hours.keys() {
            if !DAYS.contains(&day.as_str()) {
                return Err(bad(&format!("{day:?} is not a day (Mo to Su)")));
            }
        }
        for feature in mapping.accessibility.keys() {
            Accessibility::from_name(feature)
                .ok_or_else(|| bad(&format!("unknown accessibility feature {feature:?}")))?;
        }
        Ok(mapping)
    }

    /// The import options and the reshaping this mapping stands for.
    pub fn into_options(self) -> (ImportOptions, Reshape) {
        let name = self.name.clone();
        let options = ImportOptions {
            kind: self.kind.as_deref().and_then(parse_kind),
            categories: self.categories,
            name_property: self.name,
            fallback_name_property: self.fallback_name,
            organization_property: self.organization,
            rules: self
                .rules
                .into_iter()
                .map(|r| Rule {
                    property: r.property,
                    value: r.value,
                    kind: r.kind.as_deref().and_then(parse_kind),
                    categories: r.categories,
                })
                .collect(),
            ..ImportOptions::default()
        };
        let reshape = Reshape {
            name,
            properties: self.properties.into_iter().collect(),
            weekly_hours: self
                .weekly_hours
                .into_iter()
                .filter_map(|(day, property)| {
                    DAYS.iter().position(|d| *d == day).map(|i| (i, property))
                })
                .collect(),
            accessibility: self
                .accessibility
                .into_iter()
                .filter_map(|(name, m)| Accessibility::from_name(&name).map(|f| (f, m)))
                .collect(),
            free: self.free,
            skip: self.skip,
        };
        (options, reshape)
    }
}

/// A day's openings from its column (`08:30-13:00,14:00-17:30`): None when closed or
/// unreadable (not guessed).
fn day_times(value: &str) -> Option<Vec<(String, String)>> {
    let value = value.trim();
    if value.is_empty() || value.eq_ignore_ascii_case("closed") {
        return None;
    }
    value
        .split(',')
        .map(|t| {
            let t = t.trim();
            // HH:MM-HH:MM
            let well_formed = t.len() == 11
                && t.chars().enumerate().all(|(i, c)| match i {
                    2 | 8 => c == ':',
                    5 => c == '-',
                    _ => c.is_ascii_digit(),
                });
            well_formed.then(|| (t[..5].to_owned(), t[6..].to_owned()))
        })
        .collect()
}

impl Reshape {
    /// Rewrites a feature's properties into the names the importer reads, or says why
    /// the mapping leaves it out.
    pub fn apply(&self, feature: &mut Value) -> Result<(), String> {
        let Some(props) = feature.get_mut("properties").and_then(Value::as_object_mut) else {
            return Ok(());
        };
        if let Some(skip) = self.skip.as_ref().filter(|s| s.holds(props)) {
            return Err(format!(
                "left out by the mapping: {} is {}",
                skip.property,
                text(props, &skip.property).unwrap_or_default()
            ));
        }
        if let Some(v) = self
            .name
            .as_deref()
            .and_then(|n| text(props, n))
            .map(str::to_owned)
        {
            props.insert("name".into(), Value::String(v));
        }
        for (field, property) in &self.properties {
            if let Some(v) = text(props, property).map(str::to_owned) {
                props.insert(field.clone(), Value::String(v));
            }
        }
        if !self.weekly_hours.is_empty() {
            // days with the same times share a rule: Mo-Fr 09:00-17:30
            let openings: Vec<Weekly> = self
                .weekly_hours
                .iter()
                .filter_map(|(day, property)| Some((*day, day_times(text(props, property)?)?)))
                .flat_map(|(day, times)| {
                    times.into_iter().map(move |(opens, closes)| Weekly {
                        days: vec![day],
                        opens,
                        closes,
                    })
                })
                .collect();
            if let Some(hours) = schedule::to_osm(&openings, false) {
                props.insert("opening_hours".into(), Value::String(hours));
            }
        }
        let features: Vec<Value> = self
            .accessibility
            .iter()
            .filter(|(_, m)| m.holds(props))
            .map(|(f, _)| Value::String(f.name().to_owned()))
            .collect();
        if !features.is_empty() {
            props.insert("accessibility".into(), Value::Array(features));
        }
        if let Some(cost) = &self.free {
            let value = text(props, &cost.property);
            let is = |list: &[String]| {
                value.is_some_and(|v| list.iter().any(|x| x.eq_ignore_ascii_case(v)))
            };
            if is(&cost.free) {
                props.insert("free".into(), Value::Bool(true));
            } else if is(&cost.charged) {
                props.insert("free".into(), Value::Bool(false));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_mapping_reshapes_a_publishers_record() {
        let mapping = SourceMapping::parse(
            r#"{"kind": "SERVICE", "name": "pharmacy_name", "properties": {"phone": "telephone"},
                "weekly_hours": {"Mo": "mon", "Tu": "tue", "Su": "sun"},
                "accessibility": {"ACCESSIBLE_TOILET": {"property": "disability_toilets", "values": ["Yes"]}},
                "free": {"property": "access_type", "free": ["Free Public Access"], "charged": ["Pay and Play"]},
                "skip": {"property": "access_type", "values": ["Private Use"]}}"#,
        )
        .unwrap();
        let (options, reshape) = mapping.into_options();
        assert_eq!(options.name_property.as_deref(), Some("pharmacy_name"));
        let mut f = json!({"type": "Feature", "properties": {"telephone": "01942 1", "mon": "08:30-13:00,14:00-17:30",
            "tue": "09:00-17:00", "sun": "CLOSED", "disability_toilets": "Yes", "access_type": "Free Public Access"}});
        reshape.apply(&mut f).unwrap();
        let p = &f["properties"];
        assert_eq!(
            p["opening_hours"],
            "Mo 08:30-13:00,14:00-17:30; Tu 09:00-17:00"
        );
        let mut week = json!({"type": "Feature", "properties": {"mon": "09:00-17:30", "tue": "09:00-17:30", "sun": "10:00-16:00"}});
        reshape.apply(&mut week).unwrap();
        assert_eq!(
            week["properties"]["opening_hours"],
            "Mo,Tu 09:00-17:30; Su 10:00-16:00"
        );
        assert_eq!(p["phone"], "01942 1");
        assert_eq!(p["accessibility"], json!(["ACCESSIBLE_TOILET"]));
        assert_eq!(p["free"], true);
        let mut private = json!({"type": "Feature", "properties": {"access_type": "private use"}});
        assert_eq!(
            reshape.apply(&mut private).unwrap_err(),
            "left out by the mapping: access_type is private use"
        );
        // unreadable times are left out, not guessed
        assert_eq!(day_times("8.30am - 5pm"), None);
        assert_eq!(day_times("CLOSED"), None);
        assert_eq!(
            day_times("10:00-12:00, 13:00-16:00"),
            Some(vec![
                ("10:00".into(), "12:00".into()),
                ("13:00".into(), "16:00".into())
            ])
        );
    }

    #[test]
    fn a_mapping_naming_what_we_do_not_have_is_refused() {
        for bad in [
            r#"{"kind": "CASTLE"}"#,
            r#"{"weekly_hours": {"Monday": "mon"}}"#,
            r#"{"accessibility": {"MOAT": {"property": "x", "values": ["Yes"]}}}"#,
            r#"{"properties": {"colour": "x"}}"#,
            r#"{"nmae": "x"}"#,
            "not json",
        ] {
            assert_eq!(
                SourceMapping::parse(bad).unwrap_err().code(),
                "INVALID_INPUT",
                "{bad}"
            );
        }
    }
}
