//! One builder makes the app, for production and tests alike: connect, migrate, load
//! the demo map if asked, build the schema and router, bind.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use tokio::net::TcpListener;
use tokio_util::sync::DropGuard;

use crate::db::{self, DatabaseUrl, Db};
use crate::error::During;
use crate::http::{self, HttpConfig};
use crate::service::changes::hub::{Follower, Hub};
use crate::spatial::Engine;
use crate::state::AppState;
use crate::tasks::Tasks;
use crate::{graphql, service};

/// What `App::build` needs. Its `Debug` shows the database URL without a password.
#[derive(Clone, Debug)]
pub struct AppConfig {
    pub database_url: DatabaseUrl,
    pub db_max_connections: u32,
    pub bind: SocketAddr,
    pub demo_data: bool,
    /// Whether clients may ask for the schema (GraphiQL needs it).
    pub introspection: bool,
    /// Days a shortlist stays open.
    pub shortlist_days: u32,
    /// Days the change log keeps deletions and superseded changes.
    pub change_retention_days: u32,
    /// Changes a subscription may fall behind before it is closed.
    pub subscriber_buffer: usize,
    /// Bytes of changes that may wait for the slowest subscription.
    pub subscriber_buffer_bytes: usize,
    pub http: HttpConfig,
}

impl AppConfig {
    /// The server's defaults (`config::defaults`, the command line's too) for this
    /// database, listening on a free port of 127.0.0.1.
    pub fn new(database_url: DatabaseUrl) -> Self {
        use crate::config::defaults;
        Self {
            database_url,
            db_max_connections: defaults::DB_MAX_CONNECTIONS,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            demo_data: false,
            introspection: true,
            shortlist_days: defaults::SHORTLIST_DAYS,
            change_retention_days: defaults::CHANGE_RETENTION_DAYS,
            subscriber_buffer: defaults::SUBSCRIBER_BUFFER,
            subscriber_buffer_bytes: defaults::SUBSCRIBER_BUFFER_MB * 1024 * 1024,
            http: HttpConfig::default(),
        }
    }
}

pub struct App {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
    timeouts: http::ConnectionTimeouts,
    tasks: Tasks,
    /// Stops the background tasks if the app is dropped without shutting down.
    _stop_tasks: DropGuard,
}

/// Connects and brings the schema up to date (and what a migration asked to be
/// computed from the data, such as SQLite's search records).
pub async fn connect_and_migrate(url: &DatabaseUrl, max_connections: u32) -> anyhow::Result<Db> {
    let db = db::connect(url, max_connections).await?;
    Migrator::up(&db.write, None)
        .await
        .context("running migrations")?;
    service::asset_version::rebuild_search_records(&db)
        .await
        .during("rebuilding the search records")?;
    service::asset_version::check_websites(&db)
        .await
        .during("checking stored websites")?;
    Ok(db)
}

/// Prunes the change log every hour (and at start), keeping `days` of deletions.
fn prune_changes(db: &Db, tasks: &Tasks, days: u32) {
    let db = db.clone();
    let retention = chrono::Duration::days(i64::from(days));
    tasks.spawn("change log pruning", move |stop| async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_hours(1));
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            match service::changes::prune(&db, service::now(), retention).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(changes.pruned = n, "pruned the change log"),
                Err(e) => tracing::warn!(error = ?e, "pruning the change log failed"),
            }
        }
    });
}

impl App {
    // long on purpose: the start-up steps, in the order they must run, read top to bottom
    pub async fn build(config: &AppConfig) -> anyhow::Result<Self> {
        let db = connect_and_migrate(&config.database_url, config.db_max_connections).await?;
        tracing::info!(
            db.backend = db.backend.as_str(),
            db.url = %config.database_url,
            db.version = %db.describe().await.unwrap_or_else(|e| format!("unknown ({e})")),
            "database ready"
        );
        if config.demo_data {
            match service::demo::load_if_empty(&db).await {
                Ok(Some(reports)) => {
                    for (file, report) in reports {
                        tracing::info!(
                            demo.file = file,
                            import.imported = report.imported,
                            import.rejected = report.rejected.len(),
                            "demo data loaded"
                        );
                        if let Some(first) = report.rejected.first() {
                            tracing::warn!(
                                demo.file = file,
                                import.rejected = report.rejected.len(),
                                feature.index = first.index,
                                reason = %first.reason,
                                "some demo features were skipped; the first"
                            );
                        }
                    }
                }
                Ok(None) => tracing::debug!("demo data not needed"),
                Err(e) => return Err(anyhow::Error::from(e).context("loading demo data")),
            }
        }
        let tasks = Tasks::default();
        let started = std::time::Instant::now();
        let head = service::changes::state(&db.read)
            .await
            .during("reading the change log")?
            .last_position;
        let search = Engine::new(db.backend, &tasks);
        search.load(&db).await.during("building the search index")?;
        let changes = Arc::new(Hub::new(
            config.subscriber_buffer,
            config.subscriber_buffer_bytes,
        ));
        // the follower hands each round of changed assets to the search engine first
        let follower: Follower = {
            let (search, db) = (search.clone(), db.clone());
            Arc::new(move |ids| {
                let (search, db) = (search.clone(), db.clone());
                Box::pin(async move { search.follow(&db, &ids).await })
            })
        };
        changes
            .start(&db, &tasks, head, follower)
            .await
            .during("following the change log")?;
        let state = AppState {
            db,
            search,
            changes,
        };
        tracing::info!(
            startup.ms = started.elapsed().as_millis(),
            "search state ready"
        );
        prune_changes(&state.db, &tasks, config.change_retention_days);
        let schema = graphql::schema(state.clone(), config.introspection, config.shortlist_days);
        let router = http::router(
            schema,
            state.clone(),
            &config.http,
            &tasks,
            config.introspection,
        );
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("binding {}", config.bind))?;
        Ok(Self {
            listener,
            router,
            state,
            timeouts: http::ConnectionTimeouts {
                header_read: config.http.header_read_timeout,
                write_stall: config.http.write_stall_timeout,
            },
            _stop_tasks: tasks.guard(),
            tasks,
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// The application's state, as the surfaces see it.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and stops
    /// the background tasks.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let served = http::serve(self.listener, self.router, self.timeouts, shutdown)
            .await
            .context("serving");
        self.tasks.shutdown().await;
        served
    }
}
