//! Creating, reading, changing, archiving, verifying and restoring assets.
//!
//! Every change runs in one transaction that also appends a revision (who, when, the asset
//! before and after), and bumps `version`; a change names the version it was based on and
//! is refused with `CONFLICT` (changing nothing) when another change got there first.
//! Nothing is ever deleted: archiving hides an asset from searches.
//!
//! Who may change what is checked twice: first with a clear error (`FORBIDDEN`), then in
//! the `UPDATE`'s own `WHERE` (the organizations the caller acts for, the version, the
//! moderation state), in the same transaction, so no path around the first check writes.
//! An editor of an organization that is not trusted proposes instead: the change waits
//! in `pending_changes` for a moderator (see `moderation`), and the asset is unchanged.

use std::collections::HashMap;

use entity::{asset, asset_revision, idempotency_key, organization, pending_change};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::categories;
use crate::auth::{Actor, Principal};
use crate::db::Db;
use crate::domain::asset::Contact;
use crate::domain::listing::{Accessibility, AgeRange};
use crate::domain::search::search_text;
use crate::domain::{AssetKind, AssetPatch, NewAsset, Text, ValidGeometry, people};
use crate::error::{AppError, AppResult};
use crate::spatial;

pub const ACTIVE: &str = "active";
pub const ARCHIVED: &str = "archived";
pub const APPROVED: &str = "approved";
pub const PENDING: &str = "pending";
pub const REJECTED: &str = "rejected";

/// The content of an asset at one version, as revisions and pending changes record it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub kind: String,
    pub name: String,
    pub description: Option<String>,
    pub geometry: Value,
    pub organization_id: Option<Uuid>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Category slugs, sorted.
    pub categories: Vec<String>,
    /// `active` or `archived`.
    pub status: String,
    #[serde(default)]
    pub opening_hours: Option<String>,
    /// Accessibility feature names, in their fixed order.
    #[serde(default)]
    pub accessibility: Vec<String>,
    #[serde(default)]
    pub free: Option<bool>,
    #[serde(default)]
    pub cost_note: Option<String>,
    #[serde(default)]
    pub min_age: Option<i32>,
    #[serde(default)]
    pub max_age: Option<i32>,
}

fn feature_names(mask: i64) -> Vec<String> {
    Accessibility::from_mask(mask)
        .into_iter()
        .map(|f| f.name().to_owned())
        .collect()
}

impl Snapshot {
    pub fn to_json(&self) -> AppResult<String> {
        serde_json::to_string(self).map_err(|e| AppError::Internal(e.into()))
    }

    pub fn from_json(text: &str) -> AppResult<Self> {
        serde_json::from_str(text).map_err(|e| AppError::Internal(e.into()))
    }

    fn of_new(new: &NewAsset) -> AppResult<Self> {
        let text = |t: &Option<Text>| t.as_ref().map(|t| t.as_str().to_owned());
        let mut categories = new.categories.clone();
        categories.sort();
        Ok(Self {
            kind: new.kind.as_str().to_owned(),
            name: new.name.as_str().to_owned(),
            description: text(&new.description),
            geometry: serde_json::from_str(&new.geometry.to_geojson_string())
                .map_err(|e| AppError::Internal(e.into()))?,
            organization_id: new.organization_id,
            address: text(&new.contact.address),
            postcode: text(&new.contact.postcode),
            website: text(&new.contact.website),
            email: text(&new.contact.email),
            phone: text(&new.contact.phone),
            categories,
            status: ACTIVE.to_owned(),
            opening_hours: new
                .details
                .opening_hours
                .as_ref()
                .map(|h| h.as_str().to_owned()),
            accessibility: feature_names(Accessibility::mask(&new.details.accessibility)),
            free: new.details.free,
            cost_note: text(&new.details.cost_note),
            min_age: new.details.ages.min,
            max_age: new.details.ages.max,
        })
    }

    /// The stored asset as a snapshot (one query for its categories).
    pub async fn of(conn: &impl ConnectionTrait, model: &asset::Model) -> AppResult<Self> {
        let mut categories: Vec<String> = categories::of_assets(conn, &[model.id])
            .await?
            .remove(&model.id)
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.slug)
            .collect();
        categories.sort();
        Ok(Self {
            kind: model.kind.clone(),
            name: model.name.clone(),
            description: model.description.clone(),
            // for people, the exact point: snapshots are for their own editors only
            geometry: serde_json::from_str(
                model.exact_geometry.as_deref().unwrap_or(&model.geometry),
            )
            .map_err(|e| AppError::Internal(e.into()))?,
            organization_id: model.organization_id,
            address: model.address.clone(),
            postcode: model.postcode.clone(),
            website: model.website.clone(),
            email: model.email.clone(),
            phone: model.phone.clone(),
            categories,
            status: model.status.clone(),
            opening_hours: model.opening_hours.clone(),
            accessibility: feature_names(model.accessibility),
            free: model.free,
            cost_note: model.cost_note.clone(),
            min_age: model.min_age,
            max_age: model.max_age,
        })
    }

    fn apply(&self, patch: AssetPatch) -> AppResult<Self> {
        let text = |t: Option<Text>| t.map(Text::into_string);
        let mut next = self.clone();
        if let Some(k) = patch.kind {
            next.kind = k.as_str().to_owned();
        }
        if let Some(n) = patch.name {
            next.name = n.into_string();
        }
        if let Some(g) = &patch.geometry {
            next.geometry = serde_json::from_str(&g.to_geojson_string())
                .map_err(|e| AppError::Internal(e.into()))?;
        }
        if let Some(mut c) = patch.categories {
            c.sort();
            next.categories = c;
        }
        if let Some(v) = patch.description {
            next.description = text(v);
        }
        if let Some(v) = patch.organization_id {
            next.organization_id = v;
        }
        if let Some(v) = patch.address {
            next.address = text(v);
        }
        if let Some(v) = patch.postcode {
            next.postcode = text(v);
        }
        if let Some(v) = patch.website {
            next.website = text(v);
        }
        if let Some(v) = patch.email {
            next.email = text(v);
        }
        if let Some(v) = patch.phone {
            next.phone = text(v);
        }
        if let Some(v) = patch.opening_hours {
            next.opening_hours = v.map(|h| h.as_str().to_owned());
        }
        if let Some(v) = patch.accessibility {
            next.accessibility = feature_names(Accessibility::mask(&v));
        }
        if let Some(v) = patch.free {
            next.free = v;
        }
        if let Some(v) = patch.cost_note {
            next.cost_note = text(v);
        }
        if let Some(v) = patch.min_age {
            next.min_age = v;
        }
        if let Some(v) = patch.max_age {
            next.max_age = v;
        }
        Ok(next)
    }

    /// The rules that span fields: the geometry suits the kind, the ages are in order.
    fn check(&self) -> AppResult<()> {
        self.asset_kind()?
            .check_geometry(self.valid_geometry()?.geometry_type())?;
        AgeRange::new(self.min_age, self.max_age)?;
        Ok(())
    }

    fn accessibility_mask(&self) -> i64 {
        let features: Vec<Accessibility> = self
            .accessibility
            .iter()
            .filter_map(|n| Accessibility::from_name(n))
            .collect();
        Accessibility::mask(&features)
    }

    /// The geometry the public sees, and the exact one when they differ (people).
    fn stored_geometry(&self) -> AppResult<(ValidGeometry, Option<String>)> {
        let exact = self.valid_geometry()?;
        let kind = self.asset_kind()?;
        let public = people::public_geometry(kind, &exact)?.into_owned();
        let private = people::is_person(kind).then(|| exact.to_geojson_string());
        Ok((public, private))
    }

    fn valid_geometry(&self) -> AppResult<ValidGeometry> {
        Ok(ValidGeometry::parse(&self.geometry)?)
    }

    fn asset_kind(&self) -> AppResult<AssetKind> {
        AssetKind::parse(&self.kind)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("stored kind {:?}", self.kind)))
    }
}

/// The fields that differ between two snapshots (either may be absent), as
/// (field, before, after), in a fixed order.
pub fn diff(before: Option<&str>, after: Option<&str>) -> AppResult<Vec<(String, Value, Value)>> {
    let parse = |s: Option<&str>| -> AppResult<serde_json::Map<String, Value>> {
        match s {
            None => Ok(serde_json::Map::new()),
            Some(text) => match serde_json::from_str(text) {
                Ok(Value::Object(map)) => Ok(map),
                Ok(_) => Err(AppError::Internal(anyhow::anyhow!(
                    "snapshot is not an object"
                ))),
                Err(e) => Err(AppError::Internal(e.into())),
            },
        }
    };
    let (before, after) = (parse(before)?, parse(after)?);
    let mut fields: Vec<&String> = before.keys().chain(after.keys()).collect();
    fields.sort();
    fields.dedup();
    Ok(fields
        .into_iter()
        .filter_map(|f| {
            let b = before.get(f).cloned().unwrap_or(Value::Null);
            let a = after.get(f).cloned().unwrap_or(Value::Null);
            (b != a).then(|| (f.clone(), b, a))
        })
        .collect())
}

/// What a revision records about who made a change.
pub struct Made<'a> {
    pub action: &'static str,
    pub actor_id: &'a str,
    pub actor_name: &'a str,
    pub approved_by: Option<&'a str>,
}

impl<'a> Made<'a> {
    pub fn by(action: &'static str, actor: &'a Actor) -> Self {
        Self {
            action,
            actor_id: &actor.id,
            actor_name: &actor.name,
            approved_by: None,
        }
    }
}

pub async fn record(
    conn: &impl ConnectionTrait,
    asset_id: Uuid,
    version: i32,
    made: &Made<'_>,
    before: Option<String>,
    after: Option<String>,
) -> AppResult<()> {
    asset_revision::ActiveModel {
        id: Set(Uuid::now_v7()),
        asset_id: Set(asset_id),
        version: Set(version),
        action: Set(made.action.to_owned()),
        actor_id: Set(made.actor_id.to_owned()),
        actor_name: Set(made.actor_name.to_owned()),
        approved_by: Set(made.approved_by.map(str::to_owned)),
        at: Set(super::now()),
        before: Set(before),
        after: Set(after),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The row for a new asset, without its category links.
pub fn new_row(
    id: Uuid,
    new: &NewAsset,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<asset::ActiveModel> {
    let public = people::public_geometry(new.kind, &new.geometry)?;
    let bbox = public.bbox();
    let text = |t: &Option<Text>| t.as_ref().map(|t| t.as_str().to_owned());
    let Contact {
        address,
        postcode,
        website,
        email,
        phone,
    } = &new.contact;
    let details = &new.details;
    Ok(asset::ActiveModel {
        id: Set(id),
        kind: Set(new.kind.as_str().to_owned()),
        name: Set(new.name.as_str().to_owned()),
        description: Set(text(&new.description)),
        geometry: Set(public.to_geojson_string()),
        min_lon: Set(bbox.min().x),
        min_lat: Set(bbox.min().y),
        max_lon: Set(bbox.max().x),
        max_lat: Set(bbox.max().y),
        organization_id: Set(new.organization_id),
        address: Set(text(address)),
        postcode: Set(text(postcode)),
        website: Set(text(website)),
        email: Set(text(email)),
        phone: Set(text(phone)),
        status: Set(ACTIVE.to_owned()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
        moderation: Set(APPROVED.to_owned()),
        last_verified_at: Set(None),
        last_verified_by: Set(None),
        opening_hours: Set(details
            .opening_hours
            .as_ref()
            .map(|h| h.as_str().to_owned())),
        accessibility: Set(Accessibility::mask(&details.accessibility)),
        free: Set(details.free),
        cost_note: Set(text(&details.cost_note)),
        min_age: Set(details.ages.min),
        max_age: Set(details.ages.max),
        exact_geometry: Set(people::is_person(new.kind).then(|| new.geometry.to_geojson_string())),
        search_text: Set(search_text(
            new.name.as_str(),
            new.description.as_ref().map(Text::as_str),
            &new.categories,
        )),
    })
}

async fn organization_of(
    conn: &impl ConnectionTrait,
    id: Option<Uuid>,
) -> AppResult<Option<organization::Model>> {
    let Some(id) = id else { return Ok(None) };
    match organization::Entity::find_by_id(id).one(conn).await? {
        Some(org) => Ok(Some(org)),
        None => Err(AppError::invalid(
            "organizationId",
            "organizationId does not name an organization",
        )),
    }
}

/// Whether this actor's change to an asset of these organizations publishes at once:
/// moderators' always; editors' when every organization involved is trusted.
fn publishes(actor: &Actor, organizations: &[Option<organization::Model>]) -> bool {
    actor.is_moderator()
        || organizations
            .iter()
            .all(|o| o.as_ref().is_some_and(|o| o.trusted))
}

/// A client's idempotency key for a create, with a hash of the asset it asked for.
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

impl Idempotency {
    pub const MAX_KEY: usize = 200;

    pub fn check_key(key: &str) -> AppResult<String> {
        if key.is_empty()
            || key.chars().count() > Self::MAX_KEY
            || key.chars().any(char::is_control)
        {
            return Err(AppError::invalid(
                "idempotencyKey",
                format!(
                    "idempotencyKey is 1 to {} characters, none of them control characters",
                    Self::MAX_KEY
                ),
            ));
        }
        Ok(key.to_owned())
    }
}

/// The asset an earlier create with this key made, or an error if the key came with
/// different input.
async fn replay(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    idem: &Idempotency,
) -> AppResult<Option<asset::Model>> {
    let Some(found) = idempotency_key::Entity::find_by_id((actor.id.clone(), idem.key.clone()))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    if found.request_hash != idem.request_hash {
        return Err(AppError::invalid(
            "idempotencyKey",
            "this idempotencyKey was already used with different input: use a new key for a new asset",
        ));
    }
    asset::Entity::find_by_id(found.asset_id)
        .one(conn)
        .await?
        .map(Some)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("idempotency key without its asset")))
}

#[tracing::instrument(skip_all, fields(asset.kind = new.kind.as_str()))]
pub async fn create(
    db: &Db,
    actor: &Actor,
    new: NewAsset,
    idempotency_key: Option<String>,
) -> AppResult<asset::Model> {
    if !actor.may_edit(new.organization_id) {
        return Err(AppError::forbidden(
            "editors create assets only for an organization they belong to: set organizationId to one of yours",
        ));
    }
    let snapshot = Snapshot::of_new(&new)?.to_json()?;
    let idempotency = idempotency_key.map(|key| Idempotency {
        key,
        request_hash: super::tokens::hash(&snapshot),
    });
    let id = Uuid::now_v7();
    let txn = db.write.begin().await?;
    if let Some(idem) = &idempotency {
        if let Some(existing) = replay(&txn, actor, idem).await? {
            return Ok(existing);
        }
        let claimed = idempotency_key::ActiveModel {
            owner: Set(actor.id.clone()),
            key: Set(idem.key.clone()),
            request_hash: Set(idem.request_hash.clone()),
            asset_id: Set(id),
            created_at: Set(super::now()),
        }
        .insert(&txn)
        .await;
        if let Err(e) = claimed {
            // another request with the same key got there first and has committed
            if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
                drop(txn);
                return replay(&db.write, actor, idem)
                    .await?
                    .ok_or_else(|| AppError::Internal(e.into()));
            }
            return Err(e.into());
        }
    }
    let category_ids = categories::resolve(&txn, &new.categories).await?;
    let org = organization_of(&txn, new.organization_id).await?;
    let published = publishes(actor, &[org]);
    let mut row = new_row(id, &new, super::now())?;
    if !published {
        row.moderation = Set(PENDING.to_owned());
    }
    let model = row.insert(&txn).await?;
    let public = people::public_geometry(new.kind, &new.geometry)?;
    spatial::index::index(&txn, &[(id, public.geometry())]).await?;
    categories::link(&txn, category_ids.into_iter().map(|c| (id, c))).await?;
    record(
        &txn,
        id,
        1,
        &Made::by("create", actor),
        None,
        Some(snapshot.clone()),
    )
    .await?;
    if !published {
        super::moderation::propose(&txn, actor, &model, "create", None, snapshot).await?;
    }
    txn.commit().await?;
    Ok(model)
}

/// An asset by id as this caller may see it: published assets for everyone, pending
/// and rejected ones only for their organization's editors and moderators.
pub async fn get(db: &Db, principal: &Principal, id: Uuid) -> AppResult<Option<asset::Model>> {
    let found = asset::Entity::find_by_id(id).one(&db.read).await?;
    Ok(found.filter(|a| a.moderation == APPROVED || principal.sees(a.organization_id)))
}

/// The assets with these ids, in the order given; ids with no asset are skipped.
pub async fn load_ordered(db: &Db, ids: &[Uuid]) -> AppResult<Vec<asset::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut by_id: HashMap<Uuid, asset::Model> = asset::Entity::find()
        .filter(asset::Column::Id.is_in(ids.iter().copied()))
        .all(&db.read)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

fn conflict(current_version: i32) -> AppError {
    AppError::Conflict {
        message: format!(
            "the asset was changed by someone else: it is at version {current_version}; \
             reload it and apply your change again"
        ),
        current_version: Some(current_version),
    }
}

/// Why `actor` may not change this asset at `expected_version`, if they may not.
fn refusal(actor: &Actor, row: Option<&asset::Model>, expected_version: i32) -> Option<AppError> {
    let Some(row) = row else {
        return Some(AppError::NotFound("asset"));
    };
    if !actor.may_edit(row.organization_id) {
        // unpublished assets of other organizations do not exist for this caller
        return Some(if row.moderation == APPROVED {
            AppError::forbidden("you may change only assets of the organizations you belong to")
        } else {
            AppError::NotFound("asset")
        });
    }
    if row.version != expected_version {
        return Some(conflict(row.version));
    }
    if row.moderation != APPROVED {
        return Some(AppError::Conflict {
            message: if row.moderation == PENDING {
                "the asset waits for a moderator to approve it; it can change after that".to_owned()
            } else {
                "the asset was rejected by a moderator and cannot change".to_owned()
            },
            current_version: Some(row.version),
        });
    }
    None
}

/// The asset to change, read in the transaction, once the caller may change it.
async fn for_change(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
) -> AppResult<asset::Model> {
    let row = asset::Entity::find_by_id(id).one(txn).await?;
    match refusal(actor, row.as_ref(), expected_version) {
        Some(e) => Err(e),
        None => row.ok_or(AppError::NotFound("asset")),
    }
}

/// Writes `after` over the asset if, at the moment of writing, it is still at
/// `expected_version`, approved, and of an organization `scope` may change (`None`:
/// any); then re-indexes, re-links categories and appends the revision.
pub async fn write_snapshot(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    before: &Snapshot,
    after: &Snapshot,
    made: &Made<'_>,
) -> AppResult<asset::Model> {
    after.check()?;
    let (geometry, exact_geometry) = after.stored_geometry()?;
    let category_ids = if after.categories == before.categories {
        None
    } else {
        Some(categories::resolve(txn, &after.categories).await?)
    };
    let now = super::now();
    let bbox = geometry.bbox();
    let changes = asset::ActiveModel {
        kind: Set(after.kind.clone()),
        name: Set(after.name.clone()),
        description: Set(after.description.clone()),
        geometry: Set(geometry.to_geojson_string()),
        min_lon: Set(bbox.min().x),
        min_lat: Set(bbox.min().y),
        max_lon: Set(bbox.max().x),
        max_lat: Set(bbox.max().y),
        organization_id: Set(after.organization_id),
        address: Set(after.address.clone()),
        postcode: Set(after.postcode.clone()),
        website: Set(after.website.clone()),
        email: Set(after.email.clone()),
        phone: Set(after.phone.clone()),
        status: Set(after.status.clone()),
        opening_hours: Set(after.opening_hours.clone()),
        accessibility: Set(after.accessibility_mask()),
        free: Set(after.free),
        cost_note: Set(after.cost_note.clone()),
        min_age: Set(after.min_age),
        max_age: Set(after.max_age),
        exact_geometry: Set(exact_geometry),
        search_text: Set(search_text(
            &after.name,
            after.description.as_deref(),
            &after.categories,
        )),
        version: Set(expected_version + 1),
        updated_at: Set(now),
        archived_at: match (before.status == ARCHIVED, after.status == ARCHIVED) {
            (false, true) => Set(Some(now)),
            (true, false) => Set(None),
            _ => NotSet,
        },
        ..Default::default()
    };
    let mut update = asset::Entity::update_many()
        .set(changes)
        .filter(asset::Column::Id.eq(id))
        .filter(asset::Column::Version.eq(expected_version))
        .filter(asset::Column::Moderation.eq(APPROVED));
    if !actor.is_moderator() {
        update =
            update.filter(asset::Column::OrganizationId.is_in(actor.organizations.iter().copied()));
    }
    if update.exec(txn).await?.rows_affected != 1 {
        let row = asset::Entity::find_by_id(id).one(txn).await?;
        return Err(refusal(actor, row.as_ref(), expected_version)
            .unwrap_or_else(|| AppError::Internal(anyhow::anyhow!("asset {id} was not written"))));
    }
    let (old, _) = before.stored_geometry()?;
    if old != geometry {
        spatial::index::unindex(txn, id, old.geometry()).await?;
        spatial::index::index(txn, &[(id, geometry.geometry())]).await?;
    }
    if let Some(ids) = category_ids {
        categories::set_for_asset(txn, id, &ids).await?;
    }
    record(
        txn,
        id,
        expected_version + 1,
        made,
        Some(before.to_json()?),
        Some(after.to_json()?),
    )
    .await?;
    asset::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound("asset"))
}

/// Applies a change the caller made to `before`: at once, or as a pending change when the
/// caller's organization is not trusted (the asset is then returned unchanged).
async fn change(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    action: &'static str,
    edit: impl FnOnce(&Snapshot) -> AppResult<Snapshot>,
) -> AppResult<asset::Model> {
    let txn = db.write.begin().await?;
    let current = for_change(&txn, actor, id, expected_version).await?;
    if current.status == ARCHIVED {
        return Err(AppError::Conflict {
            message: "the asset is archived; a moderator can restore it".to_owned(),
            current_version: Some(current.version),
        });
    }
    let before = Snapshot::of(&txn, &current).await?;
    let after = edit(&before)?;
    if after == before {
        return Ok(current);
    }
    if after.organization_id != before.organization_id && !actor.may_edit(after.organization_id) {
        return Err(AppError::forbidden(
            "you may move an asset only to an organization you belong to",
        ));
    }
    let from = organization_of(&txn, before.organization_id).await?;
    let to = if after.organization_id == before.organization_id {
        from.clone()
    } else {
        organization_of(&txn, after.organization_id).await?
    };
    let model = if publishes(actor, &[from, to]) {
        write_snapshot(
            &txn,
            actor,
            id,
            expected_version,
            &before,
            &after,
            &Made::by(action, actor),
        )
        .await?
    } else {
        // write_snapshot checks the content when the change is approved; check it now too,
        // so the editor hears of a mistake while making it
        after.check()?;
        categories::resolve(&txn, &after.categories).await?;
        super::moderation::propose(
            &txn,
            actor,
            &current,
            action,
            Some(before.to_json()?),
            after.to_json()?,
        )
        .await?;
        current
    };
    txn.commit().await?;
    Ok(model)
}

#[tracing::instrument(skip_all, fields(asset.id = %id))]
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    patch: AssetPatch,
) -> AppResult<asset::Model> {
    change(db, actor, id, expected_version, "update", |before| {
        before.apply(patch)
    })
    .await
}

#[tracing::instrument(skip_all, fields(asset.id = %id))]
pub async fn archive(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
) -> AppResult<asset::Model> {
    change(db, actor, id, expected_version, "archive", |before| {
        Ok(Snapshot {
            status: ARCHIVED.to_owned(),
            ..before.clone()
        })
    })
    .await
}

/// An editor confirms the listing is still right: sets `lastVerifiedAt` without changing
/// the asset (nor its version or `updatedAt`), and says so in its history.
#[tracing::instrument(skip_all, fields(asset.id = %id))]
pub async fn verify(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
) -> AppResult<asset::Model> {
    let txn = db.write.begin().await?;
    let current = for_change(&txn, actor, id, expected_version).await?;
    if current.status == ARCHIVED {
        return Err(AppError::Conflict {
            message: "the asset is archived".to_owned(),
            current_version: Some(current.version),
        });
    }
    let mut update = asset::Entity::update_many()
        .col_expr(asset::Column::LastVerifiedAt, Expr::value(super::now()))
        .col_expr(
            asset::Column::LastVerifiedBy,
            Expr::value(actor.name.clone()),
        )
        .filter(asset::Column::Id.eq(id))
        .filter(asset::Column::Version.eq(expected_version))
        .filter(asset::Column::Moderation.eq(APPROVED));
    if !actor.is_moderator() {
        update =
            update.filter(asset::Column::OrganizationId.is_in(actor.organizations.iter().copied()));
    }
    if update.exec(&txn).await?.rows_affected != 1 {
        let row = asset::Entity::find_by_id(id).one(&txn).await?;
        return Err(
            refusal(actor, row.as_ref(), expected_version).unwrap_or_else(|| {
                AppError::Internal(anyhow::anyhow!("asset {id} was not verified"))
            }),
        );
    }
    record(
        &txn,
        id,
        expected_version,
        &Made::by("verify", actor),
        None,
        None,
    )
    .await?;
    let verified = asset::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("asset"))?;
    txn.commit().await?;
    Ok(verified)
}

/// The asset's content at `version`, from its history.
async fn snapshot_at(conn: &impl ConnectionTrait, id: Uuid, version: i32) -> AppResult<Snapshot> {
    let revisions = asset_revision::Entity::find()
        .filter(asset_revision::Column::AssetId.eq(id))
        .filter(asset_revision::Column::Version.is_in([version, version + 1]))
        .all(conn)
        .await?;
    let text = revisions
        .iter()
        .find_map(|r| {
            (r.version == version)
                .then_some(r.after.as_deref())
                .flatten()
        })
        .or_else(|| {
            revisions.iter().find_map(|r| {
                (r.version == version + 1)
                    .then_some(r.before.as_deref())
                    .flatten()
            })
        });
    match text {
        Some(t) => Snapshot::from_json(t),
        None => Err(AppError::invalid(
            "toVersion",
            format!("the asset's history has no version {version}"),
        )),
    }
}

/// A moderator puts an asset back as it was at `to_version` (archived assets too: restore
/// the version before the archiving), as a new version.
#[tracing::instrument(skip_all, fields(asset.id = %id))]
pub async fn restore(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    to_version: i32,
) -> AppResult<asset::Model> {
    actor.require_moderator()?;
    let txn = db.write.begin().await?;
    let current = for_change(&txn, actor, id, expected_version).await?;
    let before = Snapshot::of(&txn, &current).await?;
    let after = snapshot_at(&txn, id, to_version).await?;
    let restored = write_snapshot(
        &txn,
        actor,
        id,
        expected_version,
        &before,
        &after,
        &Made::by("restore", actor),
    )
    .await?;
    txn.commit().await?;
    Ok(restored)
}

/// The asset's revisions, newest first, at most `limit`.
pub async fn history(db: &Db, id: Uuid, limit: u64) -> AppResult<Vec<asset_revision::Model>> {
    Ok(asset_revision::Entity::find()
        .filter(asset_revision::Column::AssetId.eq(id))
        .order_by_desc(asset_revision::Column::Version)
        .order_by_desc(asset_revision::Column::Id)
        .limit(limit)
        .all(&db.read)
        .await?)
}

/// Pending changes proposed for this asset, oldest first.
pub async fn pending_for(db: &Db, id: Uuid) -> AppResult<Vec<pending_change::Model>> {
    Ok(pending_change::Entity::find()
        .filter(pending_change::Column::AssetId.eq(id))
        .filter(pending_change::Column::Status.eq(PENDING))
        .order_by_asc(pending_change::Column::Id)
        .all(&db.read)
        .await?)
}

/// How many assets are stored, archived ones included.
pub async fn count_all(conn: &impl ConnectionTrait) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(asset::Entity::find().count(conn).await?)
}
