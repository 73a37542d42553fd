//! Shortlists as the API shows them.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::{asset, shortlist};

use super::asset::Asset;

/// A handful of assets a link worker picked for a resident, with a note, opened by its
/// `code` without signing in. It holds no personal data (no name, NHS number, address or
/// phone number) and expires.
pub struct Shortlist {
    pub list: shortlist::Model,
    pub assets: Vec<asset::Model>,
}

#[Object]
impl Shortlist {
    /// Twelve letters and digits to open it with (`shortlist(code:)`); unguessable.
    async fn code(&self) -> &str {
        &self.list.code
    }

    /// The link worker's note: what to try first, how to get there.
    async fn note(&self) -> Option<&str> {
        self.list.note.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.list.created_at
    }

    /// After this it can no longer be opened.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.list.expires_at
    }

    /// The assets in the order chosen, each with its current details.
    async fn items(&self) -> Vec<ShortlistItem> {
        self.assets
            .iter()
            .cloned()
            .map(|a| ShortlistItem(Asset(a)))
            .collect()
    }
}

/// One asset on a shortlist.
pub struct ShortlistItem(pub Asset);

#[Object]
impl ShortlistItem {
    /// The asset as it is now.
    async fn asset(&self) -> &Asset {
        &self.0
    }

    /// True when the asset has been taken off the map since the shortlist was made.
    async fn archived(&self) -> bool {
        self.0.0.status == crate::domain::AssetStatus::Archived
    }
}

pub fn id_list(ids: &[ID]) -> crate::error::AppResult<Vec<uuid::Uuid>> {
    ids.iter()
        .map(|id| super::asset::parse_id("assetIds", id))
        .collect()
}

pub fn days(ctx: &Context<'_>) -> u32 {
    ctx.data_opt::<super::ShortlistDays>().map_or(90, |d| d.0)
}
