//! The command line and its environment variables: one typed config, parsed once.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

/// Every server default, written once: the command line's defaults and the `Default`s
/// of the configs below the CLI (`HttpConfig`, `LiveConfig`, `AppConfig::new`) are these.
pub mod defaults {
    pub const DB_MAX_CONNECTIONS: u32 = 16;
    pub const RATE_LIMIT_PER_SECOND: u32 = 50;
    pub const RATE_LIMIT_BURST: u32 = 200;
    pub const REQUEST_TIMEOUT_SECS: u64 = 30;
    pub const HEADER_READ_TIMEOUT_SECS: u64 = 10;
    pub const WRITE_TIMEOUT_SECS: u64 = 30;
    pub const SHORTLIST_DAYS: u32 = 90;
    pub const CHANGE_RETENTION_DAYS: u32 = 7;
    pub const MAX_LIVE_CONNECTIONS: usize = 2_000;
    pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 20;
    pub const LIVE_INIT_TIMEOUT_SECS: u64 = 10;
    pub const LIVE_IDLE_TIMEOUT_SECS: u64 = 300;
    pub const LIVE_SEND_TIMEOUT_SECS: u64 = 5;
    pub const SUBSCRIBER_BUFFER: usize = 1_024;
    pub const SUBSCRIBER_BUFFER_MB: usize = 16;
    pub const MAX_BODY_BYTES: usize = 1024 * 1024;
    pub const TILE_CACHE_MB: u64 = 64;
    pub const MAX_HEAVY_REQUESTS: usize = 4;
    pub const DATA_LICENSE: &str =
        "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/";
}

/// A count parsed from the command line: a whole number from `min` to `max`, refused
/// at start with the flag's name otherwise.
fn count(min: u64, max: u64) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(min..=max)
}

#[derive(Debug, Parser)]
#[command(
    name = "assetmap",
    version,
    about = "A GraphQL API for mapping community assets"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `serve`'s options, accepted without the word `serve` too.
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// Log format: human-readable text or one JSON object per line.
    #[arg(long, env = "ASSETMAP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// `sqlite://FILE?mode=rwc` (the default, created if missing) or `postgres://...`
    /// (PostgreSQL with PostGIS).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://assetmap.db?mode=rwc",
        global = true
    )]
    pub database_url: crate::db::DatabaseUrl,
    /// Most database connections per pool.
    #[arg(
        long,
        env = "ASSETMAP_DB_MAX_CONNECTIONS",
        default_value_t = defaults::DB_MAX_CONNECTIONS,
        value_parser = clap::value_parser!(u32).range(1..=10_000),
        global = true
    )]
    pub db_max_connections: u32,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API (the default).
    Serve(ServeArgs),
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Import a GeoJSON FeatureCollection, a CSV file or an Open Referral UK feed, all
    /// or nothing.
    Import(ImportArgs),
    /// Write every active asset as a GeoJSON FeatureCollection.
    Export(ExportArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Issue, list and revoke API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Load the ONS Postcode Directory, for searches from a postcode.
    #[command(subcommand)]
    Postcodes(PostcodesCommand),
}

#[derive(Debug, Clone, Subcommand)]
pub enum PostcodesCommand {
    /// Load (or update) postcodes from an ONSPD CSV file (columns pcds, doterm, lat,
    /// long), skipping terminated postcodes and those without coordinates.
    Import(PostcodesImportArgs),
}

#[derive(Debug, Clone, Args)]
pub struct PostcodesImportArgs {
    /// The ONSPD CSV file (e.g. `Data/ONSPD_FEB_2026_UK.csv` from the download).
    pub file: PathBuf,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// What an import reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// A GeoJSON FeatureCollection.
    #[default]
    Geojson,
    /// A CSV file with a header: longitude and latitude columns, or a postcode column.
    Csv,
    /// An Open Referral UK feed: a JSON file, or the API's address.
    Oruk,
}

#[derive(Debug, Clone, Subcommand)]
pub enum TokenCommand {
    /// Issue a token and print its secret, once: it is stored only as a hash.
    Create(TokenCreateArgs),
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id; it stops working at once, on every replica.
    Revoke {
        /// The token's id, as `token list` shows it.
        id: uuid::Uuid,
    },
}

#[derive(Debug, Clone, Args)]
pub struct TokenCreateArgs {
    /// link_worker, editor, moderator or admin.
    #[arg(long)]
    pub role: String,
    /// For an editor: an organization id it acts for; repeat for several.
    #[arg(long = "org")]
    pub organizations: Vec<uuid::Uuid>,
    /// Who holds it, as history will show it (e.g. "Sam, Wigan Food Bank").
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "ASSETMAP_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Load the Greater Manchester demo map into an empty database (once).
    #[arg(long, env = "ASSETMAP_DEMO_DATA", default_value_t = true, action = ArgAction::Set)]
    pub demo_data: bool,
    /// Answer schema introspection (GraphiQL needs it); `false` for a locked-down API.
    #[arg(long, env = "ASSETMAP_INTROSPECTION", default_value_t = true, action = ArgAction::Set)]
    pub introspection: bool,
    /// Browser origins allowed to call the API (CORS), comma-separated; none by default.
    #[arg(long, env = "ASSETMAP_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Sustained GraphQL requests per second per client IP; 0 turns limiting off.
    #[arg(long, env = "ASSETMAP_RATE_LIMIT_PER_SECOND", default_value_t = defaults::RATE_LIMIT_PER_SECOND)]
    pub rate_limit_per_second: u32,
    /// Requests a client may send at once before the sustained rate applies.
    #[arg(long, env = "ASSETMAP_RATE_LIMIT_BURST", default_value_t = defaults::RATE_LIMIT_BURST,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate_limit_burst: u32,
    /// Seconds one request may take.
    #[arg(long, env = "ASSETMAP_REQUEST_TIMEOUT_SECS", default_value_t = defaults::REQUEST_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout_secs: u64,
    /// Seconds a client may take to send its request headers.
    #[arg(long, env = "ASSETMAP_HEADER_READ_TIMEOUT_SECS", default_value_t = defaults::HEADER_READ_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout_secs: u64,
    /// Seconds a response may wait for the client's socket to take any of it (a client
    /// that stops reading is cut off after this, and what was held for it freed).
    #[arg(long, env = "ASSETMAP_WRITE_TIMEOUT_SECS", default_value_t = defaults::WRITE_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub write_timeout_secs: u64,
    /// Also accept JWTs from the council's identity provider, checked with this key: a PEM
    /// public key (RS256, ES256) or a file holding the shared secret (HS256).
    #[arg(long, env = "ASSETMAP_JWT_KEY")]
    pub jwt_key: Option<std::path::PathBuf>,
    /// The JWT signing algorithm: RS256, ES256 or HS256.
    #[arg(long, env = "ASSETMAP_JWT_ALGORITHM", default_value = "RS256")]
    pub jwt_algorithm: String,
    /// Accept only JWTs with this `iss`.
    #[arg(long, env = "ASSETMAP_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Accept only JWTs with this `aud`.
    #[arg(long, env = "ASSETMAP_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Days a shortlist stays open after it is made (1 to 3650).
    #[arg(long, env = "ASSETMAP_SHORTLIST_DAYS", default_value_t = defaults::SHORTLIST_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub shortlist_days: u32,
    /// Days the change log keeps deletions (and changes a later one superseded) for sync
    /// clients and the RPDE feed; a client that stays away longer resyncs.
    #[arg(long, env = "ASSETMAP_CHANGE_RETENTION_DAYS", default_value_t = defaults::CHANGE_RETENTION_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub change_retention_days: u32,
    /// The address clients reach this service at (e.g. https://assets.example.gov.uk),
    /// for links such as the RPDE feed's `next`; default: each request's Host.
    #[arg(long, env = "ASSETMAP_PUBLIC_URL")]
    pub public_url: Option<url::Url>,
    /// The licence the published data is under (the RPDE feed's `license`).
    #[arg(
        long,
        env = "ASSETMAP_DATA_LICENSE",
        default_value = defaults::DATA_LICENSE
    )]
    pub data_license: String,
    /// Live (WebSocket) connections one replica holds at once.
    #[arg(long, env = "ASSETMAP_MAX_LIVE_CONNECTIONS", default_value_t = defaults::MAX_LIVE_CONNECTIONS,
          value_parser = count(1, 1_000_000))]
    pub max_live_connections: usize,
    /// Subscriptions one live connection holds at once.
    #[arg(
        long,
        env = "ASSETMAP_MAX_SUBSCRIPTIONS_PER_CONNECTION",
        default_value_t = defaults::MAX_SUBSCRIPTIONS_PER_CONNECTION,
        value_parser = count(1, 10_000)
    )]
    pub max_subscriptions_per_connection: usize,
    /// Seconds a live connection may stay open with no subscription and no message.
    #[arg(long, env = "ASSETMAP_LIVE_IDLE_TIMEOUT_SECS", default_value_t = defaults::LIVE_IDLE_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub live_idle_timeout_secs: u64,
    /// Changes a subscription may fall behind before it is closed (its buffer).
    #[arg(long, env = "ASSETMAP_SUBSCRIBER_BUFFER", default_value_t = defaults::SUBSCRIBER_BUFFER,
          value_parser = count(1, 1_000_000))]
    pub subscriber_buffer: usize,
    /// Megabytes of changes that may wait for the slowest subscription on this replica;
    /// past it the oldest go, and a subscription that had not read them is closed.
    #[arg(long, env = "ASSETMAP_SUBSCRIBER_BUFFER_MB", default_value_t = defaults::SUBSCRIBER_BUFFER_MB,
          value_parser = count(1, 4096))]
    pub subscriber_buffer_mb: usize,
    /// Seconds one message may wait for a live client's socket to take it; a client that
    /// stops reading is closed (4429) after this.
    #[arg(long, env = "ASSETMAP_LIVE_SEND_TIMEOUT_SECS", default_value_t = defaults::LIVE_SEND_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub live_send_timeout_secs: u64,
    /// The largest request body accepted, in bytes.
    #[arg(long, env = "ASSETMAP_MAX_BODY_BYTES", default_value_t = defaults::MAX_BODY_BYTES,
          value_parser = count(1024, 64 * 1024 * 1024))]
    pub max_body_bytes: usize,
    /// A MapLibre style (JSON) for the web map's basemap, e.g. the council's own; without
    /// one the map draws Greater Manchester's boroughs and wards, and loads nothing from
    /// anywhere else.
    #[arg(long, env = "ASSETMAP_BASEMAP_STYLE")]
    pub basemap_style: Option<url::Url>,
    /// Megabytes of rendered vector tiles kept in memory (one rendering per tile between
    /// two edits of the map); 0 turns the cache off.
    #[arg(long, env = "ASSETMAP_TILE_CACHE_MB", default_value_t = defaults::TILE_CACHE_MB,
          value_parser = clap::value_parser!(u64).range(0..=65_536))]
    pub tile_cache_mb: u64,
    /// Requests that build a large response (with geometry, feed pages, Open Referral
    /// lists, tiles drawn afresh) served at once; more wait their turn. Each such
    /// response is bounded in bytes, so this bounds the memory they take together.
    #[arg(long, env = "ASSETMAP_MAX_HEAVY_REQUESTS", default_value_t = defaults::MAX_HEAVY_REQUESTS,
          value_parser = count(1, 1024))]
    pub max_heavy_requests: usize,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The file (GeoJSON FeatureCollection, WGS84; CSV; ORUK JSON), or for `--format
    /// oruk` the feed's address (`https://council.example/api/v3`).
    pub file: PathBuf,
    /// What the file is.
    #[arg(long, value_enum, default_value_t)]
    pub format: ImportFormat,
    /// A JSON mapping file: for GeoJSON and CSV, how the publisher's properties become
    /// an asset (name, kind, categories, weekday hours, accessibility, cost; see
    /// `data/gm/mappings/`); for ORUK, the feed's taxonomy terms to kinds and
    /// categories.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// ORUK: the name the feed's service ids are kept under, so that importing it again
    /// (from a file or its address) updates instead of duplicating (default: the
    /// address, or `oruk:file` for a file).
    #[arg(long)]
    pub source: Option<String>,
    /// CSV: the longitude column (default: longitude, lon, lng, long).
    #[arg(long)]
    pub lon_column: Option<String>,
    /// CSV: the latitude column (default: latitude, lat).
    #[arg(long)]
    pub lat_column: Option<String>,
    /// CSV: the postcode column (default: postcode, post_code, pcds), used for rows
    /// without coordinates, through the postcode table (`assetmap postcodes import`).
    #[arg(long)]
    pub postcode_column: Option<String>,
    /// Kind of every feature (e.g. park, food bank as SERVICE); a `kind` property wins.
    #[arg(long)]
    pub kind: Option<String>,
    /// Category slug for every feature; repeat for several.
    #[arg(long = "category")]
    pub categories: Vec<String>,
    /// Property that holds the name (default: name, Name, site_name, title ...).
    #[arg(long)]
    pub name_property: Option<String>,
    /// Property to name a feature by when it has no name (e.g. its type).
    #[arg(long)]
    pub fallback_name_property: Option<String>,
    /// Property that names the organization running each asset (created if new).
    #[arg(long)]
    pub organization_property: Option<String>,
    /// Import nothing if any feature is rejected.
    #[arg(long)]
    pub strict: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Write to this file (replaced whole, only once complete) instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}
