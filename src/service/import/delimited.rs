//! CSV in: each row becomes a GeoJSON Feature whose properties are the row's columns,
//! so the same mapping, flags and report apply as to a GeoJSON file. A row is placed by
//! its longitude and latitude columns, or else by its postcode column through the
//! postcode table; a row whose postcode the table does not hold is reported, never
//! guessed.

use std::io::Read;

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::FeatureReceiver;
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::service::postcodes::{self, Postcode};

/// Header names tried, case-insensitively, for each column.
const LON_COLUMNS: &[&str] = &["longitude", "lon", "lng", "long"];
const LAT_COLUMNS: &[&str] = &["latitude", "lat"];
const POSTCODE_COLUMNS: &[&str] = &["postcode", "post_code", "post code", "pcds"];

/// Which columns place a row; `None` means "find it by the usual names".
#[derive(Clone, Debug, Default)]
pub struct CsvColumns {
    pub lon: Option<String>,
    pub lat: Option<String>,
    pub postcode: Option<String>,
}

struct Placing {
    lon: Option<usize>,
    lat: Option<usize>,
    postcode: Option<usize>,
}

impl Placing {
    fn of(header: &csv::StringRecord, columns: &CsvColumns) -> AppResult<Self> {
        let find = |named: &Option<String>, usual: &[&str]| -> AppResult<Option<usize>> {
            let position = |name: &str| {
                header
                    .iter()
                    .position(|h| h.trim().eq_ignore_ascii_case(name.trim()))
            };
            match named {
                Some(name) => position(name).map(Some).ok_or_else(|| {
                    AppError::invalid("file", format!("the header has no {name:?} column"))
                }),
                None => Ok(usual.iter().find_map(|n| position(n))),
            }
        };
        let placing = Self {
            lon: find(&columns.lon, LON_COLUMNS)?,
            lat: find(&columns.lat, LAT_COLUMNS)?,
            postcode: find(&columns.postcode, POSTCODE_COLUMNS)?,
        };
        let coordinates = placing.lon.is_some() && placing.lat.is_some();
        if !coordinates && placing.postcode.is_none() {
            return Err(AppError::invalid(
                "file",
                "the header has neither longitude and latitude columns nor a postcode column",
            ));
        }
        Ok(placing)
    }
}

/// A row read: its line, its columns as properties, and its point if it has one.
struct Row {
    line: u64,
    properties: Map<String, Value>,
    point: Option<(f64, f64)>,
    postcode: Option<Result<Postcode, String>>,
}

/// Rows resolved per postcode lookup.
const BATCH: usize = 500;

fn read_rows(
    reader: impl Read + Send + 'static,
    columns: &CsvColumns,
    tx: &mpsc::Sender<AppResult<Row>>,
) {
    let fail = |tx: &mpsc::Sender<AppResult<Row>>, e: AppError| {
        let _ = tx.blocking_send(Err(e));
    };
    let (mut csv, header) = match crate::service::tabular::open(reader) {
        Ok(opened) => opened,
        Err(e) => return fail(tx, e),
    };
    let placing = match Placing::of(&header, columns) {
        Ok(p) => p,
        Err(e) => return fail(tx, e),
    };
    let mut record = csv::StringRecord::new();
    loop {
        // where the reader stands before the row, for a row that has no position of its
        // own; a row's own position is the line it starts on (CRLF files included)
        let before = csv.position().line();
        let line = match csv.read_record(&mut record) {
            Ok(false) => return,
            Ok(true) => record.position().map_or(before, csv::Position::line),
            Err(e) => {
                let line = e.position().map_or(before, csv::Position::line);
                return fail(
                    tx,
                    AppError::invalid("file", format!("line {line} is not CSV: {e}")),
                );
            }
        };
        let field = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let mut properties = Map::new();
        for (name, value) in header.iter().zip(record.iter()) {
            let value = value.trim();
            if !value.is_empty() && !name.trim().is_empty() {
                properties.insert(name.trim().to_owned(), Value::String(value.to_owned()));
            }
        }
        let point = match (field(placing.lon), field(placing.lat)) {
            (Some(lon), Some(lat)) => lon.parse().ok().zip(lat.parse().ok()),
            _ => None,
        };
        let postcode = field(placing.postcode).map(|p| {
            Postcode::parse("postcode", p).map_err(|_| format!("{p:?} is not a UK postcode"))
        });
        let row = Row {
            line,
            properties,
            point,
            postcode,
        };
        if tx.blocking_send(Ok(row)).is_err() {
            return;
        }
    }
}

/// The feature for a row placed at `point`, or one that says why it could not be.
fn feature(row: Row, point: Result<(f64, f64), String>) -> Value {
    let mut feature = match point {
        Ok((lon, lat)) => json!({
            "type": "Feature", "line": row.line,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
        }),
        Err(reason) => json!({
            "type": "Feature", "line": row.line, "geometry": null, "unplaced": reason,
        }),
    };
    feature["properties"] = Value::Object(row.properties);
    feature
}

/// Reads a CSV file row by row (on a blocking thread) and sends each row as a Feature,
/// placed by its coordinates or through the postcode table, looked up in batches.
pub fn read_csv(
    db: &Db,
    reader: impl Read + Send + 'static,
    columns: CsvColumns,
) -> FeatureReceiver {
    let (rows_tx, mut rows) = mpsc::channel(BATCH * 2);
    tokio::task::spawn_blocking(move || read_rows(reader, &columns, &rows_tx));
    let (tx, rx) = mpsc::channel(1024);
    let db = db.clone();
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let received = rows.recv_many(&mut batch, BATCH).await;
            if received == 0 {
                return;
            }
            let rows: Vec<Row> = match std::mem::take(&mut batch).into_iter().collect() {
                Ok(rows) => rows,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            let wanted: Vec<Postcode> = rows
                .iter()
                .filter(|r| r.point.is_none())
                .filter_map(|r| r.postcode.as_ref()?.as_ref().ok().cloned())
                .collect();
            let found = match postcodes::lookup(&db.read, &wanted).await {
                Ok(found) => found,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            for row in rows {
                let point = match (&row.point, &row.postcode) {
                    (Some(point), _) => Ok(*point),
                    (None, Some(Ok(postcode))) => found
                        .get(postcode)
                        .map(|at| (at.lon, at.lat))
                        .ok_or_else(|| format!("unknown postcode {}", postcode.display())),
                    (None, Some(Err(reason))) => Err(reason.clone()),
                    (None, None) => Err("the row has neither coordinates nor a postcode".into()),
                };
                if tx.send(Ok(feature(row, point))).await.is_err() {
                    return;
                }
            }
        }
    });
    rx
}
