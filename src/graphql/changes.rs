//! Sync as the API shows it: `assetChanges` pages through the change log, and the
//! subscription `assetChanged` carries the same entries live.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::futures_util::Stream;
use async_graphql::futures_util::stream;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::asset::{Asset, AssetKind};
use super::page::PageInfo;
use super::search::BBoxInput;
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::BBox;
use crate::domain::changes::ChangeFilter;
use crate::error::{AppError, AppResult};
use crate::service::categories;
use crate::service::changes::hub::Event;
use crate::service::changes::{Delivered, Missed, Position, deliver};
use crate::state::AppState;

/// What a change did to the public's view of an asset.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::asset_change::ChangeState")]
pub enum AssetChangeState {
    /// The asset is there: `node` holds it as the public sees it now.
    Updated,
    /// The asset is gone for this client (archived, taken down, or no longer in its
    /// filter): `tombstone` says which to remove.
    Deleted,
}

/// An asset to remove from a copy.
#[derive(SimpleObject)]
pub struct AssetTombstone {
    pub id: ID,
    pub kind: AssetKind,
}

/// One entry of the change log, as this client sees it: the asset as the public sees
/// it now (`node`), or what to remove (`tombstone`).
pub struct AssetChangeEdge(pub Delivered);

#[Object]
impl AssetChangeEdge {
    /// Opaque; pass as `after` to continue after this entry.
    async fn cursor(&self) -> String {
        Position(self.0.entry.position).encode()
    }

    /// The entry's position in the change log, a whole number in decimal: later changes
    /// have greater positions.
    async fn position(&self) -> String {
        self.0.entry.position.to_string()
    }

    async fn state(&self) -> AssetChangeState {
        self.0.state.into()
    }

    /// When the change was made (RFC 3339, UTC).
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.entry.changed_at
    }

    /// The asset as the public sees it now (a person only at their approximate point);
    /// null when deleted. A change later undone by a deletion reads as deleted.
    async fn node(&self) -> Option<Asset> {
        self.0.asset.clone().map(Asset)
    }

    /// The asset to remove; null when updated.
    async fn tombstone(&self) -> Option<AssetTombstone> {
        (self.0.asset.is_none()).then(|| AssetTombstone {
            id: ID(self.0.entry.asset_id.to_string()),
            kind: self.0.entry.kind.into(),
        })
    }
}

/// A page of the change log, oldest first.
#[derive(SimpleObject)]
pub struct AssetChangeConnection {
    pub edges: Vec<AssetChangeEdge>,
    /// `endCursor` is where to continue from even when the page is empty (it is then the
    /// cursor given): keep it, and ask again later for what has changed since.
    pub page_info: PageInfo,
}

/// Which changes a client follows. A change concerns it when the asset was in the
/// filter before the change or is after it; an asset that leaves the filter is
/// delivered as DELETED.
#[derive(InputObject, Default)]
pub struct AssetChangeFilter {
    /// Assets whose geometry's box meets this box.
    pub bbox: Option<BBoxInput>,
    /// Any of these kinds.
    pub kinds: Option<Vec<AssetKind>>,
    /// Any of these category slugs; a parent also matches its children.
    pub categories: Option<Vec<String>>,
}

impl AssetChangeFilter {
    /// The filter, checked, with its categories' children.
    pub async fn parse(input: Option<Self>, db: &Db) -> AppResult<ChangeFilter> {
        let input = input.unwrap_or_default();
        let bbox = input
            .bbox
            .map(|b| BBox::new(b.min_lon, b.min_lat, b.max_lon, b.max_lat))
            .transpose()?;
        let slugs = input.categories.unwrap_or_default();
        if slugs.len() > ChangeFilter::MAX_LIST {
            return Err(AppError::invalid(
                "categories",
                format!("at most {} categories", ChangeFilter::MAX_LIST),
            ));
        }
        let categories = categories::expand_slugs(&db.read, &slugs).await?;
        let kinds = input
            .kinds
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        ChangeFilter::new(bbox, kinds, categories)
    }
}

/// Who holds a live connection, as `connection_init` told, checked again on each event.
#[derive(Clone)]
pub struct Subscriber {
    pub principal: Principal,
    /// The API token's id, to notice its revocation.
    pub token_id: Option<uuid::Uuid>,
    /// A JWT and the verifier to check it again (it may expire).
    pub jwt: Option<(String, Arc<crate::jwt::JwtVerifier>)>,
}

impl Subscriber {
    pub fn anonymous() -> Self {
        Self {
            principal: Principal::anonymous(),
            token_id: None,
            jwt: None,
        }
    }

    /// Why the subscription must end now, if it must.
    fn refused(&self, event: &Event) -> Option<AppError> {
        if self.token_id.is_some_and(|id| event.revoked.contains(&id)) {
            return Some(AppError::Unauthenticated(
                "the API token was revoked".to_owned(),
            ));
        }
        if let Some((token, verifier)) = &self.jwt
            && verifier.actor(token).is_err()
        {
            return Some(AppError::Unauthenticated(
                "the token has expired or is no longer valid".to_owned(),
            ));
        }
        None
    }
}

/// What a live connection shares with its subscriptions: the subscriptions it may hold
/// at once, and whether one of them fell too far behind (the connection is then closed:
/// its client must catch up with `assetChanges` before anything else it is sent helps).
#[derive(Clone)]
pub struct LiveConnection {
    pub slots: Arc<Semaphore>,
    pub fell_behind: Arc<AtomicBool>,
}

struct Follow {
    events: crate::service::changes::hub::Receiver,
    filter: ChangeFilter,
    subscriber: Subscriber,
    connection: Option<LiveConnection>,
    _slot: Option<OwnedSemaphorePermit>,
    done: bool,
}

impl Follow {
    /// The next entry for this subscription, or the error that ends it.
    async fn next(&mut self) -> Option<async_graphql::Result<AssetChangeEdge>> {
        if self.done {
            return None;
        }
        loop {
            match self.events.recv().await {
                Ok(event) => {
                    if let Some(refusal) = self.subscriber.refused(&event) {
                        self.done = true;
                        return Some(Err(refusal.into()));
                    }
                    if let Some(d) = deliver(&self.filter, &event.entry, event.now.as_ref()) {
                        return Some(Ok(AssetChangeEdge(d)));
                    }
                }
                Err(Missed::Lagged(missed)) => {
                    self.done = true;
                    if let Some(connection) = &self.connection {
                        connection.fell_behind.store(true, Ordering::Release);
                    }
                    return Some(Err(AppError::RateLimited(format!(
                        "this subscription fell {missed} changes behind and was closed: read \
                         from your last position with assetChanges, then subscribe again"
                    ))
                    .into()));
                }
            }
        }
    }
}

pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Changes to what the public sees, as they happen on any replica: the same entries
    /// as `assetChanges`, from the moment of subscribing. Over `graphql-transport-ws` at
    /// `/graphql/ws`; pass an API token as `{"Authorization": "Bearer <token>"}` in
    /// `connection_init`, or none. A subscription that falls too far behind is closed
    /// with `RATE_LIMITED` (catch up with `assetChanges`); one whose token is revoked is
    /// closed with `UNAUTHENTICATED`.
    async fn asset_changed(
        &self,
        ctx: &Context<'_>,
        filter: Option<AssetChangeFilter>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<AssetChangeEdge>>> {
        let db = ctx.data::<Db>()?;
        let connection = ctx.data_opt::<LiveConnection>().cloned();
        let slot = match &connection {
            Some(connection) => {
                Some(connection.slots.clone().try_acquire_owned().map_err(|_| {
                    AppError::RateLimited(
                        "too many subscriptions on this connection: end one first".to_owned(),
                    )
                })?)
            }
            None => None,
        };
        let filter = AssetChangeFilter::parse(filter, db).await?;
        let subscriber = ctx
            .data_opt::<Subscriber>()
            .cloned()
            .unwrap_or_else(Subscriber::anonymous);
        let follow = Follow {
            events: ctx.data::<AppState>()?.changes.subscribe(),
            filter,
            subscriber,
            connection,
            _slot: slot,
            done: false,
        };
        Ok(stream::unfold(follow, |mut follow| async move {
            let next = follow.next().await?;
            Some((next, follow))
        }))
    }
}
