//! Live changes on this replica: a follower reads new entries from the change log and
//! fans them out to the subscriptions here, each entry once, in order.
//!
//! Each new entry also reaches this replica's search state (SQLite's in-memory index),
//! subscribers or not: the hub is given that follower when it starts (`App::build` hands
//! it the search engine's), so it needs to know nothing of searching.
//!
//! The log is the source of truth; a signal only says "look now". This server's own
//! commits poke the follower at once; commits by other replicas or processes reach it
//! through [`crate::db::commits`] (LISTEN/NOTIFY on PostgreSQL, `PRAGMA data_version` on
//! SQLite), and it reads the log from its last position on every signal and every
//! [`Watch::every`](crate::db::commits::Watch) besides.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use entity::api_token;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::fanout::Fanout;
use super::read::{Current, Position, current, entries};
use crate::db::{Db, commits};
use crate::error::AppResult;
use crate::tasks::Tasks;

/// One new entry, with the asset as the public sees it now (if it does).
#[derive(Debug)]
pub struct Event {
    pub entry: entity::asset_change::Model,
    pub now: Option<Current>,
    /// Ids of API tokens revoked as of this event: a subscription holding one ends.
    pub revoked: Arc<HashSet<Uuid>>,
}

impl Event {
    /// About how many bytes the event holds: the asset's stored text, and the rest.
    pub fn bytes(&self) -> usize {
        const FIXED: usize = 512;
        let text = |t: &Option<String>| t.as_ref().map_or(0, String::len);
        FIXED
            + self.now.as_ref().map_or(0, |c| {
                let a = &c.asset;
                a.geometry.len()
                    + a.name.len()
                    + a.search_text.len()
                    + text(&a.description)
                    + text(&a.address)
                    + text(&a.website)
                    + text(&a.opening_hours)
                    + text(&a.cost_note)
                    + c.seen.categories.iter().map(String::len).sum::<usize>()
            })
    }
}

/// One subscription's reading side.
pub type Receiver = super::fanout::Receiver<Event>;

/// What else must hear of the assets each round of new entries names, before the
/// subscriptions do (this replica's search state).
pub type Follower = Arc<
    dyn Fn(Vec<Uuid>) -> std::pin::Pin<Box<dyn Future<Output = AppResult<()>> + Send>>
        + Send
        + Sync,
>;

/// The follower's state and the subscribers' queue.
pub struct Hub {
    position: Mutex<Position>,
    events: Arc<Fanout<Event>>,
    poke: Notify,
    started: AtomicBool,
    follower: std::sync::OnceLock<Follower>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (events, bytes) = self.events.waiting();
        f.debug_struct("Hub")
            .field("subscriptions", &self.subscribers())
            .field("waiting_events", &events)
            .field("waiting_bytes", &bytes)
            .finish_non_exhaustive()
    }
}

/// Entries read per round.
const BATCH: u64 = 500;
/// How many events a subscription may fall behind by default.
pub const DEFAULT_BUFFER: usize = 1024;
/// How many bytes of events may wait for the slowest subscription by default.
pub const DEFAULT_BUFFER_BYTES: usize = 16 * 1024 * 1024;

impl Hub {
    /// A hub whose subscribers may fall `buffer` events, or `bytes` of them, behind
    /// before they are cut off.
    pub fn new(buffer: usize, bytes: usize) -> Self {
        Self {
            position: Mutex::new(Position::default()),
            events: Fanout::new(buffer, bytes),
            poke: Notify::new(),
            started: AtomicBool::new(false),
            follower: std::sync::OnceLock::new(),
        }
    }

    /// Events from now on; a receiver that falls too far behind gets `Lagged`.
    pub fn subscribe(&self) -> Receiver {
        self.events.subscribe()
    }

    /// How many subscriptions listen on this replica.
    pub fn subscribers(&self) -> usize {
        self.events.subscriptions()
    }

    /// Events, and their bytes, waiting for the slowest subscription.
    pub fn waiting(&self) -> (usize, usize) {
        self.events.waiting()
    }

    /// After a commit that may have appended: catch up before returning, so this
    /// server's own subscribers hear of its writes at once.
    pub async fn committed(&self, db: &Db) {
        if self.started.load(Ordering::Acquire) {
            if let Err(e) = self.catch_up(db).await {
                tracing::warn!(error = ?e, "reading the change log after a commit failed");
            }
        } else {
            self.poke.notify_one();
        }
    }

    /// Reads every entry after the last one read and sends each to the subscribers.
    pub async fn catch_up(&self, db: &Db) -> AppResult<()> {
        let mut position = self.position.lock().await;
        loop {
            let batch = entries(&db.read, *position, BATCH).await?;
            let full = batch.len() as u64 == BATCH;
            let Some(last) = batch.last().map(|e| e.position) else {
                return Ok(());
            };
            let ids: Vec<Uuid> = batch.iter().map(|e| e.asset_id).collect();
            if let Some(follower) = self.follower.get() {
                follower(ids.clone()).await?;
            }
            if self.events.subscriptions() > 0 {
                let now = current(&db.read, &ids).await?;
                let revoked = Arc::new(revoked_tokens(db).await?);
                for entry in batch {
                    let now = now.get(&entry.asset_id).cloned();
                    let event = Event {
                        entry,
                        now,
                        revoked: revoked.clone(),
                    };
                    let bytes = event.bytes();
                    self.events.send(Arc::new(event), bytes);
                }
            }
            *position = Position(last);
            if !full {
                return Ok(());
            }
        }
    }

    /// Starts following the log after `position` (read before this replica's search
    /// state was loaded, so nothing committed since is missed), in `tasks`, telling
    /// `follower` of each round's assets first.
    pub async fn start(
        self: &Arc<Self>,
        db: &Db,
        tasks: &Tasks,
        position: i64,
        follower: Follower,
    ) -> AppResult<()> {
        let _ = self.follower.set(follower);
        *self.position.lock().await = Position(position);
        self.started.store(true, Ordering::Release);
        let watch = commits::watch(db, tasks, super::CHANNEL);
        let (hub, db) = (self.clone(), db.clone());
        tasks.spawn("change follower", move |stop| follow(hub, db, watch, stop));
        Ok(())
    }
}

async fn revoked_tokens(db: &Db) -> AppResult<HashSet<Uuid>> {
    Ok(api_token::Entity::find()
        .select_only()
        .column(api_token::Column::Id)
        .filter(api_token::Column::RevokedAt.is_not_null())
        .into_tuple::<Uuid>()
        .all(&db.read)
        .await?
        .into_iter()
        .collect())
}

/// Catches up whenever signalled (or poked by a local commit), and every `watch.every`
/// in case a signal was lost.
async fn follow(hub: Arc<Hub>, db: Db, watch: commits::Watch, stop: CancellationToken) {
    let mut tick = tokio::time::interval(watch.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = watch.signal.notified() => {}
            () = hub.poke.notified() => {}
            _ = tick.tick() => {}
        }
        if let Err(e) = hub.catch_up(&db).await {
            tracing::warn!(error = ?e, "reading the change log failed; trying again shortly");
        }
    }
}
