//! Connecting to the store: SQLite (a file, WAL) or PostgreSQL with PostGIS.
//!
//! SQLite allows one writer at a time, so on SQLite writes go through a one-connection
//! pool and reads through a pool of their own; on PostgreSQL both are the same pool.

use std::time::Duration;

use anyhow::Context;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::sqlx::{self, Connection as _};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};

/// The storage backend, chosen once at start-up from the database URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    pub fn db_backend(self) -> DbBackend {
        match self {
            Self::Sqlite => DbBackend::Sqlite,
            Self::Postgres => DbBackend::Postgres,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pub read: DatabaseConnection,
    pub write: DatabaseConnection,
    pub backend: Backend,
    /// Decoded geometries between searches (used on SQLite, where Rust measures).
    pub geometry_cache: std::sync::Arc<crate::spatial::GeometryCache>,
    /// Statements sent to the database by this process, for `/metrics` and for tests
    /// that hold a request to a fixed number of queries.
    pub queries: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Counts every statement and records its duration.
fn count_queries(
    conn: &mut DatabaseConnection,
    counter: &std::sync::Arc<std::sync::atomic::AtomicU64>,
) {
    let counter = counter.clone();
    conn.set_metric_callback(move |info| {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        metrics::counter!("assetmap_db_queries_total").increment(1);
        metrics::histogram!("assetmap_db_query_duration_seconds")
            .record(info.elapsed.as_secs_f64());
    });
}

/// The URL with any password replaced, for logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("REDACTED"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
    let backend = if url.starts_with("sqlite:") {
        Backend::Sqlite
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Backend::Postgres
    } else {
        anyhow::bail!(
            "unsupported database URL {}: use sqlite:// or postgres://",
            redact(url)
        );
    };
    let options = |max: u32| {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.max_connections(max)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .create_if_missing(true)
                    // 8 MiB of pages per connection (the default is 2 MiB)
                    .pragma("cache_size", "-8192")
            });
        opts
    };
    let redacted = redact(url);
    match backend {
        Backend::Sqlite => {
            let mut write_options = options(1);
            write_options.map_sqlx_sqlite_pool_opts(|pool| {
                pool.after_release(|conn, _| Box::pin(sqlite_writer_is_clean(conn)))
            });
            let mut write = Database::connect(write_options)
                .await
                .with_context(|| format!("opening {redacted}"))?;
            // SQLite reads are CPU work in this process: more connections than twice the
            // cores only add cold page caches
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            let readers = max_connections.clamp(2, u32::try_from(cores * 2).unwrap_or(4));
            let mut read = Database::connect(options(readers))
                .await
                .with_context(|| format!("opening {redacted}"))?;
            let queries = std::sync::Arc::default();
            count_queries(&mut write, &queries);
            count_queries(&mut read, &queries);
            Ok(Db {
                read,
                write,
                backend,
                queries,
                geometry_cache: std::sync::Arc::new(crate::spatial::GeometryCache::new(
                    crate::spatial::GeometryCache::MAX_VERTICES,
                )),
            })
        }
        Backend::Postgres => {
            let mut pool_options = options(max_connections);
            pool_options.map_sqlx_postgres_pool_opts(|pool| {
                pool.after_release(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
            });
            let mut pool = Database::connect(pool_options)
                .await
                .with_context(|| format!("connecting to {redacted}"))?;
            let queries = std::sync::Arc::default();
            count_queries(&mut pool, &queries);
            Ok(Db {
                read: pool.clone(),
                write: pool,
                backend,
                queries,
                geometry_cache: std::sync::Arc::new(crate::spatial::GeometryCache::new(0)),
            })
        }
    }
}

/// Whether the SQLite writer connection may be reused: it must be outside any
/// transaction, both by sqlx's count and by SQLite's own state. After a failed write
/// (a full disk, say) the rollback can fail too and leave a transaction open; every
/// later "commit" on that connection would then only release a savepoint inside it and
/// nothing would ever reach the disk. Such a connection is closed (SQLite rolls back on
/// close) and the pool opens a fresh one.
async fn sqlite_writer_is_clean(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    if conn.is_in_transaction() {
        tracing::warn!("closing a database connection left inside a transaction");
        return Ok(false);
    }
    // BEGIN succeeds only outside a transaction
    match sqlx::Executor::execute(&mut *conn, "BEGIN").await {
        Ok(_) => {
            sqlx::Executor::execute(&mut *conn, "ROLLBACK").await?;
            Ok(true)
        }
        Err(e) => {
            tracing::warn!(error = %e, "closing a database connection left inside a transaction");
            Ok(false)
        }
    }
}

impl Db {
    /// A one-line description of the store for the start-up log: SQLite's version, or
    /// PostgreSQL's and PostGIS's.
    pub async fn describe(&self) -> anyhow::Result<String> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT 'SQLite ' || sqlite_version() AS v",
            Backend::Postgres => {
                "SELECT current_setting('server_version') || ' with PostGIS ' || postgis_lib_version() AS v"
            }
        };
        let row = self
            .read
            .query_one_raw(sea_orm::Statement::from_string(
                self.backend.db_backend(),
                sql,
            ))
            .await?
            .context("no version row")?;
        Ok(row.try_get::<String>("", "v")?)
    }
}
