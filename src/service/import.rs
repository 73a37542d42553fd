//! GeoJSON FeatureCollections in: each feature is mapped (name, kind, categories,
//! contact details from the common property names), validated by the same gate as the
//! API, and either imported or reported with its reason. All imported features go in
//! one transaction: a failed import leaves nothing behind.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseTransaction, EntityTrait, TransactionTrait};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{assets, categories, organizations};
use crate::db::Db;
use crate::domain::asset::{Contact, Details, parse_email};
use crate::domain::hours::Hours;
use crate::domain::listing::{Accessibility, AgeRange};
use crate::domain::{AssetKind, NewAsset, Text, ValidGeometry};
use crate::error::{AppError, AppResult};

/// Property names tried, in order, for each field when no flag names one.
const NAME_PROPERTIES: &[&str] = &["name", "Name", "NAME", "site_name", "title", "Title"];
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

/// Sets kind and categories for features whose `property` equals `value`.
#[derive(Clone, Debug, Default)]
pub struct Rule {
    pub property: String,
    pub value: String,
    pub kind: Option<AssetKind>,
    pub categories: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The kind of every feature, unless a rule or a `kind` property says otherwise.
    pub kind: Option<AssetKind>,
    /// Categories given to every feature.
    pub categories: Vec<String>,
    /// The property holding the name, instead of the usual names.
    pub name_property: Option<String>,
    /// The property to name a feature by when it has no name (e.g. its type, so an
    /// unnamed site becomes "Play Space").
    pub fallback_name_property: Option<String>,
    /// The property naming the organization that runs the asset; organizations are
    /// found by name or created.
    pub organization_property: Option<String>,
    pub rules: Vec<Rule>,
    /// Refuse the whole file if any feature is rejected.
    pub strict: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The feature's position in the collection, from 0.
    pub index: usize,
    pub name: Option<String>,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub total: usize,
    pub imported: usize,
    pub organizations_created: usize,
    pub rejected: Vec<Rejection>,
}

/// A feature that passed, waiting for its organization to be resolved.
struct Prepared {
    asset: NewAsset,
    organization: Option<String>,
}

fn text_property<'a>(props: &'a Map<String, Value>, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| {
        props
            .get(*n)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty() && !PLACEHOLDERS.contains(&v.to_ascii_lowercase().as_str()))
    })
}

fn prepare(feature: &Value, options: &ImportOptions) -> AppResult<Prepared> {
    if feature.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(AppError::invalid("feature", "not a GeoJSON Feature"));
    }
    let empty = Map::new();
    let props = feature
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let geometry = match feature.get("geometry") {
        None | Some(Value::Null) => {
            return Err(AppError::invalid("geometry", "the feature has no geometry"));
        }
        Some(g) => ValidGeometry::parse(g)?,
    };

    let name_names: Vec<&str> = match &options.name_property {
        Some(p) => vec![p.as_str()],
        None => NAME_PROPERTIES.to_vec(),
    };
    let fallback: Vec<&str> = options
        .fallback_name_property
        .as_deref()
        .into_iter()
        .collect();
    let name = text_property(props, &name_names)
        .or_else(|| text_property(props, &fallback))
        .ok_or_else(|| AppError::invalid("name", "the feature has no name property"))?;
    let name = Text::parse("name", name, Text::NAME_MAX)?;

    let mut kind = options.kind;
    if let Some(k) = props.get("kind").and_then(Value::as_str) {
        kind = Some(
            AssetKind::parse(k)
                .ok_or_else(|| AppError::invalid("kind", format!("unknown kind {k:?}")))?,
        );
    }
    let mut cats = options.categories.clone();
    // a feature's own categories: an array of slugs, or one string of comma-separated slugs
    match props.get("categories") {
        Some(Value::Array(items)) => cats.extend(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(|s| s.trim().to_owned()),
        ),
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
    let contact = Contact {
        address: field("address", ADDRESS_PROPERTIES)?,
        postcode: field("postcode", POSTCODE_PROPERTIES)?,
        website: field("website", WEBSITE_PROPERTIES)?,
        // a malformed email in published data is dropped, not a reason to lose the asset
        email: parse_email(email).unwrap_or(None),
        phone: Text::parse_opt("phone", phone, Text::FIELD_MAX)?,
    };
    let description = Text::parse_opt(
        "description",
        text_property(props, DESCRIPTION_PROPERTIES),
        Text::DESCRIPTION_MAX,
    )?;
    let organization = options
        .organization_property
        .as_deref()
        .and_then(|p| text_property(props, &[p]))
        .map(str::to_owned);
    let mut asset = NewAsset::new(kind, name, description, geometry, cats, None, contact)?;
    asset.details = details(props);
    Ok(Prepared {
        asset,
        organization,
    })
}

/// What a link worker checks, from our own export's properties or OpenStreetMap's tags
/// (`opening_hours`, `wheelchair`, `toilets:wheelchair`, `hearing_loop`, `fee`,
/// `charge`, `min_age`, `max_age`). Like a malformed email, a value that does not parse
/// (free-text opening times such as "Wednesday 10am - 4pm") is left out rather than
/// costing the asset.
fn details(props: &Map<String, Value>) -> Details {
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
        if yes(tag) && !features.contains(&feature) {
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
        opening_hours: text_property(props, HOURS_PROPERTIES).and_then(|t| Hours::parse(t).ok()),
        accessibility: features,
        free,
        cost_note: text_property(props, COST_PROPERTIES)
            .and_then(|t| Text::parse("costNote", t, Text::FIELD_MAX).ok()),
        ages: AgeRange::new(age("min_age"), age("max_age")).unwrap_or_default(),
    }
}

/// Features on their way to the importer, one by one; an `Err` aborts the import.
pub type FeatureReceiver = mpsc::Receiver<AppResult<Value>>;

fn check_collection_crs(crs: &Value) -> AppResult<()> {
    // the same rule as for a geometry's own crs
    let probe = serde_json::json!({"type": "Point", "coordinates": [0.0, 0.0], "crs": crs});
    ValidGeometry::parse(&probe)?;
    Ok(())
}

/// The features of a FeatureCollection held in memory, as a receiver.
pub fn features_of(collection: &Value) -> AppResult<FeatureReceiver> {
    if collection.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(AppError::invalid(
            "file",
            "expected a GeoJSON FeatureCollection",
        ));
    }
    if let Some(crs) = collection.get("crs") {
        check_collection_crs(crs)?;
    }
    let features = collection
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| AppError::invalid("file", "the FeatureCollection has no features array"))?;
    let (tx, rx) = mpsc::channel(features.len().max(1));
    for feature in features {
        // the channel holds them all, so this never waits or fails
        let _ = tx.try_send(Ok(feature.clone()));
    }
    Ok(rx)
}

/// Reads a FeatureCollection from `reader` on a blocking thread, one feature at a time,
/// so a file of any size is imported in constant memory.
pub fn read_features(reader: impl std::io::Read + Send + 'static) -> FeatureReceiver {
    let (tx, rx) = mpsc::channel(1024);
    tokio::task::spawn_blocking(move || {
        let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(
            1 << 16,
            reader,
        ));
        let result =
            serde::de::DeserializeSeed::deserialize(stream::Collection { tx: &tx }, &mut de)
                .and_then(|()| de.end());
        if let Err(e) = result {
            // the receiver may be gone already (an earlier error); nothing more to tell
            let _ = tx.blocking_send(Err(AppError::invalid(
                "file",
                format!("not a GeoJSON FeatureCollection: {e}"),
            )));
        }
    });
    rx
}

/// A streaming reader of `{"type": "FeatureCollection", "features": [...]}`.
mod stream {
    use std::fmt;

    use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde_json::Value;
    use tokio::sync::mpsc;

    use crate::error::AppResult;

    pub struct Collection<'a> {
        pub tx: &'a mpsc::Sender<AppResult<Value>>,
    }

    impl<'de> DeserializeSeed<'de> for Collection<'_> {
        type Value = ();

        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for Collection<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a GeoJSON FeatureCollection object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut saw_features = false;
            while let Some(key) = map.next_key::<String>()? {
                match key.as_str() {
                    "type" => {
                        let kind: String = map.next_value()?;
                        if kind != "FeatureCollection" {
                            return Err(de::Error::custom(format!("its type is {kind:?}")));
                        }
                    }
                    "crs" => {
                        let crs: Value = map.next_value()?;
                        super::check_collection_crs(&crs)
                            .map_err(|e| de::Error::custom(e.message()))?;
                    }
                    "features" => {
                        map.next_value_seed(Features { tx: self.tx })?;
                        saw_features = true;
                    }
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            if saw_features {
                Ok(())
            } else {
                Err(de::Error::custom("it has no features array"))
            }
        }
    }

    struct Features<'a> {
        tx: &'a mpsc::Sender<AppResult<Value>>,
    }

    impl<'de> DeserializeSeed<'de> for Features<'_> {
        type Value = ();

        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for Features<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of features")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(feature) = seq.next_element::<Value>()? {
                if self.tx.blocking_send(Ok(feature)).is_err() {
                    return Err(de::Error::custom("the import stopped"));
                }
            }
            Ok(())
        }
    }
}

/// Imports a FeatureCollection held in memory, in one transaction.
pub async fn import(
    db: &Db,
    collection: &Value,
    options: &ImportOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> AppResult<ImportReport> {
    import_stream(db, features_of(collection)?, options, progress).await
}

/// Imports features as they arrive, in one transaction. `progress` is told how many
/// features have been handled so far. Nothing is written unless every feature arrived
/// and the transaction committed.
pub async fn import_stream(
    db: &Db,
    features: FeatureReceiver,
    options: &ImportOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> AppResult<ImportReport> {
    let txn = db.write.begin().await?;
    let report = import_into(&txn, features, options, progress).await?;
    if options.strict && !report.rejected.is_empty() {
        txn.rollback().await?;
        return Ok(ImportReport {
            imported: 0,
            organizations_created: 0,
            ..report
        });
    }
    txn.commit().await?;
    // a bulk load changes the table's statistics; let the query planner see the new ones
    let analyze = match db.backend {
        crate::db::Backend::Sqlite => "PRAGMA optimize",
        crate::db::Backend::Postgres => "ANALYZE assets, asset_categories",
    };
    if report.imported > 1_000
        && let Err(e) = db.write.execute_unprepared(analyze).await
    {
        tracing::warn!(error = %e, "refreshing planner statistics after the import failed");
    }
    Ok(report)
}

/// Imports into an open transaction; the caller commits.
pub async fn import_into(
    txn: &DatabaseTransaction,
    mut features: FeatureReceiver,
    options: &ImportOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> AppResult<ImportReport> {
    let mut fixed: Vec<String> = options.categories.clone();
    fixed.extend(
        options
            .rules
            .iter()
            .flat_map(|r| r.categories.iter().cloned()),
    );
    fixed.sort();
    fixed.dedup();
    let fixed = crate::domain::asset::dedup_categories(fixed)?;
    // the options' own categories must exist before anything is read
    categories::resolve(txn, &fixed).await?;
    let category_ids: HashMap<String, Uuid> = categories::list(txn)
        .await?
        .into_iter()
        .map(|c| (c.slug, c.id))
        .collect();

    let mut report = ImportReport::default();
    let mut orgs: HashMap<String, Uuid> = HashMap::new();
    let mut rows = Vec::new();
    let mut shapes = Vec::new();
    let mut links = Vec::new();
    let now = super::now();
    const BATCH: usize = 500;

    let mut index = 0;
    while let Some(feature) = features.recv().await {
        let feature = feature?;
        let prepared = prepare(&feature, options).and_then(|p| {
            match p
                .asset
                .categories
                .iter()
                .find(|slug| !category_ids.contains_key(*slug))
            {
                Some(unknown) => Err(AppError::invalid(
                    "categories",
                    format!("there is no category {unknown:?}"),
                )),
                None => Ok(p),
            }
        });
        match prepared {
            Ok(mut prepared) => {
                if let Some(org_name) = prepared.organization.take() {
                    let org_id = match orgs.get(&org_name) {
                        Some(id) => *id,
                        None => {
                            let id = organization_id(txn, &org_name, &mut report).await?;
                            orgs.insert(org_name, id);
                            id
                        }
                    };
                    prepared.asset.organization_id = Some(org_id);
                }
                let id = Uuid::now_v7();
                for slug in &prepared.asset.categories {
                    if let Some(c) = category_ids.get(slug) {
                        links.push((id, *c));
                    }
                }
                rows.push(assets::new_row(id, &prepared.asset, now)?);
                let public = crate::domain::people::public_geometry(
                    prepared.asset.kind,
                    &prepared.asset.geometry,
                )?;
                shapes.push((id, public.geometry().clone()));
                report.imported += 1;
            }
            Err(err) => report.rejected.push(Rejection {
                index,
                name: feature
                    .get("properties")
                    .and_then(Value::as_object)
                    .and_then(|p| text_property(p, NAME_PROPERTIES))
                    .map(str::to_owned),
                reason: match &err {
                    AppError::InvalidGeometry(g) => format!("{} ({})", g, g.reason.as_str()),
                    other => other.message(),
                },
            }),
        }
        if rows.len() >= BATCH {
            flush(txn, &mut rows, &mut shapes, &mut links).await?;
        }
        index += 1;
        report.total = index;
        progress(index as u64);
    }
    flush(txn, &mut rows, &mut shapes, &mut links).await?;
    Ok(report)
}

async fn organization_id(
    conn: &impl ConnectionTrait,
    name: &str,
    report: &mut ImportReport,
) -> AppResult<Uuid> {
    if let Some(org) = organizations::find_by_name(conn, name).await? {
        return Ok(org.id);
    }
    let org = organizations::insert(
        conn,
        organizations::NewOrganization {
            name: Text::parse("organization", name, Text::NAME_MAX)?,
            description: None,
            website: None,
            email: None,
            phone: None,
            trusted: false,
        },
    )
    .await?;
    report.organizations_created += 1;
    Ok(org.id)
}

async fn flush(
    txn: &DatabaseTransaction,
    rows: &mut Vec<entity::asset::ActiveModel>,
    shapes: &mut Vec<(Uuid, geo::Geometry<f64>)>,
    links: &mut Vec<(Uuid, Uuid)>,
) -> AppResult<()> {
    if !rows.is_empty() {
        entity::asset::Entity::insert_many(std::mem::take(rows))
            .exec_without_returning(txn)
            .await?;
    }
    let batch = std::mem::take(shapes);
    // each asset's history starts with its import; version 1 is the imported content
    let now = super::now();
    let revisions: Vec<entity::asset_revision::ActiveModel> = batch
        .iter()
        .map(|(id, _)| entity::asset_revision::ActiveModel {
            id: sea_orm::Set(Uuid::now_v7()),
            asset_id: sea_orm::Set(*id),
            version: sea_orm::Set(1),
            action: sea_orm::Set("import".to_owned()),
            actor_id: sea_orm::Set("cli".to_owned()),
            actor_name: sea_orm::Set("import".to_owned()),
            approved_by: sea_orm::Set(None),
            at: sea_orm::Set(now),
            before: sea_orm::Set(None),
            after: sea_orm::Set(None),
        })
        .collect();
    if !revisions.is_empty() {
        entity::asset_revision::Entity::insert_many(revisions)
            .exec_without_returning(txn)
            .await?;
    }
    let refs: Vec<(Uuid, &geo::Geometry<f64>)> = batch.iter().map(|(id, g)| (*id, g)).collect();
    crate::spatial::index::index(txn, &refs).await?;
    categories::link(txn, std::mem::take(links)).await
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let d = prepare(&feature, &options()).unwrap().asset.details;
        assert_eq!(
            d.opening_hours.map(|h| h.as_str().to_owned()).as_deref(),
            Some("Mo-Fr 09:00-17:00; PH off")
        );
        assert_eq!(
            d.accessibility,
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
        let d = prepare(&free_text, &options()).unwrap().asset.details;
        assert_eq!(d.opening_hours, None);
        assert_eq!(d.ages.max, None);
    }

    #[test]
    fn maps_the_usual_property_names() {
        let f = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [-2.4, 53.5]},
            "properties": {"Name": "BRASS Bolton", "Postcode": "BL3 2HP", "Contact": "admin@brass-bolton.org.uk",
                           "Website": "http://brassbolton.org/", "Address": "N/A"}});
        let p = prepare(&f, &options()).unwrap();
        assert_eq!(p.asset.name.as_str(), "BRASS Bolton");
        assert_eq!(p.asset.contact.postcode.unwrap().as_str(), "BL3 2HP");
        assert_eq!(
            p.asset.contact.email.unwrap().as_str(),
            "admin@brass-bolton.org.uk"
        );
        assert_eq!(p.asset.contact.address, None);
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
        let p = prepare(&f, &opts).unwrap();
        assert_eq!(p.asset.kind, AssetKind::Park);
        assert_eq!(p.asset.categories, vec!["parks".to_owned()]);
    }

    #[test]
    fn rejects_features_without_name_or_geometry() {
        let no_name = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]}, "properties": {}});
        assert!(prepare(&no_name, &options()).is_err());
        let no_geom = json!({"type": "Feature", "geometry": null, "properties": {"name": "x"}});
        assert!(prepare(&no_geom, &options()).is_err());
    }
}
