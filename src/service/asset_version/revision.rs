//! Revisions: the append-only history of an asset. Each write appends one, in the same
//! transaction, with who made it and the content before and after as JSON.

use entity::asset_revision::{self, Action};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::auth::Actor;
use crate::domain::AssetContent;
use crate::error::{AppError, AppResult};

/// Who made a change, as its revision records it.
#[derive(Clone, Copy, Debug)]
pub struct Made<'a> {
    pub action: Action,
    pub actor_id: &'a str,
    pub actor_name: &'a str,
    /// The moderator who approved it, when it waited for one.
    pub approved_by: Option<&'a str>,
}

impl<'a> Made<'a> {
    pub fn by(action: Action, actor: &'a Actor) -> Self {
        Self {
            action,
            actor_id: &actor.id,
            actor_name: &actor.name,
            approved_by: None,
        }
    }

    /// A bulk import from the command line.
    pub fn import() -> Made<'static> {
        Made {
            action: Action::Import,
            actor_id: "cli",
            actor_name: "import",
            approved_by: None,
        }
    }
}

/// One revision to append: the asset, its version after the change, and its content
/// before and after as stored JSON (absent where the change has none: a create has no
/// before; an import, approval, rejection or verification changes no content).
pub struct Entry {
    pub asset_id: Uuid,
    pub version: i32,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Entry {
    /// An entry for a change from `before` to `after`.
    pub fn of(
        asset_id: Uuid,
        version: i32,
        before: Option<&AssetContent>,
        after: Option<&AssetContent>,
    ) -> AppResult<Self> {
        Ok(Self {
            asset_id,
            version,
            before: before.map(AssetContent::to_json).transpose()?,
            after: after.map(AssetContent::to_json).transpose()?,
        })
    }
}

/// Appends revisions, all made the same way at the same moment.
pub async fn record(
    conn: &impl ConnectionTrait,
    made: &Made<'_>,
    entries: Vec<Entry>,
) -> AppResult<()> {
    let at = crate::service::now();
    let rows: Vec<asset_revision::ActiveModel> = entries
        .into_iter()
        .map(|e| asset_revision::ActiveModel {
            id: Set(Uuid::now_v7()),
            asset_id: Set(e.asset_id),
            version: Set(e.version),
            action: Set(made.action),
            actor_id: Set(made.actor_id.to_owned()),
            actor_name: Set(made.actor_name.to_owned()),
            approved_by: Set(made.approved_by.map(str::to_owned)),
            at: Set(at),
            before: Set(e.before),
            after: Set(e.after),
        })
        .collect();
    Ok(crate::db::insert_all(conn, &rows, 500).await?)
}

/// The fields that differ between two stored snapshots (either may be absent), as
/// (field, before, after), by field name.
pub fn diff(before: Option<&str>, after: Option<&str>) -> AppResult<Vec<(String, Value, Value)>> {
    let parse = |s: Option<&str>| -> AppResult<Map<String, Value>> {
        match s {
            None => Ok(Map::new()),
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

/// The asset's content at `version`, from its history: the snapshot written by the
/// change that made that version, or else the one the next change started from.
pub async fn content_at(
    conn: &impl ConnectionTrait,
    id: Uuid,
    version: i32,
) -> AppResult<AssetContent> {
    let revisions = asset_revision::Entity::find()
        .filter(asset_revision::Column::AssetId.eq(id))
        .filter(asset_revision::Column::Version.is_in([version, version + 1]))
        .all(conn)
        .await?;
    let made = revisions.iter().find_map(|r| {
        (r.version == version)
            .then_some(r.after.as_deref())
            .flatten()
    });
    let next = revisions.iter().find_map(|r| {
        (r.version == version + 1)
            .then_some(r.before.as_deref())
            .flatten()
    });
    match made.or(next) {
        Some(text) => AssetContent::from_json(text),
        None => Err(AppError::invalid(
            "toVersion",
            format!("the asset's history has no version {version}"),
        )),
    }
}

/// The asset's revisions, newest first, at most `limit`.
pub async fn history(
    conn: &impl ConnectionTrait,
    id: Uuid,
    limit: u64,
) -> AppResult<Vec<asset_revision::Model>> {
    Ok(asset_revision::Entity::find()
        .filter(asset_revision::Column::AssetId.eq(id))
        .order_by_desc(asset_revision::Column::Version)
        .order_by_desc(asset_revision::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}
