//! Live changes on this replica: a follower reads new entries from the change log and
//! fans them out to the subscriptions here, each entry once, in order.
//!
//! Each new entry also reaches this replica's search state (SQLite's in-memory index),
//! subscribers or not.
//!
//! The log is the source of truth; a signal only says "look now". On PostgreSQL each
//! replica LISTENs on one dedicated connection; a notification may be coalesced or lost
//! with the connection, so after every (re)connect, and every second besides, the
//! follower reads the log from its last position. On SQLite this server's own commits
//! poke it at once, and `PRAGMA data_version` on a dedicated connection shows commits by
//! other processes on the same file (`assetmap import`) within a quarter of a second.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use entity::api_token;
use sea_orm::sqlx::{self, Connection as _};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use tokio::sync::{Mutex, Notify, broadcast};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::read::{Current, Position, current, entries};
use crate::db::{Backend, Db};
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
        let (hub, db2) = (self.clone(), db.clone());
        match db.backend {
            Backend::Postgres => {
                let signal = Arc::new(Notify::new());
                let listener_signal = signal.clone();
                let url = db.url.expose().to_owned();
                tasks.spawn("change listener", move |stop| {
                    listen(url, listener_signal, stop)
                });
                tasks.spawn("change follower", move |stop| {
                    follow(hub, db2, signal, Duration::from_secs(1), stop)
                });
            }
            Backend::Sqlite => {
                let signal = Arc::new(Notify::new());
                let watcher_signal = signal.clone();
                let url = db.url.expose().to_owned();
                tasks.spawn("data version watcher", move |stop| {
                    watch_data_version(url, watcher_signal, stop)
                });
                tasks.spawn("change follower", move |stop| {
                    follow(hub, db2, signal, Duration::from_secs(5), stop)
                });
            }
        }
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

/// Catches up whenever signalled (or poked by a local commit), and every `every` in
/// case a signal was lost.
async fn follow(
    hub: Arc<Hub>,
    db: Db,
    signal: Arc<Notify>,
    every: Duration,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = signal.notified() => {}
            () = hub.poke.notified() => {}
            _ = tick.tick() => {}
        }
        if let Err(e) = hub.catch_up(&db).await {
            tracing::warn!(error = ?e, "reading the change log failed; trying again shortly");
        }
    }
}

/// LISTENs on one dedicated connection; signals after every (re)connect and every
/// notification. A dropped connection is opened again, with growing pauses.
async fn listen(url: String, signal: Arc<Notify>, stop: CancellationToken) {
    // named for this process, so an operator (or a test) can find this replica's listener
    let name = format!("assetmap-listener-{}", std::process::id());
    let url = with_application_name(&url, &name);
    let mut pause = Duration::from_millis(100);
    loop {
        let connected = async {
            let mut listener = sqlx::postgres::PgListener::connect(&url).await?;
            listener.eager_reconnect(false);
            listener.listen(super::CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = tokio::select! {
            () = stop.cancelled() => return,
            connected = connected => match connected {
                Ok(listener) => listener,
                Err(e) => {
                    tracing::warn!(error = %e, "listening for changes failed; trying again");
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(pause) => {}
                    }
                    pause = (pause * 2).min(Duration::from_secs(5));
                    continue;
                }
            },
        };
        pause = Duration::from_millis(100);
        tracing::debug!("listening for changes");
        // anything committed while not listening is in the log: read it now
        signal.notify_one();
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                received = listener.try_recv() => match received {
                    Ok(Some(_)) => signal.notify_one(),
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "the change listener's connection failed");
                        break;
                    }
                },
            }
        }
    }
}

/// The URL with `application_name` set, so the connection shows in `pg_stat_activity`.
fn with_application_name(url: &str, name: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .filter(|(k, _)| k != "application_name")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            parsed
                .query_pairs_mut()
                .clear()
                .extend_pairs(pairs)
                .append_pair("application_name", name);
            parsed.to_string()
        }
        Err(_) => url.to_owned(),
    }
}

/// Signals when another connection (this server's writer, or another process) commits
/// to the SQLite file, by polling `PRAGMA data_version` on a connection of its own.
async fn watch_data_version(url: String, signal: Arc<Notify>, stop: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut conn: Option<sqlx::SqliteConnection> = None;
    let mut seen: Option<i64> = None;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        if conn.is_none() {
            match sqlx::SqliteConnection::connect(&url).await {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "watching the database for other writers failed");
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        match sqlx::query_scalar::<_, i64>("PRAGMA data_version")
            .fetch_one(&mut *c)
            .await
        {
            Ok(version) => {
                if seen.is_some_and(|s| s != version) {
                    signal.notify_one();
                }
                seen = Some(version);
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the database's data version failed");
                conn = None;
            }
        }
    }
}
