//! Connecting to the store: SQLite (a file, WAL) or PostgreSQL with PostGIS, and the
//! other things about a connection that differ between the two (pool sizes and their
//! metrics, planner statistics, the version line, raw SQL's placeholders, and how a
//! replica hears of another's commits: `commits`). What differs in searching and in the
//! spatial index is `spatial`'s. This is the lowest floor: it imports nothing of the
//! application; the application's state (the store, the search engine, the change
//! follower) is `state::AppState`, built once in `App::build`.
//!
//! SQLite allows one writer at a time, so on SQLite writes go through a one-connection
//! pool and reads through a pool of their own; on PostgreSQL both are the same pool.

pub mod commits;

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
    /// Where the database is (to open connections of its own, such as the listener's).
    pub url: DatabaseUrl,
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

/// A database URL. Its password never reaches a log: `Debug` and `Display` show it
/// redacted, and only [`DatabaseUrl::expose`] gives the URL to connect with.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL itself, password included: for connecting, never for logging.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s))
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({:?})", redact(&self.0))
    }
}

/// The URL with any password replaced (in the authority or as a `password` query
/// parameter), for logs. Text that does not parse as a URL is not shown at all.
pub fn redact(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "<unparsable database URL>".to_owned();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("REDACTED"));
    }
    if parsed
        .query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("password"))
    {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("password") {
                    "REDACTED".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

const WRITER_CACHE_KIB: u32 = 8_192;
const READER_CACHE_KIB: u32 = 2_048;

/// Pool options for `url`: timeouts, and SQLite's pragmas (WAL, full sync, foreign
/// keys, a busy timeout, and `cache_kib` of page cache per connection).
fn options(url: &str, max: u32, cache_kib: u32) -> ConnectOptions {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .create_if_missing(true)
                .pragma("cache_size", format!("-{cache_kib}"))
        });
    opts
}

pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> anyhow::Result<Db> {
    let redacted = url.to_string();
    let text = url.expose();
    let backend = if text.starts_with("sqlite:") {
        Backend::Sqlite
    } else if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        Backend::Postgres
    } else {
        anyhow::bail!("unsupported database URL {redacted}: use sqlite:// or postgres://");
    };
    let queries = std::sync::Arc::default();
    let (read, write) = match backend {
        Backend::Sqlite => {
            let (mut read, mut write) = connect_sqlite(text, max_connections)
                .await
                .with_context(|| format!("opening {redacted}"))?;
            count_queries(&mut read, &queries);
            count_queries(&mut write, &queries);
            (read, write)
        }
        Backend::Postgres => {
            let mut pool_options = options(text, max_connections, READER_CACHE_KIB);
            // searches bind their point and radius; a generic plan cannot fold them
            // into the index conditions and ran twice as slow as a planned one
            pool_options
                .map_sqlx_postgres_opts(|o| o.options([("plan_cache_mode", "force_custom_plan")]));
            pool_options.map_sqlx_postgres_pool_opts(|pool| {
                pool.after_release(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
            });
            let mut pool = Database::connect(pool_options)
                .await
                .with_context(|| format!("connecting to {redacted}"))?;
            count_queries(&mut pool, &queries);
            (pool.clone(), pool)
        }
    };
    Ok(Db {
        read,
        write,
        backend,
        queries,
        url: url.clone(),
    })
}

/// SQLite's (read, write) pools: one writer connection, which is never reused inside a
/// transaction, and readers sized to the cores.
async fn connect_sqlite(
    url: &str,
    max_connections: u32,
) -> Result<(DatabaseConnection, DatabaseConnection), sea_orm::DbErr> {
    // the writer's page cache holds the indexes an import appends to; readers find
    // their candidates in memory and read only a page of rows each
    let mut write_options = options(url, 1, WRITER_CACHE_KIB);
    write_options.map_sqlx_sqlite_pool_opts(|pool| {
        pool.after_release(|conn, _| Box::pin(sqlite_writer_is_clean(conn)))
    });
    let write = Database::connect(write_options).await?;
    // SQLite reads are CPU work in this process: more connections than twice the cores
    // only add cold page caches
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let readers = max_connections.clamp(
        2,
        u32::try_from(cores.saturating_mul(2)).unwrap_or(u32::MAX),
    );
    let read = Database::connect(options(url, readers, READER_CACHE_KIB)).await?;
    Ok((read, write))
}

/// Whether the SQLite writer connection may be reused: it must be outside any
/// transaction, both by sqlx's count and by SQLite's own state. After a failed write
/// (a full disk, say) the rollback can fail too and leave a transaction open; every
/// later "commit" on that connection would then only release a savepoint inside it and
/// nothing would ever reach the disk. Such a connection is closed (SQLite rolls back on
/// close) and the pool opens a fresh one.
async fn sqlite_writer_is_clean(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    // a transaction dropped without commit (a write refused with CONFLICT, say) queues
    // its rollback on the connection's worker, which runs it in turn: wait for that
    // before judging, or every refused write would cost a fresh connection
    conn.ping().await?;
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

/// Inserts rows a statement at a time for each `per_statement` of them (each statement
/// binds every column of its rows, and the backends bound how many values one may bind).
pub async fn insert_all<A>(
    conn: &impl ConnectionTrait,
    rows: &[A],
    per_statement: usize,
) -> Result<(), sea_orm::DbErr>
where
    A: sea_orm::ActiveModelTrait + Clone + Send,
{
    for chunk in rows.chunks(per_statement.max(1)) {
        <A::Entity as sea_orm::EntityTrait>::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// A raw statement written with `?` placeholders, numbered `$1`, `$2`, … for
/// PostgreSQL. The SQL text must hold no other `?`.
pub fn statement<I>(backend: DbBackend, sql: &str, values: I) -> sea_orm::Statement
where
    I: IntoIterator<Item = sea_orm::Value>,
{
    let sql = if backend == DbBackend::Postgres {
        let mut numbered = String::with_capacity(sql.len() + 8);
        for (n, part) in sql.split('?').enumerate() {
            if n > 0 {
                numbered.push('$');
                numbered.push_str(&n.to_string());
            }
            numbered.push_str(part);
        }
        numbered
    } else {
        sql.to_owned()
    };
    sea_orm::Statement::from_sql_and_values(backend, sql, values)
}

/// A pool's connections: (pool, open, idle).
pub type PoolState = (&'static str, u32, usize);

impl Db {
    /// The connection pools' state, for `/metrics`: the read and the write pool (on
    /// PostgreSQL one pool serves both).
    pub fn pool_state(&self) -> [PoolState; 2] {
        match self.backend {
            Backend::Sqlite => {
                let (read, write) = (
                    self.read.get_sqlite_connection_pool(),
                    self.write.get_sqlite_connection_pool(),
                );
                [
                    ("read", read.size(), read.num_idle()),
                    ("write", write.size(), write.num_idle()),
                ]
            }
            Backend::Postgres => {
                let pool = self.read.get_postgres_connection_pool();
                [
                    ("read", pool.size(), pool.num_idle()),
                    ("write", pool.size(), pool.num_idle()),
                ]
            }
        }
    }

    /// After a bulk load: lets the query planner see the tables' new statistics. A
    /// failure is logged, not returned: the data is in; only planning may suffer.
    pub async fn refresh_statistics(&self) {
        let sql = match self.backend {
            Backend::Sqlite => "PRAGMA optimize",
            // VACUUM too: it sets the rows' visibility hints once, which the first
            // searches after a bulk load would otherwise each write back
            Backend::Postgres => "VACUUM (ANALYZE) assets, asset_categories",
        };
        if let Err(e) = self.write.execute_unprepared(sql).await {
            tracing::warn!(error = %e, "refreshing planner statistics after the import failed");
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_only() {
        let sql = "SELECT a FROM t WHERE a > ? AND b = ? LIMIT ?";
        let pg = statement(DbBackend::Postgres, sql, [1.into(), 2.into(), 3.into()]);
        assert_eq!(pg.sql, "SELECT a FROM t WHERE a > $1 AND b = $2 LIMIT $3");
        let lite = statement(DbBackend::Sqlite, sql, [1.into(), 2.into(), 3.into()]);
        assert_eq!(lite.sql, sql);
        assert_eq!(lite.values.map(|v| v.0.len()), Some(3));
    }

    #[test]
    fn passwords_never_show() {
        for url in [
            "postgres://app:S3cret@db.internal:5432/assets",
            "postgres://app@db.internal/assets?sslmode=require&password=S3cret",
            "not a url S3cret",
        ] {
            let url = DatabaseUrl::new(url);
            assert!(!format!("{url} {url:?}").contains("S3cret"), "{url}");
        }
        assert_eq!(
            DatabaseUrl::new("sqlite://assetmap.db?mode=rwc").to_string(),
            "sqlite://assetmap.db?mode=rwc"
        );
    }
}
