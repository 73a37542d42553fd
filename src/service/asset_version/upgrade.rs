//! One-off rewrites a migration asks for, run once at start-up after the upgrade. A
//! migration can only write SQL, so it leaves a flag in `app_meta` (key → state) and the
//! rewrite, which needs Rust (geometry, validation, the write path), runs here and marks
//! the flag done in the same transaction.

use entity::{app_meta, asset, asset_revision::Action, organization};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::{Guard, Made, commit, row, write};
use crate::auth::{Actor, Role};
use crate::db::Db;
use crate::domain::text::web_address;
use crate::domain::{AssetStatus, Moderation, Text};
use crate::error::AppResult;
use crate::service::categories;
use crate::service::changes::public_view;
use crate::spatial;

/// A one-off rewrite: its `app_meta` key, the state a migration sets to ask for it and
/// the state it leaves when done. The stored states are compared here and nowhere else.
#[derive(Clone, Copy, Debug)]
enum OneOff {
    /// Migration 9: compute every asset's search records from its row.
    SearchRecords,
    /// Migration 14: websites are `http`/`https` only.
    Websites,
}

impl OneOff {
    fn key(self) -> &'static str {
        match self {
            Self::SearchRecords => "search_records",
            Self::Websites => "websites",
        }
    }

    /// (asked, done) as stored.
    fn states(self) -> (&'static str, &'static str) {
        match self {
            Self::SearchRecords => ("rebuild", "ready"),
            Self::Websites => ("check", "checked"),
        }
    }

    async fn asked(self, conn: &impl ConnectionTrait) -> AppResult<bool> {
        let flag = app_meta::Entity::find_by_id(self.key()).one(conn).await?;
        Ok(flag.is_some_and(|f| f.value == self.states().0))
    }

    async fn done(self, txn: &DatabaseTransaction) -> AppResult<()> {
        app_meta::ActiveModel {
            key: Set(self.key().to_owned()),
            value: Set(self.states().1.to_owned()),
        }
        .update(txn)
        .await?;
        Ok(())
    }
}

/// Computes every public asset's search records again, when a migration asked for it
/// (SQLite), in one transaction; a no-op otherwise.
pub async fn rebuild_search_records(db: &Db) -> AppResult<()> {
    if !OneOff::SearchRecords.asked(&db.write).await? {
        return Ok(());
    }
    tracing::info!("computing the search records of every asset (once, after an upgrade)");
    let txn = db.write.begin().await?;
    let mut after: Option<Uuid> = None;
    loop {
        let mut query = asset::Entity::find()
            .filter(asset::Column::Status.eq(AssetStatus::Active))
            .filter(asset::Column::Moderation.eq(Moderation::Approved))
            .order_by_asc(asset::Column::Id)
            .limit(1_000);
        if let Some(after) = after {
            query = query.filter(asset::Column::Id.gt(after));
        }
        let rows = query.all(&txn).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id);
        reindex_rows(&txn, &rows).await?;
    }
    OneOff::SearchRecords.done(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Writes the search records of these public rows.
async fn reindex_rows(txn: &DatabaseTransaction, rows: &[asset::Model]) -> AppResult<()> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut cats = categories::of_assets(txn, &ids).await?;
    let mut views = Vec::with_capacity(rows.len());
    for r in rows {
        let mine = cats.remove(&r.id).unwrap_or_default();
        let slugs = mine.iter().map(|c| c.slug.clone()).collect();
        let content = row::content_of(r, slugs)?;
        let category_ids: Vec<Uuid> = mine.iter().map(|c| c.id).collect();
        views.push((public_view(&content, r.moderation)?, category_ids));
    }
    let indexed: Vec<spatial::Indexed<'_>> = rows
        .iter()
        .zip(&views)
        .map(|(r, (view, category_ids))| spatial::Indexed {
            id: r.id,
            version: r.version,
            verified_at: r.last_verified_at,
            view: view.as_ref(),
            category_ids,
        })
        .collect();
    spatial::reindex(txn, &indexed).await
}

/// Once, after the upgrade that made websites `http`/`https` only: every asset whose
/// stored website is not such an address gets it fixed (`http://` added where only the
/// scheme was missing) or cleared (`javascript:` and the like), each as a new version
/// with its revision, recorded as made by "website check"; organizations' websites the
/// same way. Returns how many assets changed.
pub async fn check_websites(db: &Db) -> AppResult<u64> {
    if !OneOff::Websites.asked(&db.write).await? {
        return Ok(0);
    }
    let txn = db.write.begin().await?;
    let fixed = check_asset_websites(&txn).await?;
    check_organization_websites(&txn).await?;
    OneOff::Websites.done(&txn).await?;
    commit(txn).await?;
    if fixed > 0 {
        tracing::info!(
            assets.fixed = fixed,
            "websites that were not web addresses fixed or cleared (once, after an upgrade)"
        );
    }
    Ok(fixed)
}

/// Each asset's website fixed or cleared through the write path; how many changed.
async fn check_asset_websites(txn: &DatabaseTransaction) -> AppResult<u64> {
    let checker = Actor {
        id: "system:website-check".into(),
        name: "website check".into(),
        role: Role::Admin,
        organizations: Vec::new(),
    };
    let made = Made::by(Action::Update, &checker);
    let rows = asset::Entity::find()
        .filter(asset::Column::Website.is_not_null())
        .all(txn)
        .await?;
    let mut fixed = 0;
    for r in rows {
        let Some(website) = r.website.as_deref() else {
            continue;
        };
        let good =
            web_address(website).and_then(|w| Text::parse("website", &w, Text::FIELD_MAX).ok());
        if good.as_ref().map(Text::as_str) == Some(website) {
            continue;
        }
        let before = row::read(txn, &r).await?;
        let mut after = before.clone();
        after.contact.website = good;
        let guard = Guard {
            id: r.id,
            version: r.version,
            moderation: r.moderation,
            actor: &checker,
        };
        write(txn, &guard, &before, &after, &made).await?;
        fixed += 1;
    }
    Ok(fixed)
}

/// Organizations have no versions: their websites are fixed in place.
async fn check_organization_websites(txn: &DatabaseTransaction) -> AppResult<()> {
    let orgs = organization::Entity::find()
        .filter(organization::Column::Website.is_not_null())
        .all(txn)
        .await?;
    for org in orgs {
        let good = org.website.as_deref().and_then(web_address);
        if good.as_deref() != org.website.as_deref() {
            organization::ActiveModel {
                id: Set(org.id),
                website: Set(good),
                ..Default::default()
            }
            .update(txn)
            .await?;
        }
    }
    Ok(())
}
