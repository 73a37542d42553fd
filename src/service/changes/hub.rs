//! Live changes on this replica: a follower reads new entries from the change log and
//! fans them out to the subscriptions here, each entry once, in order.
//!
//! Each new entry also reaches this replica's search state (SQLite's in-memory index),
//! subscribers or not.
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
use tokio::sync::{Mutex, Notify, broadcast};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

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

/// The follower's state and the subscribers' channel.
#[derive(Debug)]
pub struct Hub {
    position: Mutex<Position>,
    events: broadcast::Sender<Arc<Event>>,
    poke: Notify,
    started: AtomicBool,
}

/// Entries read per round.
const BATCH: u64 = 500;
/// How many events a subscription may fall behind by default.
pub const DEFAULT_BUFFER: usize = 1024;

impl Hub {
    /// A hub whose subscribers may fall `buffer` events behind before they are cut off.
    pub fn new(buffer: usize) -> Self {
        Self {
            position: Mutex::new(Position::default()),
            events: broadcast::channel(buffer.max(1)).0,
            poke: Notify::new(),
            started: AtomicBool::new(false),
        }
    }

    /// Events from now on; a receiver that falls too far behind gets `Lagged`.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.subscribe()
    }

    /// How many subscriptions listen on this replica.
    pub fn subscribers(&self) -> usize {
        self.events.receiver_count()
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
            crate::spatial::follow(db, &ids).await?;
            if self.events.receiver_count() > 0 {
                let now = current(&db.read, &ids).await?;
                let revoked = Arc::new(revoked_tokens(db).await?);
                for entry in batch {
                    let now = now.get(&entry.asset_id).cloned();
                    let event = Event {
                        entry,
                        now,
                        revoked: revoked.clone(),
                    };
                    // no receivers left is not an error: nobody is listening
                    let _ = self.events.send(Arc::new(event));
                }
            }
            *position = Position(last);
            if !full {
                return Ok(());
            }
        }
    }

    /// Starts following the log after `position` (read before this replica's search
    /// state was loaded, so nothing committed since is missed), in `tasks`.
    pub async fn start(self: &Arc<Self>, db: &Db, tasks: &Tasks, position: i64) -> AppResult<()> {
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
