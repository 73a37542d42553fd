//! One asset as Open Referral UK 3.0 (HSDS 3.0) objects: a service, run by its
//! organization, at one location, with its schedules, cost options, contacts,
//! accessibility and taxonomy terms as attributes.
//!
//! Identifiers of the parts (location, schedule, address ...) are derived from the
//! asset's id (UUIDv5), so they are UUIDs as the profile asks and stay the same from
//! one request to the next. The asset's geometry goes out as the location's point and,
//! for areas and routes, as a service area with a GeoJSON extent. People (health
//! champions) are published at their public, approximate point only: that is the only
//! geometry the row holds for the public.

use entity::{asset, category, organization};
use geo::InteriorPoint;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::schedule::{self, CLOSED_ON_BANK_HOLIDAYS, Schedules};
use crate::domain::listing::Accessibility;
use crate::domain::text::web_address;
use crate::domain::{AssetKind, AssetStatus, ValidGeometry};

/// Our needs-and-interests taxonomy.
pub const CATEGORY_TAXONOMY: Uuid = Uuid::from_u128(0x6a1f_4c2e_9b0d_5e7a_8c3f_2d1b_0a9e_7c41);
/// What an asset is (park, charity ...), as a second taxonomy so the kind survives a
/// round trip through Open Referral.
pub const KIND_TAXONOMY: Uuid = Uuid::from_u128(0x6a1f_4c2e_9b0d_5e7a_8c3f_2d1b_0a9e_7c42);

/// The taxonomy term of a kind.
pub fn kind_term_id(kind: AssetKind) -> Uuid {
    Uuid::new_v5(&KIND_TAXONOMY, kind.as_str().as_bytes())
}

/// The kind a term of the kind taxonomy stands for.
pub fn kind_of_term(id: Uuid) -> Option<AssetKind> {
    AssetKind::ALL
        .iter()
        .copied()
        .find(|k| kind_term_id(*k) == id)
}

fn part(asset: Uuid, name: &str) -> String {
    Uuid::new_v5(&asset, name.as_bytes()).to_string()
}

/// Turns an asset's id into its service_at_location's and back; it leaves the UUID's
/// version and variant bits alone, so the result is a UUID of the same version.
const SERVICE_AT_LOCATION_MASK: u128 = 0x5a5a_5a5a_5a5a_0a5a_3a5a_5a5a_5a5a_5a5a;

/// The id of an asset's one service_at_location.
pub fn service_at_location_id(asset: Uuid) -> Uuid {
    Uuid::from_u128(asset.as_u128() ^ SERVICE_AT_LOCATION_MASK)
}

/// The asset a service_at_location id belongs to (the inverse of
/// [`service_at_location_id`]).
pub fn asset_of_service_at_location(id: Uuid) -> Uuid {
    Uuid::from_u128(id.as_u128() ^ SERVICE_AT_LOCATION_MASK)
}

fn kind_label(kind: AssetKind) -> String {
    let lower = kind.as_str().replace('_', " ").to_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// A term of the needs-and-interests taxonomy.
pub fn category_term(c: &category::Model) -> Value {
    compact(json!({
        "id": c.id.to_string(),
        "name": c.name,
        "description": c.name,
        "parent_id": c.parent_id.map(|p| p.to_string()),
        "taxonomy": "Assetmap needs and interests",
        "taxonomy_id": CATEGORY_TAXONOMY.to_string(),
        "term": c.slug,
    }))
}

/// A term of the kind taxonomy.
pub fn kind_term(kind: AssetKind) -> Value {
    json!({
        "id": kind_term_id(kind).to_string(),
        "name": kind_label(kind),
        "description": format!("Assets of kind {}", kind.as_str()),
        "taxonomy": "Assetmap asset kinds",
        "taxonomy_id": KIND_TAXONOMY.to_string(),
        "term": kind.as_str(),
    })
}

/// The two taxonomies, with or without their terms.
pub fn taxonomy(id: Uuid, terms: Option<Vec<Value>>) -> Option<Value> {
    let (name, description) = if id == CATEGORY_TAXONOMY {
        (
            "Assetmap needs and interests",
            "What a resident needs or enjoys: the categories link workers search by.",
        )
    } else if id == KIND_TAXONOMY {
        (
            "Assetmap asset kinds",
            "What a community asset is: a park, a walking route, a charity, a service ...",
        )
    } else {
        return None;
    };
    let mut t =
        json!({"id": id.to_string(), "name": name, "description": description, "version": "1"});
    if let Some(terms) = terms {
        t["taxonomy_terms"] = Value::Array(terms);
    }
    Some(t)
}

/// Drops members whose value is null, so an absent part is absent rather than null.
fn compact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .collect::<Map<String, Value>>(),
        ),
        other => other,
    }
}

fn organization(org: &organization::Model) -> Value {
    compact(json!({
        "id": org.id.to_string(),
        "name": org.name,
        "description": org.description.clone().unwrap_or_default(),
        "email": org.email,
        // the profile wants absolute URIs; a row from before websites were checked may
        // lack the scheme
        "website": org.website.as_deref().and_then(web_address),
    }))
}

/// The point a location is published at: the asset's own point, or a point inside its
/// area or on its route.
fn point_of(geometry: &ValidGeometry) -> Option<(f64, f64)> {
    geometry.geometry().interior_point().map(|p| (p.x(), p.y()))
}

/// Everything about the asset that is not its service's one-to-one fields.
pub struct Parts<'a> {
    pub asset: &'a asset::Model,
    pub categories: &'a [category::Model],
    pub organization: Option<&'a organization::Model>,
}

impl Parts<'_> {
    fn geometry(&self) -> Option<ValidGeometry> {
        ValidGeometry::parse_str(&self.asset.geometry).ok()
    }

    fn status(&self) -> &'static str {
        if self.asset.status == AssetStatus::Active {
            "active"
        } else {
            "inactive"
        }
    }

    /// The service's own fields: what a page of services lists.
    fn service_fields(&self) -> Map<String, Value> {
        let a = self.asset;
        let fields = compact(json!({
            "id": a.id.to_string(),
            "organization_id": a.organization_id.map(|o| o.to_string()),
            "name": a.name,
            "description": a.description,
            "url": a.website.as_deref().and_then(web_address),
            "email": a.email,
            "status": self.status(),
            "fees": a.cost_note,
            "minimum_age": a.min_age,
            "maximum_age": a.max_age,
            "assured_date": a.last_verified_at.map(|t| t.date_naive().to_string()),
            "last_modified": a.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }));
        match fields {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    /// A service as a page of services lists it (one-to-one fields and organization).
    pub fn service_list_item(&self) -> Value {
        let mut s = self.service_fields();
        if let Some(org) = self.organization {
            s.insert("organization".into(), organization(org));
        }
        Value::Object(s)
    }

    fn location(&self) -> Value {
        let a = self.asset;
        let point = self.geometry().as_ref().and_then(point_of);
        let mut location = json!({
            "id": part(a.id, "location"),
            "location_type": "physical",
            "name": a.name,
            "latitude": point.map(|p| p.1),
            "longitude": point.map(|p| p.0),
        });
        if a.address.is_some() || a.postcode.is_some() {
            location["addresses"] = json!([{
                "id": part(a.id, "address"),
                "location_id": part(a.id, "location"),
                "address_1": a.address.clone().unwrap_or_default(),
                "city": "",
                "state_province": "",
                "postal_code": a.postcode.clone().unwrap_or_default(),
                "country": "GB",
                "address_type": "physical",
            }]);
        }
        let features = Accessibility::from_mask(a.accessibility);
        if !features.is_empty() {
            location["accessibility"] = Value::Array(
                features
                    .iter()
                    .map(|f| {
                        json!({
                            "id": part(a.id, &format!("accessibility/{}", f.name())),
                            "location_id": part(a.id, "location"),
                            "description": f.description(),
                            "details": f.name(),
                        })
                    })
                    .collect(),
            );
        }
        compact(location)
    }

    fn schedules(&self) -> Vec<Value> {
        let a = self.asset;
        let Some(text) = &a.opening_hours else {
            return Vec::new();
        };
        match schedule::from_osm(text) {
            Schedules::Weekly {
                openings,
                closed_on_bank_holidays,
            } => openings
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    compact(json!({
                        "id": part(a.id, &format!("schedule/{i}")),
                        "service_id": a.id.to_string(),
                        "freq": "WEEKLY",
                        "byday": schedule::byday(&o.days),
                        "opens_at": o.opens,
                        "closes_at": o.closes,
                        "notes": closed_on_bank_holidays.then_some(CLOSED_ON_BANK_HOLIDAYS),
                    }))
                })
                .collect(),
            Schedules::Text(text) => vec![json!({
                "id": part(a.id, "schedule/0"),
                "service_id": a.id.to_string(),
                "description": text,
            })],
        }
    }

    fn cost_options(&self) -> Vec<Value> {
        let a = self.asset;
        match a.free {
            Some(true) => vec![json!({
                "id": part(a.id, "cost"), "service_id": a.id.to_string(),
                "option": "Free", "amount": 0,
            })],
            Some(false) => vec![compact(json!({
                "id": part(a.id, "cost"), "service_id": a.id.to_string(),
                "option": "Charged", "amount_description": a.cost_note,
            }))],
            None => Vec::new(),
        }
    }

    fn attributes(&self) -> Vec<Value> {
        let a = self.asset;
        let kind = std::iter::once(kind_term(a.kind));
        kind.chain(self.categories.iter().map(category_term))
            .map(|term| {
                let term_id = term["id"].as_str().unwrap_or_default().to_owned();
                json!({
                    "id": part(a.id, &format!("attribute/{term_id}")),
                    "link_id": a.id.to_string(),
                    "link_type": "service",
                    "taxonomy_term_id": term_id,
                    "taxonomy_term": term,
                })
            })
            .collect()
    }

    fn service_at_location_fields(&self) -> Value {
        let a = self.asset;
        json!({
            "id": service_at_location_id(a.id).to_string(),
            "service_id": a.id.to_string(),
            "location_id": part(a.id, "location"),
            "location": self.location(),
        })
    }

    /// The whole service, as `/services/{id}` returns it.
    pub fn service(&self) -> Value {
        let a = self.asset;
        let mut s = self.service_fields();
        if let Some(org) = self.organization {
            s.insert("organization".into(), organization(org));
        }
        s.insert(
            "service_at_locations".into(),
            json!([self.service_at_location_fields()]),
        );
        s.insert("schedules".into(), Value::Array(self.schedules()));
        s.insert("cost_options".into(), Value::Array(self.cost_options()));
        s.insert("attributes".into(), Value::Array(self.attributes()));
        if let Some(phone) = &a.phone {
            // HSDS 3.0's phones; the UK profile's schema leaves them open
            s.insert(
                "phones".into(),
                json!([{"id": part(a.id, "phone"), "service_id": a.id.to_string(), "number": phone}]),
            );
        }
        if let Some(geometry) = self
            .geometry()
            .filter(|g| !matches!(g.geometry(), geo::Geometry::Point(_)))
        {
            s.insert(
                "service_areas".into(),
                json!([{
                    "id": part(a.id, "area"), "service_id": a.id.to_string(),
                    "name": a.name, "extent_type": "geojson",
                    "extent": geometry.to_geojson_string(),
                }]),
            );
        }
        Value::Object(s)
    }

    /// A service_at_location as a page lists it: with its location and its service's
    /// one-to-one fields.
    pub fn service_at_location_list_item(&self) -> Value {
        let mut sal = self.service_at_location_fields();
        sal["service"] = self.service_list_item();
        sal
    }

    /// The whole service_at_location, as `/service_at_locations/{id}` returns it.
    pub fn service_at_location(&self) -> Value {
        let mut sal = self.service_at_location_fields();
        sal["service"] = self.service();
        sal
    }
}
