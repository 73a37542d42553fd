//! One Open Referral service as the GeoJSON Feature the import's mapping reads: its
//! kind and categories from its taxonomy terms ([`TermMapping`]), where it is, its
//! contact, hours, costs, ages and accessibility.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::domain::AssetKind;
use crate::domain::kind::parse_kind;
use crate::error::{AppError, AppResult};
use crate::service::oruk::schedule::{self, CLOSED_ON_BANK_HOLIDAYS, Weekly};

/// A rule of the mapping: a taxonomy term (by id, code or name, any case) gives a kind
/// and categories.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TermRule {
    /// The term's id, its `term` code or its name.
    pub term: String,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub categories: Vec<String>,
}

/// How a feed's taxonomy terms become kinds and categories.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TermMapping {
    /// The kind of a service no rule gives one (default `SERVICE`).
    #[serde(default)]
    pub default_kind: Option<String>,
    #[serde(default)]
    pub rules: Vec<TermRule>,
    /// Also apply the default rules (our own kind terms, category slugs as codes).
    #[serde(default = "yes")]
    pub use_default_rules: bool,
}

fn yes() -> bool {
    true
}

impl TermMapping {
    /// The mapping in a JSON file's text.
    pub fn parse(text: &str) -> AppResult<Self> {
        let mapping: Self = serde_json::from_str(text)
            .map_err(|e| AppError::invalid("mapping", format!("the mapping file: {e}")))?;
        for kind in mapping
            .default_kind
            .iter()
            .chain(mapping.rules.iter().filter_map(|r| r.kind.as_ref()))
        {
            if parse_kind(kind).is_none() {
                return Err(AppError::invalid(
                    "mapping",
                    format!("the mapping file names an unknown kind {kind:?}"),
                ));
            }
        }
        Ok(mapping)
    }
}

/// The kind and categories of a service, from its terms.
pub(super) struct Terms<'a> {
    pub(super) mapping: &'a TermMapping,
    pub(super) slugs: &'a HashSet<String>,
}

impl Terms<'_> {
    fn of(&self, service: &Value) -> (String, Vec<String>) {
        let mut kind = None;
        let mut cats = Vec::new();
        let terms = service["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.get("taxonomy_term"));
        for term in terms {
            let keys: Vec<String> = ["id", "term", "name"]
                .iter()
                .filter_map(|k| term.get(*k).and_then(Value::as_str))
                .map(str::to_lowercase)
                .collect();
            let mut matched = false;
            for rule in &self.mapping.rules {
                if keys.contains(&rule.term.to_lowercase()) {
                    matched = true;
                    kind = kind.or_else(|| rule.kind.clone());
                    cats.extend(rule.categories.iter().cloned());
                }
            }
            if matched || !self.mapping.use_default_rules {
                continue;
            }
            let code = term.get("term").and_then(Value::as_str).unwrap_or_default();
            if let Some(k) = parse_kind(code) {
                kind = kind.or_else(|| Some(k.as_str().to_owned()));
            } else if self.slugs.contains(code) {
                cats.push(code.to_owned());
            }
        }
        let kind = kind
            .or_else(|| self.mapping.default_kind.clone())
            .unwrap_or_else(|| AssetKind::Service.as_str().to_owned());
        (kind, cats)
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// OSM hours from a service's schedules: weekly ones as rules; else a description
/// that is itself OSM text (our own feed's form for hours with no weekly shape).
fn hours(service: &Value) -> Option<String> {
    let schedules = service.get("schedules")?.as_array()?;
    let mut openings = Vec::new();
    let mut closed_on_bank_holidays = false;
    for s in schedules {
        let weekly = s
            .get("freq")
            .and_then(Value::as_str)
            .is_none_or(|f| f.eq_ignore_ascii_case("WEEKLY"));
        let days = text(s, "byday").and_then(schedule::parse_byday);
        let opens = text(s, "opens_at").and_then(schedule::hhmm);
        let closes = text(s, "closes_at").and_then(schedule::hhmm);
        if let (true, Some(days), Some(opens), Some(closes)) = (weekly, days, opens, closes) {
            openings.push(Weekly {
                days,
                opens,
                closes,
            });
            if text(s, "notes") == Some(CLOSED_ON_BANK_HOLIDAYS) {
                closed_on_bank_holidays = true;
            }
        }
    }
    if let Some(osm) = schedule::to_osm(&openings, closed_on_bank_holidays) {
        return Some(osm);
    }
    schedules
        .iter()
        .find_map(|s| text(s, "description"))
        .map(str::to_owned)
}

/// The geometry of a service: a GeoJSON service area, else the first located point.
fn geometry(service: &Value) -> Option<Value> {
    let areas = service["service_areas"].as_array().into_iter().flatten();
    for area in areas {
        let geojson = text(area, "extent_type").is_some_and(|t| t.eq_ignore_ascii_case("geojson"));
        if let Some(g) = text(area, "extent")
            .filter(|_| geojson)
            .and_then(|e| serde_json::from_str::<Value>(e).ok())
        {
            return Some(g);
        }
    }
    let locations = service["service_at_locations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|sal| sal.get("location"));
    for location in locations {
        if let (Some(lat), Some(lon)) = (
            location["latitude"].as_f64(),
            location["longitude"].as_f64(),
        ) {
            return Some(json!({"type": "Point", "coordinates": [lon, lat]}));
        }
    }
    None
}

fn first_location(service: &Value) -> Option<&Value> {
    service["service_at_locations"]
        .as_array()?
        .iter()
        .find_map(|sal| sal.get("location"))
}

/// The feature for one service, or what makes the service malformed.
pub(super) fn feature(service: &Value, terms: &Terms<'_>) -> Result<Value, String> {
    let id = service
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or("a service has no id")?;
    if id.len() > 200 {
        return Err("a service id is longer than 200 characters".into());
    }
    let name = service
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("service {id} has no name"))?;
    check_types(service, id)?;
    let (kind, categories) = terms.of(service);
    let mut p = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v.filter(|v| !v.is_null()) {
            p.insert(k.to_owned(), v);
        }
    };
    put("name", Some(json!(name)));
    put("kind", Some(json!(kind)));
    put("categories", Some(json!(categories)));
    put(
        "description",
        text(service, "description").map(|s| json!(s)),
    );
    put("website", text(service, "url").map(|s| json!(s)));
    put("email", text(service, "email").map(|s| json!(s)));
    let phone = service["phones"]
        .as_array()
        .and_then(|p| p.iter().find_map(|p| text(p, "number")));
    put("phone", phone.map(|s| json!(s)));
    put(
        "organization",
        service
            .get("organization")
            .and_then(|o| text(o, "name"))
            .map(|s| json!(s)),
    );
    put("min_age", service.get("minimum_age").cloned());
    put("max_age", service.get("maximum_age").cloned());
    put("opening_hours", hours(service).map(|h| json!(h)));
    let status = text(service, "status").unwrap_or("active");
    put("status", Some(json!(status)));
    costs(service, &mut p);
    location(service, &mut p);
    Ok(json!({
        "type": "Feature",
        "source_id": id,
        "geometry": geometry(service),
        "properties": p,
    }))
}

/// What makes a service malformed: a field of the wrong type.
fn check_types(service: &Value, id: &str) -> Result<(), String> {
    for key in ["description", "url", "email", "fees", "status"] {
        if service
            .get(key)
            .is_some_and(|v| !v.is_null() && !v.is_string())
        {
            return Err(format!("service {id}: {key} is not text"));
        }
    }
    for key in ["minimum_age", "maximum_age"] {
        if service
            .get(key)
            .is_some_and(|v| !v.is_null() && !v.is_number())
        {
            return Err(format!("service {id}: {key} is not a number"));
        }
    }
    for key in [
        "schedules",
        "service_at_locations",
        "attributes",
        "cost_options",
        "service_areas",
        "phones",
    ] {
        if service
            .get(key)
            .is_some_and(|v| !v.is_null() && !v.is_array())
        {
            return Err(format!("service {id}: {key} is not a list"));
        }
    }
    Ok(())
}

/// Free or charged, and the note on cost.
fn costs(service: &Value, p: &mut Map<String, Value>) {
    let costs: Vec<&Value> = service["cost_options"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let free = costs
        .iter()
        .any(|c| c.get("amount").and_then(Value::as_f64) == Some(0.0));
    let charged = costs.iter().any(|c| {
        c.get("amount")
            .and_then(Value::as_f64)
            .is_some_and(|a| a > 0.0)
            || text(c, "option") == Some("Charged")
    });
    if free || charged {
        p.insert("free".into(), json!(free && !charged));
    }
    let note =
        text(service, "fees").or_else(|| costs.iter().find_map(|c| text(c, "amount_description")));
    if let Some(note) = note {
        p.insert("costNote".into(), json!(note));
    }
}

/// The address, postcode and accessibility of the first location.
fn location(service: &Value, p: &mut Map<String, Value>) {
    let Some(location) = first_location(service) else {
        return;
    };
    if let Some(address) = location["addresses"].as_array().and_then(|a| a.first()) {
        if let Some(a) = text(address, "address_1") {
            p.insert("address".into(), json!(a));
        }
        if let Some(pc) = text(address, "postal_code") {
            p.insert("postcode".into(), json!(pc));
        }
    }
    let features: Vec<Value> = location["accessibility"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| text(a, "details"))
        .filter(|d| crate::domain::listing::Accessibility::from_name(d).is_some())
        .map(|d| json!(d))
        .collect();
    if !features.is_empty() {
        p.insert("accessibility".into(), Value::Array(features));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_becomes_a_feature() {
        let slugs: HashSet<String> = ["walking".to_owned()].into();
        let mapping = TermMapping {
            use_default_rules: true,
            ..TermMapping::default()
        };
        let terms = Terms {
            mapping: &mapping,
            slugs: &slugs,
        };
        let service = json!({
            "id": "s1", "name": "Walk", "status": "active", "url": "https://w.example",
            "minimum_age": 50,
            "attributes": [{"taxonomy_term": {"id": "x", "term": "COMMUNITY_GROUP", "name": "Community group"}},
                           {"taxonomy_term": {"id": "y", "term": "walking", "name": "Walking"}},
                           {"taxonomy_term": {"id": "z", "term": "other", "name": "Other"}}],
            "schedules": [{"id": "a", "freq": "WEEKLY", "byday": "TU", "opens_at": "10:00", "closes_at": "12:00"}],
            "cost_options": [{"id": "c", "amount": 0}],
            "service_at_locations": [{"id": "l", "location": {"id": "m", "location_type": "physical", "latitude": 53.5, "longitude": -2.6,
                "addresses": [{"id": "a", "address_1": "Park Rd", "postal_code": "WN1 1RG", "city": "", "state_province": "", "country": "GB", "address_type": "physical"}]}}]
        });
        let f = feature(&service, &terms).unwrap();
        assert_eq!(f["source_id"], "s1");
        assert_eq!(f["geometry"]["coordinates"], json!([-2.6, 53.5]));
        let p = &f["properties"];
        assert_eq!(
            (p["kind"].clone(), p["categories"].clone()),
            (json!("COMMUNITY_GROUP"), json!(["walking"]))
        );
        assert_eq!(p["opening_hours"], "Tu 10:00-12:00");
        assert_eq!(
            (p["free"].clone(), p["postcode"].clone()),
            (json!(true), json!("WN1 1RG"))
        );
        // a rule of the council's mapping wins over the default rules
        let mapping = TermMapping::parse(r#"{"default_kind": "VENUE", "rules": [{"term": "other", "kind": "CHARITY", "categories": ["food"]}]}"#).unwrap();
        let terms = Terms {
            mapping: &mapping,
            slugs: &slugs,
        };
        let p = feature(&service, &terms).unwrap()["properties"].clone();
        assert_eq!(p["kind"], "COMMUNITY_GROUP", "the first kind found is kept");
        assert_eq!(p["categories"], json!(["walking", "food"]));
        // malformed services are refused, with the reason
        assert!(
            feature(&json!({"name": "x"}), &terms)
                .unwrap_err()
                .contains("no id")
        );
        assert!(
            feature(
                &json!({"id": "1", "name": "x", "minimum_age": "ten"}),
                &terms
            )
            .unwrap_err()
            .contains("minimum_age")
        );
        assert!(TermMapping::parse(r#"{"default_kind": "CASTLE"}"#).is_err());
        assert!(TermMapping::parse(r#"{"rulez": []}"#).is_err());
    }
}
