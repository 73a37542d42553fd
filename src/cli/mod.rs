//! The commands behind `assetmap serve | migrate | import | export`.

use std::io::Write;

use std::time::Duration;

use anyhow::Context;
use axum::http::HeaderValue;
use indicatif::{ProgressBar, ProgressStyle};

use crate::app::{App, AppConfig, connect_and_migrate};
use crate::auth::Role;
use crate::config::{
    DbArgs, ExportArgs, ImportArgs, ImportFormat, PostcodesCommand, ServeArgs, TokenCommand,
};
use crate::domain::AssetKind;
use crate::domain::kind::parse_kind;
use crate::error::During;
use crate::http::{FeedConfig, HttpConfig, LiveConfig};
use crate::service;
use crate::service::import::{ImportOptions, ImportReport};

pub async fn serve(db: &DbArgs, serve: &ServeArgs) -> anyhow::Result<()> {
    let cors_origins = serve
        .cors_origins
        .iter()
        .map(|o| {
            HeaderValue::from_str(o.trim())
                .with_context(|| format!("{o:?} is not a valid CORS origin"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if let Some(style) = &serve.basemap_style
        && !matches!(style.scheme(), "http" | "https")
    {
        anyhow::bail!("--basemap-style must be an http or https address, not {style}");
    }
    let jwt = match &serve.jwt_key {
        None => None,
        Some(path) => {
            let key = std::fs::read(path)
                .with_context(|| format!("reading the JWT key {}", path.display()))?;
            let verifier = crate::jwt::JwtVerifier::new(
                &serve.jwt_algorithm,
                &key,
                serve.jwt_issuer.as_deref(),
                serve.jwt_audience.as_deref(),
            )
            .with_context(|| format!("the JWT key {}", path.display()))?;
            Some(std::sync::Arc::new(verifier))
        }
    };
    let app = App::build(&AppConfig {
        database_url: db.database_url.clone(),
        db_max_connections: db.db_max_connections,
        bind: serve.bind,
        demo_data: serve.demo_data,
        introspection: serve.introspection,
        shortlist_days: serve.shortlist_days,
        change_retention_days: serve.change_retention_days,
        subscriber_buffer: serve.subscriber_buffer,
        // at most 4 096 MB (the flag's range)
        subscriber_buffer_bytes: serve.subscriber_buffer_mb.saturating_mul(1024 * 1024),
        http: HttpConfig {
            max_body_bytes: serve.max_body_bytes,
            request_timeout: Duration::from_secs(serve.request_timeout_secs),
            header_read_timeout: Duration::from_secs(serve.header_read_timeout_secs),
            write_stall_timeout: Duration::from_secs(serve.write_timeout_secs),
            rate_limit_per_second: serve.rate_limit_per_second,
            rate_limit_burst: serve.rate_limit_burst,
            cors_origins,
            jwt,
            basemap_style: serve.basemap_style.as_ref().map(ToString::to_string),
            tile_cache_bytes: serve.tile_cache_mb.saturating_mul(1024 * 1024),
            heavy_requests: serve.max_heavy_requests,
            live: LiveConfig {
                max_connections: serve.max_live_connections,
                max_subscriptions: serve.max_subscriptions_per_connection,
                idle_timeout: Duration::from_secs(serve.live_idle_timeout_secs),
                send_timeout: Duration::from_secs(serve.live_send_timeout_secs),
                ..LiveConfig::default()
            },
            feed: FeedConfig {
                public_url: serve.public_url.as_ref().map(ToString::to_string),
                license: serve.data_license.clone(),
            },
        },
    })
    .await?;
    let addr = app.local_addr()?;
    tracing::info!(http.addr = %addr, "listening: the map at http://{addr}/ , GraphiQL at http://{addr}/graphiql , API at POST http://{addr}/graphql");
    app.run_until(shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

pub async fn migrate(db: &DbArgs) -> anyhow::Result<()> {
    connect_and_migrate(&db.database_url, 2).await?;
    eprintln!("migrations are up to date");
    Ok(())
}

pub async fn import(db: &DbArgs, args: &ImportArgs) -> anyhow::Result<()> {
    let mut options = import_options(args)?;
    let db = connect_and_migrate(&db.database_url, 2).await?;
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    let features = match args.format {
        ImportFormat::Geojson | ImportFormat::Csv => {
            let file = std::fs::File::open(&args.file)
                .with_context(|| format!("opening {}", args.file.display()))?;
            bar.set_length(file.metadata().map_or(0, |m| m.len()));
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} importing [{bar:40}] {bytes}/{total_bytes} {msg} ({eta} left)",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            let reader = bar.wrap_read(file);
            if args.format == ImportFormat::Csv {
                let columns = service::import::CsvColumns {
                    lon: args.lon_column.clone(),
                    lat: args.lat_column.clone(),
                    postcode: args.postcode_column.clone(),
                };
                service::import::read_csv(&db, reader, columns)
            } else {
                service::import::read_features(reader)
            }
        }
        ImportFormat::Oruk => oruk_features(&db, args, &mut options, &bar)?,
    };
    let report = service::import::import_stream(&db, features, &options, &|n| {
        if n % 100 == 0 {
            bar.set_message(format!("{n} records"));
        }
    })
    .await
    .during("import failed, nothing was imported")?;
    bar.finish_and_clear();

    print_report(&report, args.strict)
}

/// The import's options: the `--mapping` file's, with the command line's own flags
/// added to (or overriding) them.
fn import_options(args: &ImportArgs) -> anyhow::Result<ImportOptions> {
    let kind = args
        .kind
        .as_deref()
        .map(|k| {
            parse_kind(k).with_context(|| {
                let all: Vec<&str> = AssetKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown kind {k:?}; one of {}", all.join(", "))
            })
        })
        .transpose()?;
    let mut options = source_mapping(args)?;
    options.kind = kind.or(options.kind);
    options.categories.extend(args.categories.iter().cloned());
    options.name_property = args.name_property.clone().or(options.name_property);
    options.fallback_name_property = args
        .fallback_name_property
        .clone()
        .or(options.fallback_name_property);
    options.organization_property = args
        .organization_property
        .clone()
        .or(options.organization_property);
    options.strict = args.strict;
    Ok(options)
}

/// A GeoJSON or CSV import's options from its `--mapping` file, if it has one (an
/// Open Referral import's mapping is read with the feed).
fn source_mapping(args: &ImportArgs) -> anyhow::Result<ImportOptions> {
    let (Some(path), ImportFormat::Geojson | ImportFormat::Csv) = (&args.mapping, args.format)
    else {
        return Ok(ImportOptions::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mapping = service::import::SourceMapping::parse(&text)
        .map_err(anyhow::Error::from)
        .with_context(|| path.display().to_string())?;
    let (mut options, reshape) = mapping.into_options();
    options.reshape = Some(std::sync::Arc::new(reshape));
    Ok(options)
}

/// The features of an Open Referral feed (a file, or an API's address), with the
/// options' source set so a second import of the feed updates what the first made.
fn oruk_features(
    db: &crate::db::Db,
    args: &ImportArgs,
    options: &mut ImportOptions,
    bar: &ProgressBar,
) -> anyhow::Result<service::import::FeatureReceiver> {
    let mapping = match &args.mapping {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            service::import::TermMapping::parse(&text)
                .map_err(anyhow::Error::from)
                .with_context(|| path.display().to_string())?
        }
        None => service::import::TermMapping::parse("{}").map_err(anyhow::Error::from)?,
    };
    let text = args.file.to_string_lossy();
    let source = if text.starts_with("http://") || text.starts_with("https://") {
        let mut url =
            url::Url::parse(&text).with_context(|| format!("{text} is not an address"))?;
        url.set_query(None);
        options.source = Some(args.source.clone().unwrap_or_else(|| format!("oruk:{url}")));
        service::import::FeedSource::Url(url)
    } else {
        let size = std::fs::metadata(&args.file)
            .with_context(|| format!("opening {}", args.file.display()))?
            .len();
        if size > service::import::MAX_FEED_BYTES as u64 {
            anyhow::bail!(
                "{} is larger than 50 MB: not an Open Referral page",
                args.file.display()
            );
        }
        let bytes = std::fs::read(&args.file)
            .with_context(|| format!("reading {}", args.file.display()))?;
        options.source = Some(
            args.source
                .clone()
                .unwrap_or_else(|| "oruk:file".to_owned()),
        );
        service::import::FeedSource::File(bytes)
    };
    options.organization_property = options
        .organization_property
        .take()
        .or_else(|| Some("organization".to_owned()));
    bar.set_style(
        ProgressStyle::with_template("{spinner} importing {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    Ok(service::import::read_oruk(db, source, mapping))
}

/// `assetmap postcodes import FILE`.
pub async fn postcodes(db: &DbArgs, command: &PostcodesCommand) -> anyhow::Result<()> {
    let PostcodesCommand::Import(args) = command;
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let size = file.metadata().map_or(0, |m| m.len());
    let db = connect_and_migrate(&db.database_url, 2).await?;
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(size)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} loading postcodes [{bar:40}] {bytes}/{total_bytes} {msg} ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let reader = bar.wrap_read(file);
    let counter = bar.clone();
    let report = service::postcodes::import(&db, reader, move |n| {
        counter.set_message(format!("{n} rows"));
    })
    .await
    .during("loading failed, nothing was loaded")?;
    bar.finish_and_clear();
    let mut err = std::io::stderr().lock();
    for b in &report.broken {
        writeln!(err, "line {}: {}", b.line, b.reason)?;
    }
    if report.broken_count > report.broken.len() as u64 {
        writeln!(
            err,
            "... and {} more broken rows",
            report.broken_count - report.broken.len() as u64
        )?;
    }
    writeln!(
        err,
        "loaded {} postcodes from {} rows ({} terminated, {} without coordinates, {} broken)",
        report.loaded,
        report.rows,
        report.terminated,
        report.without_coordinates,
        report.broken_count
    )?;
    Ok(())
}

fn print_report(report: &ImportReport, strict: bool) -> anyhow::Result<()> {
    let mut err = std::io::stderr().lock();
    for r in &report.rejected {
        let at = r.line.map_or_else(
            || format!("feature {}", r.index),
            |line| format!("line {line}"),
        );
        writeln!(
            err,
            "rejected {at}{}: {}",
            r.name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
            r.reason
        )?;
    }
    for r in &report.left_out {
        let at = r.line.map_or_else(
            || format!("feature {}", r.index),
            |line| format!("line {line}"),
        );
        writeln!(
            err,
            "imported {at}{} without a field: {}",
            r.name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
            r.reason
        )?;
    }
    if strict && !report.rejected.is_empty() {
        anyhow::bail!(
            "{} of {} features rejected; --strict: nothing was imported",
            report.rejected.len(),
            report.total
        );
    }
    writeln!(
        err,
        "imported {} of {} features ({} rejected, {} with a field left out, {} organizations created)",
        report.imported,
        report.total,
        report.rejected.len(),
        report
            .left_out
            .iter()
            .map(|r| r.index)
            .collect::<std::collections::HashSet<_>>()
            .len(),
        report.organizations_created
    )?;
    if report.updated + report.unchanged > 0 {
        writeln!(
            err,
            "of the feed's records seen before: {} updated, {} unchanged",
            report.updated, report.unchanged
        )?;
    }
    Ok(())
}

pub async fn export(db: &DbArgs, args: &ExportArgs) -> anyhow::Result<()> {
    let db = connect_and_migrate(&db.database_url, 2).await?;
    match &args.output {
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let n = service::export::export(&db, &mut out)
                .await
                .during("export failed")?;
            drop(out);
            eprintln!("exported {n} assets");
        }
        Some(path) => {
            let n = export_to(&db, path).await?;
            eprintln!("exported {n} assets to {}", path.display());
        }
    }
    Ok(())
}

/// Writes the export to `path`. A file (or a new one) is written beside itself and then
/// renamed into place, so readers never see half of it; through a symbolic link, the file
/// it names is replaced and the link stays. Anything else (a pipe, `/dev/null`, a
/// terminal) is written to as it is: renaming over it would replace a device with a file.
async fn export_to(db: &crate::db::Db, path: &std::path::Path) -> anyhow::Result<u64> {
    let export = |sink: std::fs::File| async {
        let mut out = std::io::BufWriter::new(sink);
        let n = service::export::export(db, &mut out)
            .await
            .during("export failed")?;
        let file = out
            .into_inner()
            .map_err(|e| anyhow::anyhow!("writing export: {e}"))?;
        anyhow::Ok((n, file))
    };
    let target = match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => {
            let sink = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("opening {}", path.display()))?;
            return Ok(export(sink).await?.0);
        }
        Ok(_) => {
            std::fs::canonicalize(path).with_context(|| format!("resolving {}", path.display()))?
        }
        Err(_) => path.to_path_buf(),
    };
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let tmp = tempfile_in(dir)?;
    let written = export(tmp.1).await;
    let (n, file) = match written {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp.0);
            return Err(e);
        }
    };
    file.sync_all()?;
    std::fs::rename(&tmp.0, &target)
        .with_context(|| format!("moving the export to {}", path.display()))?;
    Ok(n)
}

fn tempfile_in(dir: &std::path::Path) -> anyhow::Result<(std::path::PathBuf, std::fs::File)> {
    let path = dir.join(format!(".assetmap-export-{}.tmp", uuid::Uuid::now_v7()));
    let file =
        std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    Ok((path, file))
}

pub async fn token(db: &DbArgs, command: &TokenCommand) -> anyhow::Result<()> {
    let db = connect_and_migrate(&db.database_url, 2).await?;
    let fail = anyhow::Error::from;
    match command {
        TokenCommand::Create(args) => {
            let role = Role::from_stored(&args.role).with_context(|| {
                format!(
                    "{:?} is not a role: link_worker, editor, moderator or admin",
                    args.role
                )
            })?;
            let issued = service::tokens::create(&db, &args.name, role, &args.organizations)
                .await
                .map_err(fail)?;
            eprintln!(
                "issued {} token {} for {:?}{}; the secret below is shown once and never stored:",
                role.as_str(),
                issued.token.id,
                issued.token.name,
                if issued.organizations.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", acting for {}",
                        issued
                            .organizations
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            );
            println!("{}", issued.secret);
        }
        TokenCommand::List => {
            let mut out = std::io::stdout().lock();
            for (token, orgs) in service::tokens::list(&db).await.map_err(fail)? {
                let state = token.revoked_at.map_or_else(
                    || "active".to_owned(),
                    |at| format!("revoked {}", at.to_rfc3339()),
                );
                let orgs = orgs
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    token.id,
                    token.role.as_str(),
                    state,
                    token.name,
                    orgs
                )?;
            }
        }
        TokenCommand::Revoke { id } => {
            let token = service::tokens::revoke(&db, *id).await.map_err(fail)?;
            eprintln!("revoked token {} ({:?})", token.id, token.name);
        }
    }
    Ok(())
}
