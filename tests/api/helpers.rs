//! Spawning the real app on a fresh database, and talking GraphQL to it.

use std::time::Duration;

use assetmap::app::{App, AppConfig};
use assetmap::db::Db;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tempfile::TempDir;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How long one scenario may take before it counts as hung and fails: far past any
/// scenario's time on a loaded machine, so it only ever catches a hang.
pub const SCENARIO_TIMEOUT: Duration = Duration::from_mins(5);

/// Runs each named `async fn(Backend)` as two tests, `NAME::sqlite` and `NAME::postgres`,
/// each failing if it has not finished within [`SCENARIO_TIMEOUT`].
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => { $(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                tokio::time::timeout(
                    $crate::helpers::SCENARIO_TIMEOUT,
                    super::$name($crate::helpers::Backend::Sqlite),
                )
                .await
                .expect("the scenario finishes (a hang fails here)")
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                tokio::time::timeout(
                    $crate::helpers::SCENARIO_TIMEOUT,
                    super::$name($crate::helpers::Backend::Postgres),
                )
                .await
                .expect("the scenario finishes (a hang fails here)")
            }
        }
    )* };
}

/// A fresh, empty database: a new SQLite file, or a new PostgreSQL database created for
/// this test alone (named with `ASSETMAP_TEST_DB_PREFIX`, copied from
/// `ASSETMAP_TEST_PG_TEMPLATE` when set) on the server at `ASSETMAP_TEST_PG_URL`.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<TempDir>,
    /// (server URL, database name) of a PostgreSQL database to drop afterwards.
    drop_on_exit: Option<(String, String)>,
}

impl Drop for TestDatabase {
    /// A PostgreSQL test database is dropped when its test is done (on a thread of its
    /// own: Drop cannot await), so plain `cargo test` leaves nothing behind either.
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.drop_on_exit.take() else {
            return;
        };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let admin = Database::connect(&admin_url).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await?;
                admin.close().await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop a test database: {e}");
        }
    }
}

impl TestDatabase {
    /// A database another `TestDatabase` owns, to open it a second time.
    pub fn existing(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            _dir: None,
            drop_on_exit: None,
        }
    }
}

pub async fn fresh_database(backend: Backend) -> TestDatabase {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("assetmap.db").display()
            );
            TestDatabase {
                url,
                _dir: Some(dir),
                drop_on_exit: None,
            }
        }
        Backend::Postgres => {
            let admin_url = std::env::var("ASSETMAP_TEST_PG_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
            let prefix = std::env::var("ASSETMAP_TEST_DB_PREFIX")
                .unwrap_or_else(|_| "assetmap_test".to_owned());
            let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
            let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL tests need a server at {admin_url} (set ASSETMAP_TEST_PG_URL); \
                     scripts/test starts one: {e}"
                )
            });
            let template = std::env::var("ASSETMAP_TEST_PG_TEMPLATE")
                .map(|t| format!(" TEMPLATE \"{t}\""))
                .unwrap_or_default();
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\"{template}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let base = admin_url
                .rsplit_once('/')
                .map(|(base, _)| base.to_owned())
                .expect("database URL with a path");
            TestDatabase {
                url: format!("{base}/{name}"),
                _dir: None,
                drop_on_exit: Some((admin_url, name)),
            }
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub db: Db,
    /// The app's state: its search engine and change follower beside the store.
    pub state: assetmap::state::AppState,
    pub database: TestDatabase,
    pub backend: Backend,
    /// An admin's API token, sent by `gql`, `data` and `error`; `*_as` send another
    /// (or none).
    pub admin_token: String,
    client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, fresh_database(backend).await, false).await
    }

    pub async fn spawn_with(backend: Backend, database: TestDatabase, demo_data: bool) -> Self {
        Self::spawn_configured(backend, database, |config| config.demo_data = demo_data).await
    }

    /// Spawns with the test defaults changed by `configure`.
    pub async fn spawn_configured(
        backend: Backend,
        database: TestDatabase,
        configure: impl FnOnce(&mut AppConfig),
    ) -> Self {
        let mut config = AppConfig::new(database.url.parse().expect("a database URL"));
        config.db_max_connections = 4;
        // tests send bursts from one address; the limiter has tests of its own
        config.http.rate_limit_per_second = 0;
        configure(&mut config);
        let app = App::build(&config).await.expect("app builds");
        let addr = app.local_addr().expect("bound");
        let db = app.db().clone();
        let state = app.state().clone();
        let admin_token =
            assetmap::service::tokens::create(&db, "test admin", assetmap::auth::Role::Admin, &[])
                .await
                .expect("admin token")
                .secret;
        let server = tokio::spawn(async move {
            app.run_until(std::future::pending())
                .await
                .expect("server runs");
        });
        Self {
            base: format!("http://{addr}"),
            db,
            state,
            database,
            backend,
            admin_token,
            client: reqwest::Client::builder()
                .timeout(Duration::from_mins(1))
                .build()
                .expect("client"),
            server,
        }
    }

    /// Stops the server and hands back the database, to open it again.
    pub fn stop(mut self) -> TestDatabase {
        self.server.abort();
        std::mem::replace(&mut self.database, TestDatabase::existing(""))
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Issues an API token (straight into the database, as `assetmap token create`
    /// does) and returns its secret.
    pub async fn token(&self, role: assetmap::auth::Role, organizations: &[uuid::Uuid]) -> String {
        assetmap::service::tokens::create(&self.db, &format!("test {role:?}"), role, organizations)
            .await
            .expect("token")
            .secret
    }

    /// The whole GraphQL response, sent with the admin token.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.gql_as(Some(&self.admin_token), query, variables).await
    }

    /// The whole GraphQL response, sent with this token, or anonymously.
    pub async fn gql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        response.json().await.expect("a JSON response")
    }

    /// `data` as this caller, failing the test if there were errors.
    pub async fn data_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let response = self.gql_as(token, query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "[{:?}] expected no errors, got {response:#}",
            self.backend
        );
        response["data"].clone()
    }

    /// The first error as this caller, failing the test if there was none.
    pub async fn error_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let response = self.gql_as(token, query, variables).await;
        let error = response["errors"][0].clone();
        assert!(
            error.is_object(),
            "[{:?}] expected an error, got {response:#}",
            self.backend
        );
        error
    }

    /// `data`, failing the test (with the whole response) if there were errors.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let response = self.gql(query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "[{:?}] expected no errors, got {response:#}",
            self.backend
        );
        response["data"].clone()
    }

    /// The first error's `extensions.code`, failing the test if there was no error.
    pub async fn error(&self, query: &str, variables: Value) -> Value {
        let response = self.gql(query, variables).await;
        let error = response["errors"][0].clone();
        assert!(
            error.is_object(),
            "[{:?}] expected an error, got {response:#}",
            self.backend
        );
        error
    }

    pub async fn create_asset(&self, input: Value) -> Value {
        let data = self
            .data(
                "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id version name } }",
                json!({"input": input}),
            )
            .await;
        data["createAsset"].clone()
    }

    pub async fn count_assets(&self) -> u64 {
        assetmap::service::assets::count_all(&self.db.read)
            .await
            .expect("count")
    }
}

pub fn point(lon: f64, lat: f64) -> Value {
    json!({"type": "Point", "coordinates": [lon, lat]})
}

/// A square polygon centred on (lon, lat), `half` degrees each way.
pub fn square(lon: f64, lat: f64, half: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[
        [lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
        [lon - half, lat + half], [lon - half, lat - half]
    ]]})
}

pub fn code(error: &Value) -> &str {
    error["extensions"]["code"].as_str().unwrap_or("<no code>")
}

/// The real binary serving on a free port, with its log piped; answers `/health` when
/// this returns.
pub async fn serve(
    database_url: &str,
    args: &[&str],
    rust_log: &str,
) -> (tokio::process::Child, String) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let bind = format!("127.0.0.1:{port}");
    let server = tokio::process::Command::new(env!("CARGO_BIN_EXE_assetmap"))
        .args(["--bind", &bind, "--demo-data", "false"])
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", rust_log)
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://{bind}");
    let client = reqwest::Client::new();
    tokio::time::timeout(std::time::Duration::from_mins(1), async {
        while client.get(format!("{base}/health")).send().await.is_err() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the server answers /health");
    (server, base)
}

/// SIGTERM (a graceful stop, which also flushes the log); the log.
pub async fn stop(server: tokio::process::Child) -> String {
    let pid = server.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        server.wait_with_output(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(output.status.success(), "a graceful stop exits 0");
    String::from_utf8_lossy(&output.stderr).into_owned()
}
