//! How one connection hears that another committed: what must reach every replica goes
//! through the database, and the two backends carry the signal differently.
//!
//! PostgreSQL: a writer `NOTIFY`s in its transaction (delivered at commit) and each
//! replica `LISTEN`s on one dedicated connection. SQLite: `PRAGMA data_version`, polled
//! on a connection of its own, changes when any other connection commits to the file
//! (this server's writer, or another process such as `assetmap import`).
//!
//! A signal only says "look now": it may be coalesced, or lost with a connection, so a
//! follower also looks every [`Watch::every`] and after every reconnect.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::{self, Connection as _};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{Backend, Db};
use crate::tasks::Tasks;

/// Tells every listening replica, when the caller's transaction commits, that something
/// was written on `channel` (a no-op on SQLite, whose watchers see every commit).
pub async fn announce(
    conn: &impl ConnectionTrait,
    channel: &str,
    payload: String,
) -> Result<(), sea_orm::DbErr> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [channel.into(), payload.into()],
        ))
        .await?;
    }
    Ok(())
}

/// A running watch: `signal` fires when another connection may have committed.
pub struct Watch {
    pub signal: Arc<Notify>,
    /// How often to look anyway, in case a signal was lost.
    pub every: Duration,
}

/// Starts watching for commits on `channel` in `tasks` (it stops with them).
pub fn watch(db: &Db, tasks: &Tasks, channel: &'static str) -> Watch {
    let signal = Arc::new(Notify::new());
    let (url, theirs) = (db.url.expose().to_owned(), signal.clone());
    let every = match db.backend {
        Backend::Postgres => {
            tasks.spawn("change listener", move |stop| {
                listen(url, channel, theirs, stop)
            });
            Duration::from_secs(1)
        }
        Backend::Sqlite => {
            tasks.spawn("data version watcher", move |stop| {
                watch_data_version(url, theirs, stop)
            });
            Duration::from_secs(5)
        }
    };
    Watch { signal, every }
}

/// LISTENs on one dedicated connection; signals after every (re)connect and every
/// notification. A dropped connection is opened again, with growing pauses.
async fn listen(url: String, channel: &str, signal: Arc<Notify>, stop: CancellationToken) {
    // named for this process, so an operator (or a test) can find this replica's listener
    let name = format!("assetmap-listener-{}", std::process::id());
    let url = with_application_name(&url, &name);
    let mut pause = Duration::from_millis(100);
    loop {
        let connected = async {
            let mut listener = sqlx::postgres::PgListener::connect(&url).await?;
            listener.eager_reconnect(false);
            listener.listen(channel).await?;
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
